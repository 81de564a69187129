"""Recording daily statuses: every new status - the counsellor's form, "unchanged", the
check-in sheet, the students' own check-in - goes through :func:`apply_statuses`, the one place
that writes the rows, the timeline entries of the changes and the audit events, moves the
student's profile location and on-campus flag to the latest status, and applies the status
rules (:mod:`caretrack.services.status_rules`).

Statuses are recorded for the college's today only, whatever the state of the day's report: a
change recorded while the report waits for review is marked "after submission" (the report
shows how many), one recorded after its approval "after approval" (the approved report stays
as it was; the change goes into tomorrow's changes).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from caretrack.access import keeps_caseload, working_caseload_filter
from caretrack.extensions import db
from caretrack.models import DailyStatus, EntryKind, StatusSource, Student, User
from caretrack.services import status_rules
from caretrack.services.audit import record_event
from caretrack.services.clock import local_today
from caretrack.services.daily import tallies
from caretrack.services.daily.carried import chunks, statuses_for
from caretrack.services.daily.reports import changed_after, get_report
from caretrack.services.daily.values import DayStatus, StatusValues, check_values
from caretrack.services.errors import RuleError
from caretrack.services.places import place_codes
from caretrack.services.timeline import insert_entries


@dataclass
class StatusInput:
    """A status to record for one student; ``note``, ``temperature`` and ``risk_contact``
    None keep today's (a new row: none)."""

    student_id: int
    values: StatusValues
    note: str | None = None
    #: Body temperature in °C, when the recording gave one.
    temperature: Decimal | None = None
    #: Whether a contact with Hubei or a risk area in the last 14 days was reported.
    risk_contact: bool | None = None


@dataclass
class ApplyResult:
    confirmed: int = 0
    changed: int = 0


def _check_caseload(by: User, ids: list[int], day) -> None:
    if len(set(ids)) != len(ids):
        raise RuleError("duplicate-rows")
    if not keeps_caseload(by):
        raise RuleError("not-your-student")
    own = set()
    for chunk in chunks(ids):
        own.update(db.session.scalars(
            select(Student.id).where(Student.id.in_(chunk), working_caseload_filter(by, day))
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
    a timeline entry for each change, the audit events; the students' profile location and
    on-campus flag follow (see :func:`_follow_profile`); then the status rules fire
    (:func:`status_rules.apply_rules`).

    :raise RuleError: "not-your-student", "duplicate-rows", "invalid-health",
        "missing-location", "recorded-meanwhile" when another window recorded a status first.
    """
    day = local_today(now)
    ids = [item.student_id for item in items]
    _check_caseload(by, ids, day)
    current = statuses_for(ids, day)
    planned = []
    for item in items:
        values = check_values(item.values)
        status = current[item.student_id]
        planned.append((item, values, status, status.values.diff(values)))

    inserts, updates, confirmations, entries, result = [], [], [], [], ApplyResult()
    students = {}
    for chunk in chunks(ids):
        students.update({s.id: s for s in db.session.scalars(
            select(Student).where(Student.id.in_(chunk)))})
    # A change counts against the report of the student's own counsellor (a cover records
    # for a colleague's caseload too).
    after_of = {cid: changed_after(get_report(cid, day))
                for cid in {s.counsellor_id for s in students.values()}}
    with_history = _with_history(ids, day)
    known_contacts = status_rules.known_risk_contacts(
        [item.student_id for item in items if item.risk_contact], day)
    rule_inputs, moves = [], []
    for item, values, status, changes in planned:
        student = students[item.student_id]
        after = after_of[student.counsellor_id]
        note = status.note if item.note is None else item.note.strip()[:2000]
        row = {
            "province": values.province, "city": values.city, "on_campus": values.on_campus,
            **place_codes(values.province, values.city),
            "health": values.health, "note": note, "source": str(source),
            "recorded_by_id": by.id, "recorded_at": now,
        }
        if item.temperature is not None:
            row["temperature"] = item.temperature
        if item.risk_contact is not None:
            row["risk_contact"] = bool(item.risk_contact)
        if status.row_id is None:
            inserts.append({"student_id": item.student_id, "day": day, "temperature": None,
                            "risk_contact": False, **row,
                            "changed_after": after if changes else None})
        elif changes:
            updates.append({"id": status.row_id, **row, "changed_after": after})
        else:  # confirmed unchanged: when it last changed stays as it was
            confirmations.append({"id": status.row_id, **row})
        result.confirmed += 1
        if item.student_id in with_history and _moved(student, values):
            moves.append((student, values))
        rule_inputs.append(status_rules.RuleInput(
            student, status.values, values, item.temperature,
            bool(item.risk_contact) and item.student_id not in known_contacts,
        ))
        if changes:
            result.changed += 1
            entries.append({
                "student_id": item.student_id, "kind": EntryKind.STATUS_CHANGE,
                "author_id": by.id, "body": note if item.note is not None else "",
                "occurred_at": now, "created_at": now,
                "covering_for_id": (student.counsellor_id if student.counsellor_id != by.id
                                    else None),
                "details": {
                    "day": day.isoformat(),
                    "source": str(source),
                    "changes": {
                        name: {"from": old, "to": new} for name, (old, new) in changes.items()
                    },
                },
            })
    try:
        with tallies.tracking(day, ids):  # the day's numbers follow, in this transaction
            if inserts:
                # Core executemany: a whole caseload in one statement, without ORM bookkeeping.
                db.session.execute(insert(DailyStatus.__table__), inserts)
            for rows in (updates, confirmations):
                for group in _by_keys(rows):
                    db.session.execute(update(DailyStatus), group)
            insert_entries(entries)  # the changes' timeline entries, in a few statements
            _follow_profiles(moves)
            db.session.flush()
    except IntegrityError as exc:  # another window inserted the day's row first
        raise RuleError("recorded-meanwhile") from exc
    _audit(by, items, str(source), now, ip)
    status_rules.apply_rules(by, rule_inputs, str(source), now, day, ip=ip)
    return result


def _with_history(ids: list[int], day) -> set[int]:
    """The students with a status before ``day``."""
    found: set[int] = set()
    for chunk in chunks(ids):
        found.update(db.session.scalars(select(DailyStatus.student_id).distinct().where(
            DailyStatus.student_id.in_(chunk), DailyStatus.day < day)))
    return found


def _moved(student: Student, values: StatusValues) -> bool:
    """Whether the status puts the student somewhere their profile does not say."""
    return (student.province, student.city, student.on_campus) != (
        values.province, values.city, values.on_campus)


def _follow_profiles(moves: list[tuple[Student, StatusValues]]) -> None:
    """Move the students' profile location and on-campus flag to their new status, in one
    statement (a whole caseload may move at once); the loaded students say the same.

    Only for students with a status before today (the caller checks): until then the profile
    is the roster's, the baseline the carry-forward compares a first status with (its changes
    of the day). The student's version is not bumped: a place is no edit of the record.
    """
    if not moves:
        return
    table = Student.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("student_id")).values(
            province=bindparam("new_province"), city=bindparam("new_city"),
            province_code=bindparam("new_province_code"), city_code=bindparam("new_city_code"),
            on_campus=bindparam("new_on_campus")),
        [{"student_id": student.id, "new_province": values.province,
          "new_city": values.city, "new_on_campus": values.on_campus,
          **{f"new_{k}": v for k, v in place_codes(values.province, values.city).items()}}
         for student, values in moves],
    )
    for student, values in moves:
        set_committed_value(student, "province", values.province)
        set_committed_value(student, "city", values.city)
        for name, code in place_codes(values.province, values.city).items():
            set_committed_value(student, name, code)
        set_committed_value(student, "on_campus", values.on_campus)


def _by_keys(rows: list[dict]) -> list[list[dict]]:
    """Split update rows into groups that set the same columns (one executemany each)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


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
