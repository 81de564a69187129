"""The identity check on a class link, its throttle, and the phone that remembers a student.

A student proves who they are with their student number and the last four digits of the phone
on the roster. An unknown number and wrong digits get the same answer. Five failed tries for
one number, or twenty from one address, within an hour make that number or address wait; the
count is kept in the database, so every worker sees it.
"""

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, delete, func, select

from caretrack.extensions import db
from caretrack.models import CheckinAttempt, CheckinLink, Student
from caretrack.services.audit import record_event

#: Name of the signed cookie that remembers the student on a class link.
DEVICE_COOKIE = "caretrack_checkin"
WINDOW = timedelta(hours=1)
MAX_PER_NUMBER = 5
MAX_PER_ADDRESS = 20


@dataclass
class Verification:
    """The outcome of an identity check: the student, or the code of the refusal."""

    student: Student | None = None
    #: "checkin-identity" (number or digits wrong) or "checkin-wait" (too many tries).
    code: str | None = None


def of_link_class(link: CheckinLink):
    """The SQL condition on ``Student`` of the students of a class link's class: its
    college's class of that name (another college's class of the same name is not it)."""
    return and_(Student.college_id == link.college_id, Student.class_name == link.class_name)


def _failures(key: str, now: datetime) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CheckinAttempt)
        .where(CheckinAttempt.key == key, CheckinAttempt.at > now - WINDOW)
    )


def verify_identity(link: CheckinLink, number: str, digits: str, now: datetime,
                    ip: str = "") -> Verification:
    """Check a student number and the phone's last four digits against the class's roster.

    A failure is counted (the caller commits it); while the number or the address waits, even
    a correct answer is refused.
    """
    number, digits = (number or "").strip()[:32], (digits or "").strip()
    keys = [f"number:{number}"[:80], f"address:{ip}"[:80]]
    if (_failures(keys[0], now) >= MAX_PER_NUMBER
            or _failures(keys[1], now) >= MAX_PER_ADDRESS):
        return Verification(code="checkin-wait")
    student = db.session.scalars(
        select(Student).where(Student.student_number == number, of_link_class(link))
    ).one_or_none()
    phone = student.phone.strip() if student is not None else ""
    expected = phone[-4:] if len(phone) >= 4 else "no phone on the roster"
    if student is None or not hmac.compare_digest(expected.encode(), digits.encode()):
        db.session.execute(delete(CheckinAttempt).where(
            CheckinAttempt.key.in_(keys), CheckinAttempt.at <= now - WINDOW))
        db.session.add_all([CheckinAttempt(key=key, at=now) for key in keys])
        record_event("checkin.verify_failed", None, now=now, ip=ip)
        db.session.flush()
        return Verification(code="checkin-identity")
    record_event("checkin.verify", None, student.id, now=now, ip=ip)
    db.session.flush()
    return Verification(student=student)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="caretrack-checkin-device")


def device_token(student: Student, link: CheckinLink) -> str:
    """The signed cookie value that remembers ``student`` on this generation of the link."""
    return _serializer().dumps([student.id, link.id, link.generation])


def device_student(link: CheckinLink, value: str | None) -> Student | None:
    """The student a phone's cookie remembers on ``link``; None when absent, forged, from
    another link or an older generation, or when the student left the class."""
    if not value:
        return None
    try:
        student_id, link_id, generation = _serializer().loads(value)
    except (BadSignature, ValueError, TypeError):
        return None
    if link_id != link.id or generation != link.generation:
        return None
    return db.session.scalars(
        select(Student).where(Student.id == student_id, of_link_class(link))
    ).one_or_none()
