"""Bulk actions on the lists: one action over selected students, or over all those matching a
list's filter, through the same service verbs as the single-student actions.

:func:`plan` says, without writing, which students an action would change and which it would
leave as they are (and why), with a fingerprint of the students matched; :func:`run` checks the
fingerprint again (a set that changed since the preview is a conflict: 409), applies the action
student by student through the single-student verb (so the re-check rules, the timeline entries
and each verb's own audit event are exactly those of N single actions) in the caller's
transaction, and adds ONE audit event ``bulk.<action>`` that lists the students it changed. A
transfer goes through :mod:`caretrack.services.transfers`, which writes one event of its own.

Nothing here reads a request: ids, the user's id and the parameters come in, a dict comes out,
and ``progress(done, total)`` is called after each chunk, so a job queue can run it.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import false, func, select
from sqlalchemy.sql.elements import ColumnElement

from caretrack.access import (
    can_assign_supervisors,
    can_read_cases,
    can_transfer_students,
    current_records,
    is_supervisor_account,
    keeps_caseload,
    same_college,
    sees_whole_college,
    student_filter,
    transfer_filter,
    working_caseload_filter,
)
from caretrack.extensions import db
from caretrack.jobs import JobError, Progress, task
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    ConcernLevel,
    Job,
    Recheck,
    RecheckState,
    Student,
    User,
    now_utc,
)
from caretrack.services import cases, entries, rechecks, review, roster, transfers
from caretrack.services.audit import record_event
from caretrack.services.clock import local_today
from caretrack.services.daily.chase import chase_query
from caretrack.services.errors import DuplicateSubmission, RuleError
from caretrack.services.recheck_lists import RecheckFilters, list_query
from caretrack.services.students import CaseloadFilters, caseload_query

#: Students loaded and changed per round.
CHUNK = 200
#: Above this many students a bulk action is meant to run as a job with a progress bar.
JOB_THRESHOLD = 500


class Action(StrEnum):
    ADD_CATEGORY = "add_category"
    END_CATEGORY = "end_category"
    SCHEDULE_RECHECK = "schedule_recheck"
    LOG_FOLLOW_UP = "log_follow_up"
    FLAG_REVIEW = "flag_review"
    SET_CONCERN = "set_concern"
    EXPORT = "export"
    TRANSFER = "transfer"
    ASSIGN_SUPERVISOR = "assign_supervisor"


#: The actions that record on the students' timelines (their counsellor's, or the cover's).
RECORDING = (Action.ADD_CATEGORY, Action.END_CATEGORY, Action.SCHEDULE_RECHECK,
             Action.LOG_FOLLOW_UP, Action.FLAG_REVIEW, Action.SET_CONCERN)


def may_use(user: User, action: str) -> bool:
    """Whether ``user`` may take ``action`` on a list at all."""
    if action in RECORDING:
        return keeps_caseload(user)
    if action == Action.EXPORT:
        return can_read_cases(user)
    if action == Action.TRANSFER:
        return can_transfer_students(user)
    if action == Action.ASSIGN_SUPERVISOR:
        return can_assign_supervisors(user)
    return False


def actions_for(user: User, source: str) -> list[str]:
    """The actions ``user`` is offered on the list ``source`` (the admin's roster offers only
    roster changes; the case lists no roster change but the transfer)."""
    offered = [Action.TRANSFER, Action.ASSIGN_SUPERVISOR] if source == "roster" else [
        *RECORDING, Action.EXPORT, Action.TRANSFER]
    return [a for a in offered if may_use(user, a)]


def scope(user: User, action: str) -> ColumnElement[bool]:
    """The SQL condition on ``Student`` of the students ``action`` may touch for ``user``: a
    recording action the students whose timelines the user records, an export those the user
    sees, a transfer or a supervisor the roster's."""
    if not may_use(user, action):
        return false()
    if action in RECORDING:
        return working_caseload_filter(user) & current_records()
    if action == Action.EXPORT:
        return student_filter(user)
    if action == Action.TRANSFER:
        return transfer_filter(user)
    return current_records()


def allowed_ids(user: User, action: str, student_ids: Iterable[int]) -> list[int]:
    """The students among ``student_ids`` that ``action`` may touch for ``user``, sorted; any
    other id posted is dropped, whatever it is."""
    ids = sorted({int(i) for i in student_ids})
    found: list[int] = []
    condition = scope(user, action)
    for start in range(0, len(ids), 1000):
        found += db.session.scalars(select(Student.id).where(
            Student.id.in_(ids[start:start + 1000]), condition)).all()
    return sorted(found)


# -- parameters -------------------------------------------------------------------------------


@dataclass
class Params:
    """What the action needs, read and checked once for all the students."""

    reason: str = ""
    category: CareCategory | None = None
    day: date | None = None
    level: str = ""
    to: User | None = None
    channel: str = ""
    reached: bool = True


def _text(params: dict, name: str, *, required: bool, limit: int = 2000) -> str:
    value = (params.get(name) or "").strip()
    if required and not value:
        raise RuleError("no-reason", name)
    return value[:limit]


def _day(params: dict, name: str, default: date) -> date:
    value = params.get(name)
    if isinstance(value, date):
        return value
    if not value:
        return default
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleError("bulk-bad-day", name) from None


def _int(params: dict, name: str) -> int | None:
    value = params.get(name)
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def read_params(action: str, params: dict, today: date, user: User) -> Params:
    """Check the action's parameters (a counsellor or supervisor named must work in
    ``user``'s college).

    :raise RuleError: with the field of the first wrong one.
    """
    read = Params()
    if action in (Action.ADD_CATEGORY, Action.END_CATEGORY):
        category_id = _int(params, "category_id")
        read.category = db.session.get(CareCategory, category_id) if category_id else None
        if read.category is None or not read.category.active:
            raise RuleError("bulk-no-category", "category_id")
        read.reason = _text(params, "reason", required=True)
        read.day = _day(params, "day", today)
    elif action == Action.SCHEDULE_RECHECK:
        read.day = _day(params, "day", today)
        if read.day < today:
            raise RuleError("in-the-past", "day")
        read.reason = _text(params, "reason", required=True, limit=500)
    elif action == Action.LOG_FOLLOW_UP:
        read.channel = params.get("channel") or ""
        if read.channel not in {c.value for c in entries.Channel}:
            raise RuleError("chase-channel", "channel")
        read.reached = str(params.get("reached", "1")) == "1"
        read.reason = _text(params, "reason", required=False)
    elif action == Action.FLAG_REVIEW:
        read.reason = _text(params, "reason", required=True)
    elif action == Action.SET_CONCERN:
        read.level = params.get("level") or ""
        if read.level not in {c.value for c in ConcernLevel}:
            raise RuleError("bulk-no-level", "level")
        read.reason = _text(params, "reason", required=True)
    elif action == Action.TRANSFER:
        to_id = _int(params, "to_id")
        read.to = db.session.get(User, to_id) if to_id else None
        if read.to is None or not keeps_caseload(read.to):
            raise RuleError("transfer-not-counsellor", "to_id")
        if not same_college(user, read.to):
            raise RuleError("counsellor-elsewhere", "to_id")
        read.reason = _text(params, "reason", required=True)
    elif action == Action.ASSIGN_SUPERVISOR:
        to_id = _int(params, "to_id")
        read.to = db.session.get(User, to_id) if to_id else None
        if not is_supervisor_account(read.to):
            raise RuleError("not-a-supervisor", "to_id")
        if not same_college(user, read.to):
            raise RuleError("supervisor-elsewhere", "to_id")
    return read


# -- what would change ------------------------------------------------------------------------


@dataclass
class Plan:
    """What an action would do to the students matched; nothing of it is written."""

    action: str
    #: The students the user may touch among those selected, sorted.
    student_ids: list[int] = field(default_factory=list)
    #: Those the action would change.
    changing: list[int] = field(default_factory=list)
    #: Rule code -> how many students are left as they are for that reason.
    skipped: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""
    #: For a transfer: what moves with the students.
    transfer: transfers.TransferPreview | None = None
    #: For a follow-up: the open re-checks due by today that it completes.
    rechecks_due: int = 0

    @property
    def students(self) -> int:
        return len(self.student_ids)


def _held(student_ids: list[int], category_id: int) -> dict[int, CategoryAssignment]:
    return {a.student_id: a for a in db.session.scalars(select(CategoryAssignment).where(
        CategoryAssignment.student_id.in_(student_ids),
        CategoryAssignment.category_id == category_id,
        CategoryAssignment.ended_on.is_(None)))}


def _skip_reason(action: str, student: Student, read: Params,
                 held: dict[int, CategoryAssignment]) -> str | None:
    """Why the action would leave ``student`` as they are (the single verb's refusal), or
    None when it would change them."""
    if action == Action.ADD_CATEGORY and student.id in held:
        return "already-assigned"
    if action == Action.END_CATEGORY and student.id not in held:
        return "bulk-not-held"
    if action == Action.FLAG_REVIEW and (
            student.flagged_for_review or student.concern_level == ConcernLevel.HIGH):
        return "already-queued"
    if action == Action.SET_CONCERN and student.concern_level == read.level:
        return "concern-unchanged"
    if action == Action.ASSIGN_SUPERVISOR and student.supervisor_id == read.to.id:
        return "supervisor-unchanged"
    return None


def _students(ids: list[int]) -> list[Student]:
    return list(db.session.scalars(
        select(Student).where(Student.id.in_(ids)).order_by(Student.id)))


def plan(action: str, user: User, student_ids: Iterable[int], params: dict, *,
         now: datetime | None = None) -> Plan:
    """Work out what ``action`` would change, for the students ``user`` may touch among
    ``student_ids``.

    :raise RuleError: a wrong parameter (with its field).
    """
    now = now or now_utc()
    ids = allowed_ids(user, action, student_ids)
    result = Plan(action=action, student_ids=ids, fingerprint=transfers.fingerprint_of(ids))
    if action == Action.EXPORT or not ids:
        result.changing = list(ids)
        return result
    read = read_params(action, params, local_today(now), user)
    if action == Action.TRANSFER:
        result.transfer = transfers.preview_transfer(ids, read.to, user)
        result.changing = result.transfer.student_ids
        if len(ids) > len(result.changing):
            result.skipped["bulk-with-counsellor"] = len(ids) - len(result.changing)
        return result
    skipped: Counter[str] = Counter()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        held = _held(chunk, read.category.id) if read.category else {}
        for student in _students(chunk):
            reason = _skip_reason(action, student, read, held)
            if reason:
                skipped[reason] += 1
            else:
                result.changing.append(student.id)
    result.skipped = dict(skipped)
    if action == Action.LOG_FOLLOW_UP:
        today = local_today(now)
        for start in range(0, len(result.changing), 1000):
            result.rechecks_due += db.session.scalar(select(func.count(Recheck.id)).where(
                Recheck.student_id.in_(result.changing[start:start + 1000]),
                Recheck.state == RecheckState.OPEN, Recheck.due_on <= today)) or 0
    return result


# -- doing it ---------------------------------------------------------------------------------


def _apply(action: str, student: Student, by: User, read: Params,
           held: dict[int, CategoryAssignment], now: datetime, ip: str, key: str | None):
    """Take the action for one student through the single-student verb."""
    if action == Action.ADD_CATEGORY:
        cases.assign_category(student, read.category, by, started_on=read.day,
                              reason=read.reason, now=now, ip=ip, submission_key=key)
    elif action == Action.END_CATEGORY:
        cases.end_category(held[student.id], by, ended_on=read.day, reason=read.reason,
                           now=now, ip=ip, submission_key=key)
    elif action == Action.SCHEDULE_RECHECK:
        rechecks.add_by_hand(student, by, due_on=read.day, reason=read.reason, now=now,
                             submission_key=key)
    elif action == Action.LOG_FOLLOW_UP:
        interval = rechecks.suggested_interval(rechecks.active_categories_of(student),
                                               reached=read.reached)
        entries.record_follow_up(
            student, by, channel=read.channel, reached=read.reached,
            health=entries.HealthObserved.UNKNOWN, body=read.reason,
            check_again_in_days=interval, now=now, ip=ip, submission_key=key)
    elif action == Action.FLAG_REVIEW:
        review.flag_for_review(student, by, reason=read.reason, now=now, ip=ip)
    elif action == Action.SET_CONCERN:
        cases.change_concern_level(student, read.level, by, reason=read.reason, now=now, ip=ip,
                                   submission_key=key)
    elif action == Action.ASSIGN_SUPERVISOR:
        roster.assign_supervisor(student, read.to, by, now=now, ip=ip)


def still_matches(allowed: Iterable[int], fingerprint: str) -> bool:
    """Whether the students an action may touch now (:func:`allowed_ids`) are still those the
    preview of ``fingerprint`` showed."""
    return transfers.fingerprint_of(allowed) == fingerprint


def run(
    action: str,
    student_ids: Iterable[int],
    user_id: int,
    params: dict,
    *,
    fingerprint: str,
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Take ``action`` for the students the user may touch among ``student_ids``, in the
    caller's transaction; return ``{"action", "students", "changed", "skipped": {code: n}}``.

    :raise RuleError: a wrong parameter (with its field); "bulk-stale" (a conflict: 409) when
        the students matched are not those of ``fingerprint`` any more; "bulk-nothing" when
        the action would change none of them.
    :raise DuplicateSubmission: the same confirmation was recorded already.
    """
    now = now or now_utc()
    user = db.session.get(User, user_id)
    if action == Action.EXPORT or not may_use(user, action):
        raise RuleError("not-allowed")
    read = read_params(action, params, local_today(now), user)
    ids = allowed_ids(user, action, student_ids)
    if not still_matches(ids, fingerprint):
        raise RuleError("bulk-stale", conflict=True)
    if action == Action.TRANSFER:
        moved = transfers.transfer_students(
            ids, read.to, user, reason=read.reason, now=now, ip=ip, progress=progress)
        return {"action": action, "students": len(ids), "changed": moved.students,
                "skipped": {"bulk-with-counsellor": len(ids) - moved.students}
                if len(ids) > moved.students else {},
                "rechecks": moved.rechecks, "referrals": moved.referrals}
    changed: list[int] = []
    skipped: Counter[str] = Counter()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        held = _held(chunk, read.category.id) if read.category else {}
        for student in _students(chunk):
            reason = _skip_reason(action, student, read, held)
            if reason:
                skipped[reason] += 1
                continue
            # The confirmation's key goes on its first entry: posted again, the first student
            # finds it and the whole action writes nothing (one transaction).
            key = f"{submission_key}:{student.id}" if submission_key and not changed else None
            try:
                _apply(action, student, user, read, held, now, ip, key)
            except DuplicateSubmission:
                raise
            except RuleError as error:
                if error.conflict:
                    raise
                skipped[error.code] += 1
                continue
            changed.append(student.id)
        if progress is not None:
            progress(min(start + CHUNK, len(ids)), len(ids))
    if not changed:
        raise RuleError("bulk-nothing")
    record_event(f"bulk.{action}", user, changed[0] if len(changed) == 1 else None,
                 detail=f"students:{len(changed)} of:{len(ids)}", now=now, ip=ip,
                 students=changed)
    return {"action": action, "students": len(ids), "changed": len(changed),
            "skipped": dict(skipped)}


# -- which students a list's "all matching this filter" means ----------------------------------

#: The lists that offer bulk actions.
SOURCES = ("students", "rechecks", "chase", "roster")


def matching_query(user: User, source: str, args, now: datetime):
    """Return a query of the ids of the students on ``user``'s list ``source`` that match the
    list's filter ``args`` (the list's query string, as a mapping): all of them, not one page.
    """
    if source == "rechecks":
        filters = RecheckFilters.from_args(args)
        if not (sees_whole_college(user) or keeps_caseload(user)):
            filters.counsellor = None
        return list_query(user, filters, now).with_only_columns(
            Student.id).order_by(None).distinct()
    if source == "chase":
        class_name = (args.get("class") or "").strip()[:100]
        return chase_query(user, local_today(now), class_name).with_only_columns(
            Student.id).order_by(None)
    filters = CaseloadFilters.from_args(args)
    if source == "roster":
        query = roster.search_roster(user, filters.q)
        if filters.class_name:
            query = query.where(Student.class_name == filters.class_name)
        if filters.cohort is not None:
            query = query.where(Student.cohort == filters.cohort)
        if filters.programme:
            query = query.where(Student.programme == filters.programme)
        if filters.counsellor is not None:
            query = query.where(Student.counsellor_id == filters.counsellor)
        return query.with_only_columns(Student.id).order_by(None)
    return caseload_query(user, filters, now).with_only_columns(Student.id).order_by(None)


def matching_ids(user: User, source: str, args, now: datetime | None = None) -> list[int]:
    """The ids of every student matching the list's filter (see :func:`matching_query`)."""
    if source not in SOURCES:
        return []
    return sorted(set(db.session.scalars(matching_query(user, source, args, now or now_utc()))))


# -- a bulk action as a job ------------------------------------------------------------------


@task("students.bulk", max_attempts=3)
def bulk_job(job: Job, params: dict, progress: Progress) -> dict:
    """Take a confirmed bulk action of more than :data:`JOB_THRESHOLD` students as a job, with
    its progress: :func:`run` for the job's owner, all or nothing (a run killed half-way
    wrote nothing, so running again is safe).

    ``params``: ``action``, ``ids``, ``params`` (the action's), ``fingerprint``, ``ip``,
    ``submission_key``, ``now`` (the confirmation's moment, ISO).

    :raise JobError: the rule's code ("bulk-stale" when the students matched changed since
        the preview, "bulk-nothing", a wrong parameter's).
    """
    if job.owner_id is None:
        raise JobError("not-allowed")
    ids = [int(i) for i in params.get("ids", [])]
    progress.start(len(ids), stage="writing")

    def step(done: int, _total: int) -> None:
        progress(done - progress.done)

    try:
        return run(params.get("action", ""), ids, job.owner_id, params.get("params", {}),
                   fingerprint=params.get("fingerprint", ""),
                   now=datetime.fromisoformat(params["now"]) if params.get("now") else None,
                   ip=params.get("ip", ""), submission_key=params.get("submission_key"),
                   progress=step)
    except RuleError as error:
        raise JobError(error.code) from error
    except DuplicateSubmission:
        return {"action": params.get("action", ""), "students": len(ids), "changed": 0,
                "duplicate": True}
