"""The university office's view of a day: each college's sign-off (the stage reached, on
time or late) and its students' numbers, the lists behind them, and the university report
(XLSX) once every college's last stage approved."""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import defer, selectinload

from caretrack.access import current_records, signing_stages
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import Health, RiskArea, Role, Stage, Student, User
from caretrack.models.college import College
from caretrack.models.sign_off import CollegeSignOff, SignOffStep
from caretrack.services.clock import local_datetime
from caretrack.services.daily import tallies
from caretrack.services.daily.carried import ABNORMAL, ISOLATED, Carried, _counted, board_query
from caretrack.services.daily.sign_off import stage_deadline
from caretrack.services.daily.values import HUBEI, Totals
from caretrack.services.errors import RuleError

#: The board's numbers, in order: (key of the students' list, heading).
NUMBERS = ("students", "hubei", "risk_area", "fever", "abnormal", "isolated", "on_campus",
           "missing", "changes")


@dataclass
class CollegeRow:
    college: College
    sign_off: CollegeSignOff | None
    #: The stage whose turn it is (``done`` once sent).
    stage: str
    late: bool
    numbers: dict[str, int] = field(default_factory=dict)
    #: Not signed off when the university's deadline passed.
    overdue: bool = False

    @property
    def done(self) -> bool:
        return self.stage == Stage.DONE


@dataclass
class OfficeBoard:
    day: date
    deadline: datetime
    rows: list[CollegeRow]
    totals: dict[str, int]

    @property
    def ready(self) -> bool:
        """Whether every college's last stage approved the day's report."""
        return bool(self.rows) and all(r.done for r in self.rows)


def university_deadline(day: date) -> datetime:
    return local_datetime(day, time.fromisoformat(current_app.config["UNIVERSITY_DEADLINE"]))


def _numbers_of(totals: Totals, risk_area: int) -> dict[str, int]:
    return {"students": totals.students, "hubei": totals.hubei, "risk_area": risk_area,
            "fever": totals.health.get(Health.FEVER.value, 0),
            "abnormal": sum(totals.health.get(h, 0) for h in ABNORMAL),
            "isolated": sum(totals.health.get(h, 0) for h in ISOLATED),
            "on_campus": totals.on_campus, "missing": totals.missing,
            "changes": totals.changes}


def _risk_areas_beyond_hubei(day: date) -> bool:
    """Whether an area outside Hubei is on the risk-area list on ``day`` (one query)."""
    return db.session.scalar(select(RiskArea.id).where(
        RiskArea.from_date <= day, or_(RiskArea.to_date.is_(None), RiskArea.to_date >= day),
        RiskArea.province.not_in(HUBEI)).limit(1)) is not None


def _risk_area_by_college(day: date) -> dict[int, int]:
    """Each college's students in Hubei or a listed risk area on ``day``, counted over every
    student's carried status (one query)."""
    carried = Carried(day)
    query = carried.join(select(Student.college_id, _counted(carried.in_risk_area))).where(
        current_records()).group_by(Student.college_id)
    return {college_id: int(n) for college_id, n in db.session.execute(query)}


def numbers_by_college(day: date, now: datetime) -> dict[int, dict[str, int]]:
    """Each college's numbers of ``day`` (see :data:`NUMBERS`) from its counsellors' kept
    numbers (:mod:`.tallies`: one row per counsellor, as the college's board reads them; a
    past day's numbers kept by a purge of its statuses, once they were purged): three
    queries whatever the number of colleges and students. In a risk area counts Hubei, and
    only while an area outside Hubei is on the list are the students counted for it (one
    query more)."""
    from caretrack.services.clock import local_today
    from caretrack.services.retention import kept_day_totals

    kept = kept_day_totals(day) if day < local_today(now) else None
    per_counsellor = kept if kept is not None else tallies.day_totals(day)
    college_of = dict(db.session.execute(
        select(User.id, User.college_id).where(User.id.in_(per_counsellor)))
        .all()) if per_counsellor else {}
    by_college: dict[int, Totals] = {}
    for counsellor_id, totals in per_counsellor.items():
        college_id = college_of.get(counsellor_id)
        if college_id is not None:
            by_college.setdefault(college_id, Totals()).add(totals)
    risk_area = _risk_area_by_college(day) if _risk_areas_beyond_hubei(day) else None
    return {college_id: _numbers_of(totals, totals.hubei if risk_area is None
                                    else risk_area.get(college_id, 0))
            for college_id, totals in by_college.items()}


def office_board(day: date, now: datetime) -> OfficeBoard:
    """Every college's sign-off of ``day`` and its numbers (four queries, whatever the number
    of colleges and students)."""
    colleges = db.session.scalars(select(College).order_by(College.code)).all()
    sign_offs = {s.college_id: s for s in db.session.scalars(
        select(CollegeSignOff).where(CollegeSignOff.day == day)
        .options(selectinload(CollegeSignOff.steps).options(defer(SignOffStep.snapshot))))}
    numbers = numbers_by_college(day, now)
    deadline = university_deadline(day)
    rows, totals = [], dict.fromkeys(NUMBERS, 0)
    for college in colleges:
        sign_off = sign_offs.get(college.id)
        stage = sign_off.stage if sign_off else signing_stages(college)[0]
        late = any(s.late for s in sign_off.steps) if sign_off else False
        if stage != Stage.DONE and now > stage_deadline(college, stage, day):
            late = True
        mine = numbers.get(college.id, dict.fromkeys(NUMBERS, 0))
        for key in NUMBERS:
            totals[key] += mine[key]
        rows.append(CollegeRow(college, sign_off, stage, late, mine,
                               overdue=stage != Stage.DONE and now > deadline))
    return OfficeBoard(day, deadline, rows, totals)


def office_students(day: date, what: str, college_id: int | None):
    """A query of the students of one of the board's numbers (``what``), of one college or of
    all, with their college, in college, class and number order.

    :raise KeyError: for an unknown list.
    """
    if what not in NUMBERS:
        raise KeyError(what)
    condition = current_records() if college_id is None else and_(
        Student.college_id == college_id, current_records())
    return board_query(condition, day, what).order_by(None).order_by(
        Student.college_id, Student.class_name, Student.student_number)


def university_report_sheets(day: date, now: datetime) -> list[tuple]:
    """The university report's sheets: a row per college, the abnormal students (abnormal
    health, in Hubei or a risk area), each college's sign-off record.

    :raise RuleError: "university-not-ready" until every college's last stage approved.
    """
    board = office_board(day, now)
    if not board.ready:
        raise RuleError("university-not-ready")
    headings = [_("Students"), _("In Hubei"), _("In a risk area"), label("health", "fever"),
                _("Abnormal health"), _("Isolated"), _("On campus"), _("Unconfirmed"),
                _("Changes")]
    colleges = [[r.college.name_zh, r.college.code, *[r.numbers[k] for k in NUMBERS],
                 _local(r.sign_off.sent_at)] for r in board.rows]
    colleges.append([_("The university"), "", *[board.totals[k] for k in NUMBERS], ""])
    names = {c.id: c.name_zh for c in (r.college for r in board.rows)}
    health_labels = {h.value: label("health", h.value) for h in Health}
    # The students of concern with their carried statuses, in one query.
    carried = Carried(day)
    concern = carried.join(select(
        *carried.columns(), Student.college_id, Student.class_name, Student.name,
    )).where(current_records(), carried.of_concern).order_by(
        Student.college_id, Student.class_name, Student.student_number)
    abnormal = []
    for row in db.session.execute(concern):
        values = carried.status_of(row).values
        college_id, class_name, name = row[-3:]
        abnormal.append([names.get(college_id, ""), class_name, name,
                         f"{values.province} {values.city}".strip(),
                         health_labels.get(values.health) or label("health", values.health)])
    steps = db.session.execute(
        select(College.name_zh, SignOffStep, User.display_name)
        .join(CollegeSignOff, CollegeSignOff.id == SignOffStep.sign_off_id)
        .join(College, College.id == CollegeSignOff.college_id)
        .join(User, User.id == SignOffStep.by_id)
        .where(CollegeSignOff.day == day).order_by(College.code, SignOffStep.id)
        .options(defer(SignOffStep.snapshot))).all()  # what each step passed on: not needed
    record = [[name, label("stage", step.stage),
               _("passed on") if step.action == "pass" else _("returned"), who,
               _local(step.at), _("Yes") if step.late else _("No"), step.comment]
              for name, step, who in steps]
    return [
        (_("Colleges"), [_("College"), _("Code"), *headings, _("Sent at")], colleges,
         [16, 8, 10, 10, 10, 10, 10, 10, 10, 10, 10, 18]),
        (_("Abnormal students"), [_("College"), _("Class"), _("Name"), _("Location"),
                                  _("Health")], abnormal, [16, 18, 12, 16, 12]),
        (_("Sign-off record"), [_("College"), _("Stage"), _("Step"), _("By"), _("At"),
                                _("Late"), _("Comment")], record, [16, 14, 10, 12, 18, 6, 40]),
    ]


def _local(value: datetime | None) -> str:
    from caretrack.services.clock import college_tz

    return value.astimezone(college_tz()).strftime("%Y-%m-%d %H:%M") if value else ""


def university_report_xlsx(day: date, now: datetime) -> bytes:
    """The university report of ``day`` as a workbook (see :func:`university_report_sheets`)."""
    from caretrack.services.spreadsheets import xlsx_bytes

    return xlsx_bytes(university_report_sheets(day, now), freeze_header=True)


def notify_missing_colleges(day: date, now: datetime) -> list[College]:
    """Tell the secretaries of the colleges whose report of ``day`` is not signed off yet;
    return those colleges (none before the university's deadline)."""
    from caretrack.access import accounts_with_role
    from caretrack.services.notifications import notify

    if now <= university_deadline(day):
        return []
    missing = [r.college for r in office_board(day, now).rows if not r.done]
    for college in missing:
        for user_id in db.session.scalars(
                select(User.id).where(accounts_with_role(Role.SECRETARY, college))):
            notify(user_id, "sign_off.missing", now=now)
    return missing


def send_university_report(day: date, now: datetime, recipients: list[str]) -> list[str]:
    """E-mail the university report of ``day`` to each recipient once; return who got it.

    :raise RuleError: "university-not-ready" until every college's last stage approved.
    """
    from caretrack.services.exports import MIMETYPES
    from caretrack.services.mail import build_message, send_once

    attachment = university_report_xlsx(day, now)
    subject = _("The university's students' daily status, %(day)s", day=day.isoformat())
    sent = []
    for address in recipients:
        message = build_message(address, subject, subject + "\n", [
            (f"university-report-{day.isoformat()}.xlsx", attachment, MIMETYPES["xlsx"])])
        if send_once(f"university-report:{day.isoformat()}:{address}", message):
            sent.append(address)
    return sent
