"""A student's check-in: its rules, and how it becomes the day's status.

Every submission is kept (:class:`CheckIn`); the day's last one is the student's status with
source "self-reported", through the daily report's own status-writing path, so it makes a
timeline entry like any status change. A status recorded by the counsellor or uploaded that
day stands: a later check-in is kept but does not replace it. After the students' cut-off
(CHECKIN_DEADLINE) a check-in still counts and is marked late.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from caretrack.extensions import db
from caretrack.models import CheckIn, DailyStatus, Health, StatusSource, Student
from caretrack.services.audit import record_event
from caretrack.services.checkin.places import ABROAD, city_in, find_province
from caretrack.services.clock import local_datetime, local_today
from caretrack.services.daily.statuses import StatusInput, apply_statuses
from caretrack.services.daily.values import CAMPUS_LOCATION, StatusValues
from caretrack.services.errors import RuleError

MIN_TEMPERATURE = Decimal("34.0")
MAX_TEMPERATURE = Decimal("43.0")
#: Sources whose status of the day a check-in does not replace.
_STAFF_SOURCES = (StatusSource.COUNSELLOR, StatusSource.UPLOAD)


@dataclass(frozen=True)
class CheckinValues:
    """What a student answers (as typed; :func:`submit_checkin` checks it)."""

    province: str = ""
    city: str = ""
    abroad: bool = False
    country: str = ""
    on_campus: bool = False
    health: str = ""
    temperature: str = ""
    risk_contact: bool = False
    note: str = ""


def cutoff(day: date) -> datetime:
    """The instant of the students' check-in cut-off on ``day`` (college time)."""
    return local_datetime(day, time.fromisoformat(current_app.config["CHECKIN_DEADLINE"]))


def _temperature(values: CheckinValues) -> Decimal | None:
    text = (values.temperature or "").strip().replace(",", ".").removesuffix("℃").strip()
    if not text:
        if values.health == Health.FEVER:
            raise RuleError("checkin-temperature-needed", "temperature")
        return None
    try:
        value = Decimal(text).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise RuleError("checkin-temperature", "temperature") from None
    if not MIN_TEMPERATURE <= value <= MAX_TEMPERATURE:
        raise RuleError("checkin-temperature", "temperature")
    return value


def _place(values: CheckinValues) -> tuple[str, str, str]:
    """(province, city, country) as stored; raise RuleError beside the wrong field."""
    if values.abroad:
        country = (values.country or "").strip()[:60]
        if not country:
            raise RuleError("checkin-no-country", "country")
        return ABROAD, country[:50], country
    if values.on_campus and not values.province:
        return (*CAMPUS_LOCATION, "")
    province = find_province(values.province)
    if province is None:
        raise RuleError("checkin-no-province", "province")
    city = city_in(province, values.city)
    if city is None:
        raise RuleError("checkin-city-not-in-province", "city", province=province.label)
    return province.value, city.value, ""


def check_values(values: CheckinValues) -> tuple[str, str, str, Decimal | None]:
    """Check a check-in's answers; return (province, city, country, temperature).

    :raise RuleError: with the field it belongs to.
    """
    if values.health not in {h.value for h in Health}:
        raise RuleError("empty", "health")
    province, city, country = _place(values)
    return province, city, country, _temperature(values)


def _status_note(temperature: Decimal | None, risk_contact: bool, note: str) -> str:
    parts = []
    if temperature is not None:
        parts.append(f"{temperature}℃")
    if risk_contact:
        parts.append(_("Contact with Hubei or a risk area in the last 14 days"))
    if note:
        parts.append(note)
    return " · ".join(parts)


def submit_checkin(student: Student, values: CheckinValues, via: str, now: datetime,
                   ip: str = "") -> CheckIn:
    """Record the student's check-in for today and make it the day's status (unless the
    counsellor's or an upload's status of the day stands).

    :raise RuleError: when an answer is missing or wrong, with its field.
    """
    province, city, country, temperature = check_values(values)
    day = local_today(now)
    note = (values.note or "").strip()[:500]
    checkin = CheckIn(
        student_id=student.id, day=day, submitted_at=now, province=province, city=city,
        abroad=values.abroad, country=country, on_campus=bool(values.on_campus),
        health=values.health, temperature=temperature, risk_contact=bool(values.risk_contact),
        note=note, late=now > cutoff(day), via=str(via), applied=True,
    )
    # One student's submissions run one after the other (a double tap sends two at once), so
    # the second sees the status the first recorded and updates it rather than inserting a
    # second one: the student's row is locked where the database locks rows (PostgreSQL), and
    # the submission is written before today's status is read (SQLite takes its one write lock
    # at a transaction's first write).
    db.session.execute(select(Student.id).where(Student.id == student.id).with_for_update())
    db.session.add(checkin)
    db.session.flush()
    todays_source = db.session.scalar(select(DailyStatus.source).where(
        DailyStatus.student_id == student.id, DailyStatus.day == day))
    if todays_source in _STAFF_SOURCES:
        checkin.applied = False
    else:
        status = StatusValues(province, city, bool(values.on_campus), values.health)
        apply_statuses(
            student.counsellor,
            [StatusInput(student.id, status,
                         _status_note(temperature, checkin.risk_contact, note),
                         temperature=temperature, risk_contact=checkin.risk_contact)],
            now, source=StatusSource.SELF_REPORTED,
        )
        # the student recorded it, not the counsellor
        db.session.execute(update(DailyStatus).where(
            DailyStatus.student_id == student.id, DailyStatus.day == day
        ).values(recorded_by_id=None))
    record_event("checkin.submit", None, student.id, now=now, ip=ip,
                 detail=f"via={via} late={int(checkin.late)} applied={int(checkin.applied)}")
    db.session.flush()
    return checkin


def todays_checkins(student: Student, now: datetime) -> list[CheckIn]:
    """The student's check-ins of today, latest first."""
    return list(db.session.scalars(
        select(CheckIn).where(CheckIn.student_id == student.id,
                              CheckIn.day == local_today(now))
        .order_by(CheckIn.submitted_at.desc(), CheckIn.id.desc())))


def _values_of(province: str, city: str, on_campus: bool, health: str) -> CheckinValues:
    if province == ABROAD:
        return CheckinValues(abroad=True, country=city, on_campus=False, health=health)
    return CheckinValues(province=province, city=city, on_campus=on_campus, health=health)


def prefill(student: Student, now: datetime, todays: list[CheckIn] | None = None
            ) -> CheckinValues:
    """The answers to show: today's last check-in (``todays``, latest first, when the caller
    has them), else the student's last status, else the roster's place."""
    checkins = todays_checkins(student, now) if todays is None else todays
    if checkins:
        last = checkins[0]
        return replace(
            _values_of(last.province, last.city, last.on_campus, last.health),
            temperature=str(last.temperature or ""), risk_contact=last.risk_contact,
            note=last.note,
        )
    # The status carried to today is the latest one on or before it (one lookup by index).
    row = db.session.execute(
        select(DailyStatus.province, DailyStatus.city, DailyStatus.on_campus,
               DailyStatus.health)
        .where(DailyStatus.student_id == student.id, DailyStatus.day <= local_today(now))
        .order_by(DailyStatus.day.desc()).limit(1)
    ).first()
    if row is None:
        return _values_of(student.province, student.city, student.on_campus, Health.NORMAL)
    return _values_of(*row)


def same_as_yesterday(student: Student, now: datetime) -> CheckinValues | None:
    """Yesterday's place with good health, when yesterday's status exists and was normal."""
    row = db.session.scalars(select(DailyStatus).where(
        DailyStatus.student_id == student.id,
        DailyStatus.day == local_today(now) - timedelta(days=1))).one_or_none()
    if row is None or row.health != Health.NORMAL:
        return None
    return _values_of(row.province, row.city, row.on_campus, Health.NORMAL)


def latest_checkins(student_ids: list[int], day: date) -> dict[int, CheckIn]:
    """Each student's last check-in of ``day`` (for the daily page's "late" marks; one query)."""
    if not student_ids:
        return {}
    result: dict[int, CheckIn] = {}
    for row in db.session.scalars(
        select(CheckIn).where(CheckIn.student_id.in_(student_ids), CheckIn.day == day)
        .order_by(CheckIn.submitted_at, CheckIn.id)
    ):
        result[row.student_id] = row
    return result
