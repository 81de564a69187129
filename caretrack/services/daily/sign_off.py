"""The college's daily sign-off, stage by stage.

The first stage is the counsellors' reports; the stage after it approves or returns each of
them (the board, :mod:`.reports`) and, once all are approved, passes the college's report on
with a snapshot of it: the totals, the changes and the unconfirmed students. Each later stage
signs exactly that snapshot: it passes it on, or returns it to the stage before (which is
re-opened and notified). A stage that passed on is locked; every step is kept with its
lateness and audited; a step taken on an old page is refused (409). When the last stage
approves, the report goes to the university office at once.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from flask import current_app
from sqlalchemy import select

from caretrack.access import signing_stages, signs_stage
from caretrack.extensions import db
from caretrack.models import (
    STAGE_ROLES,
    College,
    CollegeSignOff,
    SignOffStep,
    Stage,
    User,
)
from caretrack.services.audit import record_event
from caretrack.services.clock import local_datetime
from caretrack.services.errors import RuleError

#: How many unconfirmed students a snapshot names (the counts are always whole).
SNAPSHOT_STUDENTS = 2000


@dataclass
class StageView:
    """One stage of a day's chain as the page shows it."""

    stage: str
    role: str
    deadline: datetime
    #: "done" (passed on), "open" (its turn) or "waiting".
    state: str
    passed: SignOffStep | None
    late: bool


@dataclass
class Chain:
    college: College
    day: date
    sign_off: CollegeSignOff | None
    stages: list[StageView]

    @property
    def current(self) -> str:
        """The stage whose turn it is (the first signing stage before anyone acted)."""
        return self.sign_off.stage if self.sign_off else signing_stages(self.college)[0]

    @property
    def version(self) -> int:
        """The version a step must name (0 before the first step)."""
        return self.sign_off.version_id if self.sign_off else 0

    @property
    def done(self) -> bool:
        return self.current == Stage.DONE

    @property
    def snapshot(self) -> dict | None:
        """What the current stage signs: the last snapshot passed on, if any."""
        return last_snapshot(self.sign_off)

    def returned(self) -> SignOffStep | None:
        """The last step, when it returned the report to the current stage."""
        if self.sign_off and self.sign_off.steps and self.sign_off.steps[-1].action == "return":
            return self.sign_off.steps[-1]
        return None


def stage_deadline(college: College, stage: str, day: date) -> datetime:
    """The instant of ``stage``'s deadline on ``day`` (college time)."""
    for entry in college.stages or _default():
        if entry["stage"] == stage:
            return local_datetime(day, time.fromisoformat(entry["deadline"]))
    raise ValueError(f"{college.code} has no stage {stage!r}")


def _default():
    from caretrack.models import DEFAULT_STAGES

    return DEFAULT_STAGES


def get_sign_off(college: College, day: date) -> CollegeSignOff | None:
    return db.session.scalars(select(CollegeSignOff).where(
        CollegeSignOff.college_id == college.id, CollegeSignOff.day == day)).one_or_none()


def last_snapshot(sign_off: CollegeSignOff | None) -> dict | None:
    """The snapshot of the last "pass" still standing (a return drops the one it returned)."""
    if sign_off is None:
        return None
    passes: list[SignOffStep] = []
    for step in sign_off.steps:
        if step.action == "pass":
            passes.append(step)
        elif passes:
            passes.pop()
    return passes[-1].snapshot if passes else None


def chain(college: College, day: date, now: datetime) -> Chain:
    """The day's chain of ``college``: each signing stage, its deadline, whether it passed on
    (and when, late or not), whose turn it is (two queries)."""
    sign_off = get_sign_off(college, day)
    stages = signing_stages(college)
    current = sign_off.stage if sign_off else stages[0]
    position = len(stages) if current == Stage.DONE else stages.index(current)
    last_pass = {}
    for step in sign_off.steps if sign_off else []:
        if step.action == "pass":
            last_pass[step.stage] = step
    views = []
    for i, stage in enumerate(stages):
        deadline = stage_deadline(college, stage, day)
        state = "done" if i < position else "open" if i == position else "waiting"
        passed = last_pass.get(stage) if state == "done" else None
        late = passed.late if passed else state == "open" and now > deadline
        views.append(StageView(stage, STAGE_ROLES[Stage(stage)], deadline, state, passed, late))
    return Chain(college, day, sign_off, views)


def _snapshot(college: College, day: date, now: datetime) -> dict:
    """The college's report of ``day`` as the first signing stage passes it on.

    :raise RuleError: "not-ready" until every counsellor's report is approved.
    """
    from caretrack.access import in_college
    from caretrack.services.daily import carried
    from caretrack.services.daily.college import changes_for, location_text
    from caretrack.services.daily.reports import board

    result = board(day, now, college)
    if not result.ready:
        raise RuleError("not-ready")
    t = result.totals
    missing = db.session.scalars(
        carried.board_query(in_college(college), day, "missing").limit(SNAPSHOT_STUDENTS)).all()
    return {
        "totals": {"students": t.students, "confirmed": t.confirmed, "unconfirmed": t.missing,
                   "changes": t.changes, "hubei": t.hubei, "beijing": t.beijing,
                   "elsewhere": t.elsewhere, "on_campus": t.on_campus, "health": t.health,
                   "after_approval": t.after_approval},
        "reports": [{"counsellor": r.counsellor.display_name, "students": r.totals.students,
                     "changes": r.report.changes_count, "zero": r.report.is_zero,
                     "late": r.report.late, "unconfirmed": r.totals.missing}
                    for r in result.rows],
        "changes": [{"number": c.student_number, "name": c.name, "class": c.class_name,
                     "counsellor": c.counsellor, "before": location_text(c.before),
                     "after": location_text(c.after), "health_before": c.before.health,
                     "health_after": c.after.health}
                    for c in changes_for(day, college)],
        "unconfirmed": [{"number": s.student_number, "name": s.name, "class": s.class_name,
                         "counsellor": s.counsellor.display_name} for s in missing],
    }


def _check_turn(user: User, college: College, day: date, version: int
                ) -> tuple[CollegeSignOff | None, str]:
    sign_off = get_sign_off(college, day)
    current = sign_off.stage if sign_off else signing_stages(college)[0]
    if (sign_off.version_id if sign_off else 0) != version:
        raise RuleError("sign-off-stale", conflict=True)
    if current == Stage.DONE or not signs_stage(user, current):
        raise RuleError("sign-off-not-your-stage")
    return sign_off, current


def _flush() -> None:
    """Flush a step; a step someone else took meanwhile (the day's first, or a newer
    version) is a stale step.

    :raise RuleError: "sign-off-stale" (409).
    """
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    try:
        db.session.flush()
    except (IntegrityError, StaleDataError) as exc:
        raise RuleError("sign-off-stale", conflict=True) from exc


def _notify_stage(college: College, stage: str, kind: str, now: datetime) -> None:
    from caretrack.access import accounts_with_role
    from caretrack.services.notifications import notify

    role = STAGE_ROLES[Stage(stage)]
    for user_id in db.session.scalars(select(User.id).where(accounts_with_role(role, college))):
        notify(user_id, kind, now=now)


def pass_on(user: User, day: date, now: datetime, *, version: int, comment: str = "",
            ip: str = "") -> CollegeSignOff:
    """The user's stage approves the day's report of their college and passes it on (the
    first signing stage: with a snapshot of the board, once every counsellor's report is
    approved; a later stage: exactly the snapshot passed to it). The last stage sends it to
    the university office.

    :raise RuleError: "sign-off-stale" (409) when the chain moved since ``version``,
        "sign-off-not-your-stage", "not-ready".
    """
    college = user.college
    sign_off, current = _check_turn(user, college, day, version)
    stages = signing_stages(college)
    if sign_off is None or current == stages[0]:
        snapshot = _snapshot(college, day, now)
    else:
        snapshot = last_snapshot(sign_off)
    if sign_off is None:
        sign_off = CollegeSignOff(college_id=college.id, day=day, stage=current)
        db.session.add(sign_off)
    after = stages.index(current) + 1
    following = stages[after] if after < len(stages) else Stage.DONE.value
    step = SignOffStep(stage=current, action="pass", by_id=user.id, at=now,
                       late=now > stage_deadline(college, current, day),
                       comment=(comment or "").strip()[:2000], snapshot=snapshot)
    sign_off.steps.append(step)
    sign_off.stage = following
    _flush()
    record_event("sign_off.pass", user, now=now, ip=ip,
                 detail=f"college:{college.code} day:{day.isoformat()} stage:{current}"
                        f"{' late' if step.late else ''}")
    if following == Stage.DONE:
        sign_off.sent_at = now
        send_to_university_office(college, day, snapshot, now)
    else:
        _notify_stage(college, following, "sign_off.turn", now)
    return sign_off


def return_to_previous(user: User, day: date, now: datetime, *, version: int, comment: str,
                       ip: str = "") -> CollegeSignOff:
    """The user's stage returns the day's report to the stage before it, saying why: that
    stage is re-opened and notified. The first signing stage returns a counsellor's report
    on the board instead.

    :raise RuleError: "sign-off-stale" (409), "sign-off-not-your-stage", "comment-required",
        "sign-off-first-stage".
    """
    college = user.college
    sign_off, current = _check_turn(user, college, day, version)
    stages = signing_stages(college)
    if sign_off is None or current == stages[0]:
        raise RuleError("sign-off-first-stage")
    comment = (comment or "").strip()[:2000]
    if not comment:
        raise RuleError("comment-required", "comment")
    previous = stages[stages.index(current) - 1]
    sign_off.steps.append(SignOffStep(
        stage=current, action="return", by_id=user.id, at=now,
        late=now > stage_deadline(college, current, day), comment=comment))
    sign_off.stage = previous
    _flush()
    record_event("sign_off.return", user, now=now, ip=ip,
                 detail=f"college:{college.code} day:{day.isoformat()} stage:{current} "
                        f"to:{previous}")
    _notify_stage(college, previous, "sign_off.returned", now)
    return sign_off


def locks_reports(college: College, day: date) -> bool:
    """Whether the counsellors' reports of ``day`` are locked: the first signing stage passed
    the college's report on (and it was not returned to that stage since)."""
    sign_off = get_sign_off(college, day)
    return sign_off is not None and sign_off.stage != signing_stages(college)[0]


def send_to_university_office(college: College, day: date, snapshot: dict,
                              now: datetime) -> list[str]:
    """E-mail the college's signed report of ``day`` to the university office's addresses
    (UNIVERSITY_OFFICE_RECIPIENTS), each once; return who got it now."""
    from flask_babel import gettext as _

    from caretrack.services.mail import build_message, send_once

    t = snapshot["totals"]
    subject = _("%(college)s: students' daily status, %(day)s, signed off",
                college=college.name_zh, day=day.isoformat())
    body = _("%(college)s signed off its report of %(day)s. Students: %(students)d; in Hubei: "
             "%(hubei)d; on campus: %(on_campus)d; changes: %(changes)d; unconfirmed: "
             "%(unconfirmed)d.", college=college.name_zh, day=day.isoformat(), **{
                 k: t[k] for k in ("students", "hubei", "on_campus", "changes", "unconfirmed")})
    sent = []
    for address in current_app.config.get("UNIVERSITY_OFFICE_RECIPIENTS", []):
        if send_once(f"sign-off:{college.code}:{day.isoformat()}:{address}",
                     build_message(address, subject, body + "\n")):
            sent.append(address)
    return sent
