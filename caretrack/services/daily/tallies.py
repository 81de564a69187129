"""The day's numbers per counsellor, kept in ``daily_tallies`` as statuses are written, so that
the college's numbers cost one row per counsellor, not a count over every student.

The numbers are those of :func:`carried.tally` over the current records (students, confirmed,
changes, places, health, sources). They are written, for a day, by the first status write of
that day (a full count, once) and then kept current by every status write in the same
transaction (:func:`tracking`): the write's students are counted just before and just after,
and the difference is added to their counsellors' rows - the same SQL as the full count, so
the rows always equal it. Whatever else changes a count (a roster import, a merge, a student
added, moved or put on campus, a report resubmitted) clears the rows it touches
(:func:`forget`); until the next status write counts them again, readers count in full, as
before. ``flask daily rebuild-tallies`` counts a day again and says whether the rows agreed.

On PostgreSQL the status writes of one day take a transaction-scoped advisory lock, so two
writes never count the same rows at once (on SQLite a write transaction holds the database's
write lock from its first statement: see :func:`_lock`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import (
    Select,
    bindparam,
    delete,
    event,
    false,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from caretrack.extensions import db
from caretrack.jobs import Progress, task
from caretrack.models import (
    TALLY_COUNTS,
    DailyStatus,
    DailyTally,
    Health,
    Job,
    StatusSource,
    Student,
    User,
)
from caretrack.services.daily.carried import chunks, tally_query, totals_of
from caretrack.services.daily.values import Totals

HEALTH_COLUMNS = {h.value: f"health_{h.value}" for h in Health}
SOURCE_COLUMNS = {s.value: f"source_{s.value}" for s in StatusSource}
COLUMNS = (*TALLY_COUNTS, *HEALTH_COLUMNS.values(), *SOURCE_COLUMNS.values())
#: The key of the day's advisory lock on PostgreSQL (with the day's ordinal).
LOCK_CLASS = 21


def _row_of(totals: Totals) -> dict:
    row = {name: getattr(totals, name) for name in TALLY_COUNTS}
    row.update({column: totals.health.get(h, 0) for h, column in HEALTH_COLUMNS.items()})
    row.update({column: totals.by_source.get(s, 0) for s, column in SOURCE_COLUMNS.items()})
    return row


def _totals_of(row: DailyTally) -> Totals:
    return Totals(
        **{name: getattr(row, name) for name in TALLY_COUNTS},
        health={h: getattr(row, column) for h, column in HEALTH_COLUMNS.items()},
        by_source={s: getattr(row, column) for s, column in SOURCE_COLUMNS.items()},
    )


def recount(day: date) -> dict[int, Totals]:
    """Each counsellor's numbers of ``day`` counted over every current record (one query)."""
    return totals_of(db.session.execute(tally_query(day, "all"), {}))


@lru_cache(maxsize=1)
def _stored_query() -> Select:
    return select(DailyTally).where(DailyTally.day == bindparam("day"))


def stored(day: date) -> dict[int, Totals] | None:
    """The kept numbers of ``day`` by counsellor, or None when they are not kept (yet)."""
    rows = db.session.scalars(_stored_query(), {"day": day}).all()
    if not rows:
        return None
    return {row.counsellor_id: _totals_of(row) for row in rows}


def day_totals(day: date) -> dict[int, Totals]:
    """Each counsellor's numbers of ``day``: the kept rows, else counted now."""
    kept = stored(day)
    return recount(day) if kept is None else kept


@lru_cache(maxsize=1)
def _kept_query() -> Select:
    return select(DailyTally.counsellor_id).where(DailyTally.day == bindparam("day")).limit(1)


def is_kept(day: date) -> bool:
    """Whether the numbers of ``day`` are kept (one row's key read, not every row)."""
    return db.session.scalar(_kept_query(), {"day": day}) is not None


@lru_cache(maxsize=1)
def _stored_one_query() -> Select:
    return select(DailyTally).where(DailyTally.day == bindparam("day"),
                                    DailyTally.counsellor_id == bindparam("counsellor_id"))


def counsellor_totals(counsellor: User, day: date) -> Totals:
    """One counsellor's numbers of ``day``: their kept row, else their caseload counted now."""
    row = db.session.scalars(_stored_one_query(),
                             {"day": day, "counsellor_id": counsellor.id}).one_or_none()
    if row is not None:
        return _totals_of(row)
    if is_kept(day):  # the day is kept: a counsellor without a row has no students
        return Totals()
    result = db.session.execute(tally_query(day, "counsellor"),
                                {"counsellor_id": counsellor.id})
    return totals_of(result).get(counsellor.id, Totals())


def _count_of(day: date, student_ids: list[int]) -> dict[int, Totals]:
    """The numbers of ``day`` of some students, by counsellor (one query per 900 students)."""
    found: dict[int, Totals] = {}
    for chunk in chunks(sorted(set(student_ids))):
        rows = db.session.execute(tally_query(day, "students"), {"student_ids": chunk})
        for counsellor_id, totals in totals_of(rows).items():
            found.setdefault(counsellor_id, Totals()).add(totals)
    return found


def _lock(day: date) -> None:
    """Serialise the status writes of ``day`` until the transaction ends: on PostgreSQL an
    advisory lock; on SQLite the write transaction's lock (a write begins IMMEDIATE), taken
    now by a statement that changes nothing, so that what is counted next is the committed
    state no other write can change before this transaction ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:class, :day)"),
                           {"class": LOCK_CLASS, "day": day.toordinal()})
    else:
        db.session.execute(update(DailyTally).where(DailyTally.day == day, false())
                           .values(students=DailyTally.students))


def _write(day: date, per_counsellor: dict[int, Totals]) -> None:
    if per_counsellor:
        db.session.execute(insert(DailyTally), [
            {"day": day, "counsellor_id": counsellor_id, **_row_of(totals)}
            for counsellor_id, totals in per_counsellor.items()])


def _begin_day(day: date) -> None:
    """The day's first status write: count the day, and keep the dashboard's past days."""
    from caretrack.services.dashboard import keep_past_activity

    _write(day, recount(day))
    keep_past_activity(day)


def _difference(after: Totals, before: Totals) -> dict:
    new, old = _row_of(after), _row_of(before)
    return {name: new[name] - old[name] for name in COLUMNS}


@contextmanager
def tracking(day: date, student_ids: list[int]) -> Iterator[None]:
    """Keep the kept numbers of ``day`` current across a write of some students' statuses of
    that day (the block): count the day first if it is not kept yet, count the students
    before and after the write, add the difference. Statuses are written for the college's
    today and no day after it is ever kept (the rebuild command refuses one), so no later
    row carries these statuses forward."""
    _lock(day)
    if not is_kept(day):
        _begin_day(day)
    before = _count_of(day, student_ids)
    yield
    db.session.flush()
    after = _count_of(day, student_ids)
    table = DailyTally.__table__
    for counsellor_id in sorted(set(before) | set(after)):
        change = _difference(after.get(counsellor_id, Totals()), before.get(counsellor_id,
                                                                             Totals()))
        if not any(change.values()):
            continue
        result = db.session.execute(
            update(table).where(table.c.day == day, table.c.counsellor_id == counsellor_id)
            .values({name: table.c[name] + value for name, value in change.items() if value}))
        if result.rowcount == 0:  # a counsellor the day's rows did not know: count again
            db.session.execute(delete(table).where(table.c.day == day))
            _write(day, recount(day))
            break


def forget(day: date | None = None) -> None:
    """Clear the kept numbers of ``day`` (of every day when None): something they count
    changed outside a status write. Readers count in full until the next status write."""
    statement = delete(DailyTally)
    if day is not None:
        statement = statement.where(DailyTally.day == day)
    db.session.execute(statement)


def rebuild(day: date) -> bool:
    """Count ``day`` again into its rows; return whether the kept rows (if any) agreed."""
    _lock(day)
    kept = stored(day)
    fresh = recount(day)
    forget(day)
    _write(day, fresh)
    from caretrack.services.dashboard import keep_past_activity

    keep_past_activity(day)
    return kept is None or kept == fresh



#: The student columns the numbers depend on (the carry-forward falls back to the roster's
#: place; the rows are per counsellor; merged records are not counted).
COUNTED_COLUMNS = ("counsellor_id", "province", "city", "on_campus", "merged_into_id")


def _forget_on_orm_changes(session: Session, flush_context, instances) -> None:
    """A student added, removed, moved to another counsellor or place, or merged, or a status
    written through the ORM (not through :func:`tracking`): clear the kept numbers, in the
    same flush."""
    def counts(obj) -> bool:
        if isinstance(obj, DailyStatus):
            return True
        if not isinstance(obj, Student):
            return False
        state = inspect(obj)
        return any(state.attrs[name].history.has_changes() for name in COUNTED_COLUMNS)

    if (any(isinstance(o, Student | DailyStatus) for o in (*session.new, *session.deleted))
            or any(counts(o) for o in session.dirty)):
        session.execute(delete(DailyTally.__table__))


event.listen(Session, "before_flush", _forget_on_orm_changes)


@task("daily.tallies", max_attempts=2)
def count_the_day_job(job: Job, params: dict, progress: Progress) -> dict:
    """The schedule's count of the college day ``params["day"]`` just after midnight, before
    its first check-in (so the deputy's early visit reads kept rows), and of the day before,
    checked: whether its kept rows agreed with the full count."""
    day = date.fromisoformat(params["day"])
    progress.start(2, stage="checking")
    agreed = rebuild(day - timedelta(days=1))
    progress(1)
    rebuild(day)
    progress(1)
    return {"day": day.isoformat(), "yesterday_agreed": agreed}
