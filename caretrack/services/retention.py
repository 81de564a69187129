"""The retention policy and the purge: what is deleted when, and deleting it.

A row of a data class is due when it is older than the class's period *and* the period has
passed since the emergency ended, or since the student left: with ``c = today - period``, a
row recorded on day ``d`` is due once ``d <= c`` and (the emergency ended on or before ``c``,
or the student left on or before ``c``). So everything recorded during the emergency goes
``period`` days after its end, what was recorded later ``period`` days after it was recorded,
and a student who left takes their data along ``period`` days after leaving.

The purge deletes rows or empties their sensitive columns, in batches of short transactions
(it commits them itself, as a job does: it runs without a request). A timeline entry keeps its
kind, time and author; its text becomes :data:`PURGED_TEXT`. The numbers the college's daily
reports showed are kept first (:class:`RetainedDayTotals`). One audit event says how much of
each class went.
"""

import hashlib
import secrets
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, delete, func, literal, or_, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from caretrack.access import college_id_of, manages_retention
from caretrack.extensions import db
from caretrack.jobs import Progress, task
from caretrack.models import (
    DEFAULT_RETENTION_DAYS,
    CategoryAssignment,
    CheckIn,
    CheckinAttempt,
    CheckinLink,
    DailyReport,
    DailyStatus,
    DataClass,
    EntryKind,
    Job,
    LinkKind,
    Notice,
    NoticeRecipient,
    Recheck,
    RecheckOrigin,
    RetainedDayTotals,
    RetentionPolicy,
    RetentionPurge,
    ReturnRequest,
    Student,
    TimelineEntry,
    User,
    now_utc,
)
from caretrack.services.audit import record_event
from caretrack.services.clock import day_bounds, local_today
from caretrack.services.errors import RuleError

#: What a purged text says, in the database (the pages say it in the reader's language).
PURGED_TEXT = "内容已按保留政策删除 ({day})"
#: Rows deleted or emptied by one transaction.
BATCH = 500
#: The longest period the policy accepts, in days (ten years).
MAX_DAYS = 3650
#: Days before a purge that the landing pages warn of it.
WARNING_DAYS = 14
#: The timeline kinds whose text is the "free text" class.
FREE_TEXT_KINDS = (EntryKind.FOLLOW_UP, EntryKind.NOTE, EntryKind.DELIVERY, EntryKind.CORRECTION)
#: The detail fields of a delivery that are typed text (the place code and receipt stay).
DELIVERY_TEXT_FIELDS = ("items", "place_detail", "delivered_by")
#: The detail fields of a return request's step that stay (the rest is the request's text).
RETURN_STEP_FIELDS = ("request_id", "action")


# -- the policy -------------------------------------------------------------------------------


def get_policy(college) -> RetentionPolicy | None:
    """Return the policy of ``college`` (a college, its id, or an account's), or None while
    none was recorded (or for an account of no college)."""
    college_id = college_id_of(college)
    if college_id is None:
        return None
    return db.session.scalars(
        select(RetentionPolicy).where(RetentionPolicy.college_id == college_id)).one_or_none()


def policy_or_default(college) -> RetentionPolicy:
    """The recorded policy of ``college``, or an unsaved one with the defaults (no emergency
    end)."""
    return get_policy(college) or RetentionPolicy(
        college_id=college_id_of(college), retention_days=DEFAULT_RETENTION_DAYS,
        class_days={}, version_id=0)


def _check_days(value, field_name: str) -> int:
    if value is None or not 1 <= int(value) <= MAX_DAYS:
        raise RuleError("retention-days", field_name, max=MAX_DAYS)
    return int(value)


def save_policy(
    by: User, *, emergency_ended_on: date | None, retention_days: int,
    class_days: dict[str, int | None], now: datetime, version: int | None = None,
    ip: str = "",
) -> RetentionPolicy:
    """Record when the emergency ended in ``by``'s college and how long each data class of
    its students is kept after it.

    ``class_days`` maps a :class:`DataClass` to its own period, or None for the default one.

    :raise RuleError: "not-retention-manager"; "emergency-end-future" (emergency_ended_on)
        for an end after today; "retention-days" (the field) for a period outside
        1…MAX_DAYS; "stale" (a 409) when someone saved the policy since the form was shown.
    """
    if not manages_retention(by):
        raise RuleError("not-retention-manager")
    if emergency_ended_on is not None and emergency_ended_on > local_today(now):
        raise RuleError("emergency-end-future", "emergency_ended_on")
    days = _check_days(retention_days, "retention_days")
    own = {str(c): _check_days(v, f"days_{c}") for c, v in class_days.items()
           if v not in (None, "") and str(c) in DataClass.__members__.values()}
    policy = get_policy(by)
    if policy is None:
        policy = RetentionPolicy(college_id=by.college_id)
        db.session.add(policy)
    elif version is not None and version != policy.version_id:
        raise RuleError("stale", conflict=True)
    policy.emergency_ended_on = emergency_ended_on
    policy.retention_days = days
    policy.class_days = own
    policy.updated_by_id = by.id
    policy.updated_at = now
    db.session.flush()
    periods = " ".join(f"{c}:{d}" for c, d in sorted(own.items()))
    record_event("retention.policy", by, now=now, ip=ip,
                 detail=f"ended:{emergency_ended_on or '-'} days:{days} {periods}".strip())
    return policy


# -- what is due ------------------------------------------------------------------------------


def cutoff(policy: RetentionPolicy, data_class: str, today: date) -> date:
    """The last day of rows of ``data_class`` that are due on ``today``."""
    return today - timedelta(days=policy.days_for(data_class))


def emergency_due(policy: RetentionPolicy, last_day: date) -> bool:
    """Whether the emergency ended on or before ``last_day`` (its data is due up to it)."""
    return policy.emergency_ended_on is not None and policy.emergency_ended_on <= last_day


def _students_due(policy: RetentionPolicy, last_day: date, column) -> ColumnElement[bool]:
    """Rows of a student of the policy's college whose data is due: every student once the
    emergency is over, else the students who left on or before ``last_day``."""
    of_college = Student.college_id == policy.college_id
    if emergency_due(policy, last_day):
        return column.in_(select(Student.id).where(of_college))
    return column.in_(select(Student.id).where(of_college, Student.left_on <= last_day))


def _attempts_due(policy: RetentionPolicy) -> ColumnElement[bool]:
    """The failed identity checks a college's purge deletes: those naming one of its
    students' numbers, and those of an address (which name no college, and only count
    tries for an hour)."""
    numbers = select(literal("number:") + Student.student_number).where(
        Student.college_id == policy.college_id)
    return or_(CheckinAttempt.key.in_(numbers), CheckinAttempt.key.like("address:%"))


@dataclass
class Target:
    """One table's rows of a data class: how to find the due ones and how to purge them."""

    data_class: str
    name: str
    model: type
    #: ``condition(last_day)``: the SQL condition of the due rows; None: none can be due.
    condition: Callable[[date], ColumnElement[bool] | None]
    #: ``purge(ids, today, now)``: deletes or empties the rows.
    purge: Callable[[list[int], date, datetime], None]


def _before(column, last_day: date) -> ColumnElement[bool]:
    """A timestamp on or before the college day ``last_day``."""
    return column < day_bounds(last_day + timedelta(days=1))[0]


def _deleter(model) -> Callable:
    def purge(ids, today, now):
        db.session.execute(delete(model).where(model.id.in_(ids))
                           .execution_options(synchronize_session=False))
    return purge


def _purged_text(today: date) -> str:
    return PURGED_TEXT.format(day=today.isoformat())


def _entry_texts(keep: Callable[[dict], dict], health: bool = False) -> Callable:
    """Empty the text of timeline entries, keeping ``keep(details)`` of their details."""

    def purge(ids, today, now):
        rows = db.session.execute(
            select(TimelineEntry.id, TimelineEntry.details).where(TimelineEntry.id.in_(ids)))
        values = []
        for entry_id, details in rows:
            row = {"id": entry_id, "details": keep(dict(details or {}))}
            if health:
                row["health_purged_on"] = today
            else:
                row.update(body=_purged_text(today), purged_on=today)
            values.append(row)
        if values:
            db.session.execute(update(TimelineEntry), values)
    return purge


def _kept_details(details: dict) -> dict:
    """A follow-up's, note's, delivery's or correction's details without their typed text."""
    return {k: v for k, v in details.items() if k not in DELIVERY_TEXT_FIELDS}


def _without_health(details: dict) -> dict:
    return {k: v for k, v in details.items() if k != "health"}


def _rotate_links(ids, today, now):
    """Links stop working: a new generation whose token nobody has (the phones' cookies name
    the old one), and a personal link is revoked until the counsellor issues it again."""
    links = db.session.execute(select(CheckinLink.id, CheckinLink.kind, CheckinLink.generation)
                               .where(CheckinLink.id.in_(ids))).all()
    db.session.execute(update(CheckinLink), [{
        "id": link_id, "generation": generation + 1,
        # No token derives to a random digest: the link is found by no token until rotated.
        "digest": hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
        "rotated_at": now,
        "revoked_at": now if kind == LinkKind.PERSONAL else None,
    } for link_id, kind, generation in links])


def _purge_acknowledgements(ids, today, now):
    """Delete who a notice went to and who acknowledged it, adding the numbers to the notice."""
    counts = db.session.execute(
        select(NoticeRecipient.notice_id, func.count(),
               func.count(NoticeRecipient.acknowledged_at))
        .where(NoticeRecipient.id.in_(ids)).group_by(NoticeRecipient.notice_id)).all()
    db.session.execute(update(Notice), [{
        "id": notice_id, "recipients_purged_on": today,
    } for notice_id, _, _ in counts])
    for notice_id, recipients, acknowledged in counts:
        db.session.execute(update(Notice).where(Notice.id == notice_id).values(
            purged_recipients=func.coalesce(Notice.purged_recipients, 0) + recipients,
            purged_acknowledged=func.coalesce(Notice.purged_acknowledged, 0) + acknowledged,
        ))
    _deleter(NoticeRecipient)(ids, today, now)


def _purge_requests(ids, today, now):
    """Empty an early-return request's texts, and the copies of where from that its re-check
    and its category (with the category's timeline entry) carry."""
    marker = _purged_text(today)
    requests = db.session.execute(
        select(ReturnRequest.student_id, ReturnRequest.created_at, ReturnRequest.assignment_id)
        .where(ReturnRequest.id.in_(ids))).all()
    db.session.execute(
        update(ReturnRequest).where(ReturnRequest.id.in_(ids)).values(
            travel_from="", details="", recommendation_note="", arrival_plan="",
            decline_reason="", purged_on=today, version_id=ReturnRequest.version_id + 1)
        .execution_options(synchronize_session=False))
    rechecks = set()
    for student_id, created_at, _ in requests:  # the re-check the request scheduled
        rechecks.update(db.session.scalars(select(Recheck.id).where(
            Recheck.student_id == student_id, Recheck.origin == RecheckOrigin.RETURN_REQUEST,
            Recheck.created_at == created_at)))
    if rechecks:
        db.session.execute(update(Recheck).where(Recheck.id.in_(rechecks)).values(reason=marker)
                           .execution_options(synchronize_session=False))
    assignments = {a for _, _, a in requests if a}
    if assignments:
        db.session.execute(update(CategoryAssignment)
                           .where(CategoryAssignment.id.in_(assignments))
                           .values(reason=marker).execution_options(synchronize_session=False))
    # The timeline entries of that category and that re-check carry the same text.
    copies = [entry_id for entry_id, kind, details in db.session.execute(
        select(TimelineEntry.id, TimelineEntry.kind, TimelineEntry.details).where(
            TimelineEntry.kind.in_([EntryKind.CATEGORY_CHANGE, EntryKind.RECHECK_CHANGE]),
            TimelineEntry.purged_on.is_(None),
            TimelineEntry.student_id.in_({s for s, _, _ in requests})))
        if (details or {}).get("assignment_id") in assignments
        or (details or {}).get("recheck_id") in rechecks]
    if copies:
        db.session.execute(update(TimelineEntry), [
            {"id": entry_id, "body": marker, "purged_on": today} for entry_id in copies])


def targets(policy: RetentionPolicy) -> list[Target]:
    """Every table the policy purges, by data class."""
    entry = TimelineEntry

    def entries(kinds, done_column):
        def condition(last_day):
            return (entry.kind.in_([str(k) for k in kinds]) & done_column.is_(None)
                    & _before(entry.occurred_at, last_day)
                    & _students_due(policy, last_day, entry.student_id))
        return condition

    def emergency_only(condition):
        return lambda last_day: condition(last_day) if emergency_due(policy, last_day) else None

    return [
        Target(DataClass.STATUSES, "daily_statuses", DailyStatus,
               lambda d: (DailyStatus.day <= d)
               & _students_due(policy, d, DailyStatus.student_id), _deleter(DailyStatus)),
        Target(DataClass.STATUSES, "checkins", CheckIn,
               lambda d: (CheckIn.day <= d) & _students_due(policy, d, CheckIn.student_id),
               _deleter(CheckIn)),
        Target(DataClass.STATUSES, "status_entries", TimelineEntry,
               entries([EntryKind.STATUS_CHANGE], entry.purged_on), _entry_texts(lambda d: {})),
        Target(DataClass.FOLLOW_UP_HEALTH, "follow_up_health", TimelineEntry,
               entries([EntryKind.FOLLOW_UP], entry.health_purged_on),
               _entry_texts(_without_health, health=True)),
        Target(DataClass.FREE_TEXT, "entry_texts", TimelineEntry,
               entries(FREE_TEXT_KINDS, entry.purged_on), _entry_texts(_kept_details)),
        Target(DataClass.CHECKIN_LINKS, "personal_links", CheckinLink,
               lambda d: (CheckinLink.kind == LinkKind.PERSONAL.value)
               & _before(CheckinLink.rotated_at, d)
               & _students_due(policy, d, CheckinLink.student_id), _rotate_links),
        Target(DataClass.CHECKIN_LINKS, "class_links", CheckinLink,
               emergency_only(lambda d: (CheckinLink.kind == LinkKind.CLASS.value)
                              & (CheckinLink.college_id == policy.college_id)
                              & _before(CheckinLink.rotated_at, d)), _rotate_links),
        Target(DataClass.CHECKIN_LINKS, "identity_attempts", CheckinAttempt,
               emergency_only(lambda d: _before(CheckinAttempt.at, d) & _attempts_due(policy)),
               _deleter(CheckinAttempt)),
        Target(DataClass.ACKNOWLEDGEMENTS, "notice_recipients", NoticeRecipient,
               lambda d: NoticeRecipient.notice_id.in_(
                   select(Notice.id).where(_before(Notice.published_at, d)))
               & _students_due(policy, d, NoticeRecipient.student_id),
               _purge_acknowledgements),
        Target(DataClass.RETURN_REQUESTS, "return_requests", ReturnRequest,
               lambda d: ReturnRequest.purged_on.is_(None)
               & _before(ReturnRequest.created_at, d)
               & _students_due(policy, d, ReturnRequest.student_id), _purge_requests),
        Target(DataClass.RETURN_REQUESTS, "return_entries", TimelineEntry,
               entries([EntryKind.RETURN_REQUEST], entry.purged_on),
               _entry_texts(lambda d: {k: d[k] for k in RETURN_STEP_FIELDS if k in d})),
    ]


def _due_ids(target: Target, last_day: date, batch: int, after: int) -> Select | None:
    """The next ``batch`` due rows' ids after id ``after`` (each batch goes on from the last,
    so a table is read once however many batches it takes)."""
    condition = target.condition(last_day)
    if condition is None:
        return None
    return (select(target.model.id).where(condition, target.model.id > after)
            .order_by(target.model.id).limit(batch))


def _due_count(target: Target, last_day: date) -> int:
    condition = target.condition(last_day)
    if condition is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(target.model).where(condition))


def due_counts(policy: RetentionPolicy, today: date) -> dict[str, int]:
    """{data class: rows due on ``today``} (what a purge on that day deletes or empties)."""
    counts = {str(c): 0 for c in DataClass}
    for target in targets(policy):
        counts[str(target.data_class)] += _due_count(target,
                                                     cutoff(policy, target.data_class, today))
    return counts


# -- the purge --------------------------------------------------------------------------------


@dataclass
class PurgeResult:
    """What a purge deleted or emptied (or, dry, would), by data class."""

    today: date
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: {str(c): 0 for c in DataClass})
    #: Transactions committed, and the longest one in seconds (0 for a dry run).
    transactions: int = 0
    longest_transaction: float = 0.0
    #: What the longest transaction did (a table's name, or "kept numbers").
    longest_work: str = ""
    #: Days whose numbers were kept before their statuses went.
    kept_days: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def purge(now: datetime, *, dry_run: bool = False, batch: int = BATCH,
          commit: Callable[[], None] | None = None, today: date | None = None,
          college=None) -> PurgeResult:
    """Delete what each college's policy (or only ``college``'s) says is due at ``now`` for
    its students (on the college day ``today``, by default ``now``'s); with ``dry_run`` only
    count it.

    Runs in batches of ``batch`` rows, each in a transaction of its own that it commits (the
    purge is a job: it holds no lock for long). Before any daily status of a college goes,
    each past day's numbers of its counsellors are kept (:func:`keep_day_totals`, one day a
    transaction). Per college, one audit event ("retention.purge") and one
    :class:`RetentionPurge` say how much of each class went; a run with nothing due writes
    nothing. Returns the counts of all the colleges.
    """
    commit = commit or db.session.commit
    today = today or local_today(now)
    result = PurgeResult(today=today, dry_run=dry_run)
    query = select(RetentionPolicy).order_by(RetentionPolicy.college_id)
    if college is not None:
        query = query.where(RetentionPolicy.college_id == college_id_of(college))
    policies = list(db.session.scalars(query))
    if dry_run:
        for policy in policies:
            for data_class, count in due_counts(policy, today).items():
                result.counts[data_class] += count
        db.session.rollback()
        return result
    for policy in policies:
        _purge_college(policy, now, today, batch, commit, result)
    secure_files()
    return result


def _purge_college(policy: RetentionPolicy, now: datetime, today: date, batch: int,
                   commit: Callable[[], None], total: PurgeResult) -> None:
    """Run one college's policy, adding what it purged to ``total``."""
    result = PurgeResult(today=today, dry_run=False)
    college_id = policy.college_id

    def timed(work: Callable[[], int], name: str) -> int:
        started = clock.perf_counter()
        done = work()
        commit()
        total.transactions += 1
        took = clock.perf_counter() - started
        if took > total.longest_transaction:
            total.longest_transaction, total.longest_work = took, name
        return done

    statuses = [t for t in targets(policy) if t.data_class == DataClass.STATUSES]
    if any(_due_count(t, cutoff(policy, t.data_class, today)) for t in statuses):
        for day in days_to_keep(college_id, today):  # one day a transaction
            total.kept_days += timed(lambda day=day: keep_day_totals(day, college_id),
                                     "kept numbers")
    for target in targets(policy):
        last_day = cutoff(policy, target.data_class, today)
        after = 0
        while True:
            query = _due_ids(target, last_day, batch, after)
            if query is None:
                break
            ids: list[int] = []

            def one_batch(query=query, target=target, ids=ids) -> int:
                ids.extend(db.session.scalars(query))
                if ids:
                    target.purge(ids, today, now)
                return len(ids)

            done = timed(one_batch, target.name)
            result.counts[str(target.data_class)] += done
            if done < batch:
                break
            after = ids[-1]
    if result.total:
        timed(lambda: _record_purge(result, college_id, now), "audit")
    for data_class, count in result.counts.items():
        total.counts[data_class] += count


def _record_purge(result: PurgeResult, college_id: int, now: datetime) -> int:
    db.session.add(RetentionPurge(college_id=college_id, ran_at=now, purged_on=result.today,
                                  counts=result.counts))
    detail = " ".join(f"{c}={n}" for c, n in result.counts.items())
    record_event("retention.purge", None, detail=f"college:{college_id} {detail}", now=now)
    db.session.flush()
    return 0


def secure_files() -> None:
    """On SQLite, write the WAL back into the database file and empty it, so the pages the
    purge overwrote (``secure_delete``) are the only copy; nothing to do on PostgreSQL
    (see docs/operations.md)."""
    if db.engine.dialect.name != "sqlite":
        return
    db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    db.session.commit()


def _college_counsellors(college) -> Select:
    return select(User.id).where(User.college_id == college_id_of(college))


def days_to_keep(college, today: date) -> list[date]:
    """The past days with daily reports of ``college``'s counsellors whose numbers are not
    kept yet, oldest first."""
    counsellors = _college_counsellors(college)
    kept = set(db.session.scalars(select(RetainedDayTotals.day).where(
        RetainedDayTotals.counsellor_id.in_(counsellors)).distinct()))
    return [d for d in db.session.scalars(
        select(DailyReport.day).where(DailyReport.day < today,
                                      DailyReport.counsellor_id.in_(counsellors))
        .distinct().order_by(DailyReport.day)) if d not in kept]


def keep_day_totals(day: date, college) -> int:
    """Keep the numbers of ``day`` of each counsellor of ``college``, as the board and the
    college's report count them (no names); return 1."""
    from caretrack.services.daily.carried import tally

    db.session.add_all(RetainedDayTotals(day=day, counsellor_id=counsellor_id,
                                         totals=_as_numbers(totals))
                       for counsellor_id, totals in tally(
                           day, Student.college_id == college_id_of(college)).items())
    db.session.flush()
    return 1


def _as_numbers(totals) -> dict:
    from dataclasses import asdict

    return asdict(totals)


def kept_day_totals(day: date, college=None) -> dict[int, object] | None:
    """The kept numbers of ``day`` of ``college``'s counsellors (None: every college's; see
    :func:`keep_day_totals`) as ``Totals``, or None when those statuses of the day were never
    purged."""
    from caretrack.services.daily.values import Totals

    query = select(RetainedDayTotals.counsellor_id, RetainedDayTotals.totals).where(
        RetainedDayTotals.day == day)
    if college is not None:
        query = query.where(RetainedDayTotals.counsellor_id.in_(_college_counsellors(college)))
    rows = db.session.execute(query).all()
    if not rows:
        return None
    return {counsellor_id: Totals(**numbers) for counsellor_id, numbers in rows}


# -- what will be purged when -----------------------------------------------------------------


@dataclass
class ScheduledPurge:
    """The rows of each data class that become due on one day."""

    on: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _candidate_days(policy: RetentionPolicy, today: date, until: date | None) -> list[date]:
    """The days on which rows start to be due: the emergency's end or a student's leaving day
    plus each class's period (today for what is due already)."""
    periods = {policy.days_for(c) for c in DataClass}
    ends = []
    if policy.emergency_ended_on is not None:
        ends.append(policy.emergency_ended_on)
    since = today - timedelta(days=max(periods))
    ends += db.session.scalars(select(Student.left_on).where(
        Student.college_id == policy.college_id, Student.left_on >= since)
        .distinct().order_by(Student.left_on).limit(50))
    days = {today} | {end + timedelta(days=p) for end in ends for p in periods}
    return sorted(d for d in days if d >= today and (until is None or d <= until))


def schedule(now: datetime, policy: RetentionPolicy | None, *, until: date | None = None,
             limit: int = 8) -> list[ScheduledPurge]:
    """The next days something becomes due under a college's ``policy`` (today first, when
    something is due already), with the rows of each class that become due that day, up to
    ``until``."""
    if policy is None:
        return []
    today = local_today(now)
    result = []
    before = {str(c): 0 for c in DataClass}
    for day in _candidate_days(policy, today, until)[:limit]:
        counts = due_counts(policy, day)
        new = {c: max(0, counts[c] - before[c]) for c in counts}
        if sum(new.values()):
            result.append(ScheduledPurge(day, new))
        before = counts
    return result


def upcoming_warning(user: User, now: datetime) -> ScheduledPurge | None:
    """The first purge of the user's college within WARNING_DAYS of today, for the landing
    of the deputy and the admin; None for another user or when none is that near."""
    from caretrack.access import sees_retention

    if not sees_retention(user):
        return None
    today = local_today(now)
    coming = schedule(now, get_policy(user), until=today + timedelta(days=WARNING_DAYS),
                      limit=3)
    return coming[0] if coming else None


def past_purges(college, limit: int = 20) -> list[RetentionPurge]:
    """The latest purges of ``college`` that deleted something (and those of the whole
    installation, from before each college had its own policy), newest first."""
    return list(db.session.scalars(
        select(RetentionPurge).where(or_(RetentionPurge.college_id == college_id_of(college),
                                         RetentionPurge.college_id.is_(None)))
        .order_by(RetentionPurge.ran_at.desc()).limit(limit)))


@task("retention.purge", max_attempts=3)
def purge_job(job: Job, params: dict, progress: Progress) -> dict:
    """The schedule's purge (``CARETRACK_RETENTION_PURGE_AT``): delete what is due on the
    college day ``params["day"]``. Each batch commits itself and a second run deletes nothing
    more, so running again is safe."""
    progress.start(1, stage="writing")
    day = params.get("day")
    result = purge(now_utc(), today=date.fromisoformat(day) if day else None)
    progress(1)
    return {"counts": result.counts, "total": result.total,
            "transactions": result.transactions}
