"""Recording daily statuses: every new status - the counsellor's form, "unchanged", the
check-in sheet - goes through :func:`apply_statuses`, the one place that writes the rows, the
timeline entries of the changes and the audit events, and where later rules hook in.

Statuses are recorded for the college's today only. A change needs an open report (none yet,
or returned); confirming an unchanged status is always possible.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from caretrack.access import caseload_filter, keeps_caseload
from caretrack.extensions import db
from caretrack.models import DailyStatus, EntryKind, StatusSource, Student, User
from caretrack.services.audit import record_event
from caretrack.services.clock import local_today
from caretrack.services.daily.carried import chunks, statuses_for
from caretrack.services.daily.reports import changes_allowed, get_report
from caretrack.services.daily.values import DayStatus, StatusValues, check_values
from caretrack.services.errors import RuleError
from caretrack.services.timeline import insert_entries


@dataclass
class StatusInput:
    """A status to record for one student; ``note`` None keeps the current note."""

    student_id: int
    values: StatusValues
    note: str | None = None


@dataclass
class ApplyResult:
    confirmed: int = 0
    changed: int = 0


def _check_caseload(by: User, ids: list[int]) -> None:
    if len(set(ids)) != len(ids):
        raise RuleError("duplicate-rows")
    if not keeps_caseload(by):
        raise RuleError("not-your-student")
    own = set()
    for chunk in chunks(ids):
        own.update(db.session.scalars(
            select(Student.id).where(Student.id.in_(chunk), caseload_filter(by))
        ))
    if own != set(ids):
        raise RuleError("not-your-student")


def _audit(by: User, items: list[StatusInput], source: str, now: datetime, ip: str) -> None:
    """One event per sheet; one per student recorded otherwise; none for a student's own
    check-in, which the check-in service audits as the student's."""
    if source == StatusSource.SELF_REPORTED:
        return
    if source == StatusSource.UPLOAD:
        record_event("daily_status.upload", by, detail=f"rows:{len(items)}", now=now, ip=ip)
        return
    for item in items:
        record_event("daily_status.record", by, item.student_id, now=now, ip=ip)


def apply_statuses(
    by: User, items: list[StatusInput], now: datetime,
    source: str = StatusSource.COUNSELLOR, *, ip: str = "",
) -> ApplyResult:
    """Record today's status of several of the counsellor's students at once: the status rows,
    a timeline entry for each change, and the audit events.

    :raise RuleError: "not-your-student", "duplicate-rows", "invalid-health",
        "missing-location", "report-locked" when a change meets a submitted or approved
        report, "recorded-meanwhile" when another window recorded a status first.
    """
    day = local_today(now)
    ids = [item.student_id for item in items]
    _check_caseload(by, ids)
    current = statuses_for(ids, day)
    planned = []
    for item in items:
        values = check_values(item.values)
        status = current[item.student_id]
        planned.append((item, values, status, status.values.diff(values)))
    if any(changes for *_, changes in planned) and not changes_allowed(get_report(by.id, day)):
        raise RuleError("report-locked")

    inserts, updates, entries, result = [], [], [], ApplyResult()
    for item, values, status, changes in planned:
        note = status.note if item.note is None else item.note.strip()[:2000]
        row = {
            "province": values.province, "city": values.city, "on_campus": values.on_campus,
            "health": values.health, "note": note, "source": str(source),
            "recorded_by_id": by.id, "recorded_at": now,
        }
        if status.row_id is not None:
            updates.append({"id": status.row_id, **row})
        else:
            inserts.append({"student_id": item.student_id, "day": day, **row})
        result.confirmed += 1
        if changes:
            result.changed += 1
            entries.append({
                "student_id": item.student_id, "kind": EntryKind.STATUS_CHANGE,
                "author_id": by.id, "body": note if item.note is not None else "",
                "occurred_at": now, "created_at": now,
                "details": {
                    "day": day.isoformat(),
                    "source": str(source),
                    "changes": {
                        name: {"from": old, "to": new} for name, (old, new) in changes.items()
                    },
                },
            })
    try:
        if inserts:
            # Core executemany: a whole caseload in one statement, without ORM bookkeeping.
            db.session.execute(insert(DailyStatus.__table__), inserts)
        if updates:
            db.session.execute(update(DailyStatus), updates)
        insert_entries(entries)  # the changes' timeline entries, in a few statements
        db.session.flush()
    except IntegrityError as exc:  # another window inserted the day's row first
        raise RuleError("recorded-meanwhile") from exc
    _audit(by, items, str(source), now, ip)
    return result


def record_status(
    student: Student, by: User, values: StatusValues, now: datetime, *,
    note: str | None = None, ip: str = "",
) -> ApplyResult:
    """Record one student's status for today (see :func:`apply_statuses`)."""
    return apply_statuses(by, [StatusInput(student.id, values, note)], now, ip=ip)


def confirm_unchanged(student: Student, by: User, now: datetime, *, ip: str = "") -> ApplyResult:
    """Confirm that the student's carried-forward status still holds today."""
    status = statuses_for([student.id], local_today(now))[student.id]
    return record_status(student, by, status.values, now, ip=ip)


def view_status(student: Student, by: User, now: datetime, *, ip: str = "") -> DayStatus:
    """Return the student's status today, for the form that records it; audited as a view."""
    record_event("daily_status.view", by, student.id, now=now, ip=ip)
    return statuses_for([student.id], local_today(now))[student.id]
