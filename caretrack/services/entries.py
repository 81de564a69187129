"""Recording what a counsellor did for a student: follow-ups, supply deliveries, notes and
corrections. Each is one timeline entry and one audit event; entries are never changed."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from sqlalchemy import select

from caretrack.access import can_record_for
from caretrack.extensions import db
from caretrack.models import EntryKind, Student, TimelineEntry, User, now_utc
from caretrack.services import rechecks
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError
from caretrack.services.timeline import add_entry


class Channel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    VIDEO = "video"
    IN_PERSON = "in_person"
    EMAIL = "email"


class HealthObserved(StrEnum):
    NORMAL = "normal"
    SYMPTOMS = "symptoms"
    UNKNOWN = "unknown"


class DeliveryPlace(StrEnum):
    DORMITORY = "dormitory"
    CONFERENCE_CENTRE = "conference_centre"
    OTHER = "other"


#: Kinds whose content is what the counsellor wrote, and which a correction may correct.
#: Categories, concern levels and referrals change through their own steps instead.
CORRECTABLE_KINDS = frozenset(
    {EntryKind.FOLLOW_UP, EntryKind.DELIVERY, EntryKind.NOTE, EntryKind.CORRECTION}
)
#: How far in the future a "when" may be, to allow for clocks that differ a little.
CLOCK_SLACK = timedelta(minutes=5)


def _check_recorder(student: Student, by: User) -> None:
    if not can_record_for(by, student):
        raise RuleError("not-allowed")


def _check_when(occurred_at: datetime, now: datetime) -> None:
    if occurred_at > now + CLOCK_SLACK:
        raise RuleError("in-future", "occurred_at")


def _audit(action: str, by: User, entry: TimelineEntry, now: datetime, ip: str) -> None:
    record_event(action, by, entry.student_id, detail=f"entry:{entry.id}", now=now, ip=ip)


def record_follow_up(
    student: Student,
    by: User,
    *,
    channel: str,
    reached: bool,
    health: str,
    body: str = "",
    occurred_at: datetime | None = None,
    check_again_in_days: int | None = None,
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> TimelineEntry:
    """Record a follow-up contact, then let the re-check rules complete and schedule re-checks.

    :raise RuleError: if ``by`` is not the student's counsellor or the contact is in the
        future.
    :raise DuplicateSubmission: if the form was recorded already.
    """
    now = now or now_utc()
    occurred_at = occurred_at or now
    _check_recorder(student, by)
    _check_when(occurred_at, now)
    if check_again_in_days is not None and check_again_in_days < 0:
        raise RuleError("negative-interval", "check_again_in_days")
    entry = add_entry(
        student, EntryKind.FOLLOW_UP, by, body=body, occurred_at=occurred_at, now=now,
        submission_key=submission_key,
        details={
            "channel": str(Channel(channel)),
            "reached": bool(reached),
            "health": str(HealthObserved(health)),
            "check_again_in_days": check_again_in_days,
        },
    )
    rechecks.on_follow_up(student, entry, by, check_again_in_days=check_again_in_days, now=now)
    _audit("follow_up.create", by, entry, now, ip)
    return entry


#: The largest quantity of one delivery line, and its decimals.
MAX_QUANTITY = Decimal("9999")
QUANTITY_PLACES = 2
UNIT_MAX = 20


def parse_quantity(value) -> Decimal | None:
    """A delivery quantity as a positive number of at most two decimals (``"1.5"``, ``2``), or
    None when it is not one."""
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not quantity.is_finite() or quantity <= 0 or quantity > MAX_QUANTITY:
        return None
    if -quantity.normalize().as_tuple().exponent > QUANTITY_PLACES:
        return None
    return quantity


def delivery_line(name: str, quantity, unit: str = "") -> dict:
    """One stored delivery line: its name, its quantity as text ("20", "1.5") and its unit.

    :raise RuleError: if the quantity is not a positive number or the unit is too long.
    """
    parsed = parse_quantity(quantity)
    unit = (unit or "").strip()
    if parsed is None or len(unit) > UNIT_MAX:
        raise RuleError("bad-quantity", "items")
    return {"name": name.strip(), "quantity": f"{parsed.normalize():f}", "unit": unit}


def record_delivery(
    student: Student,
    by: User,
    *,
    items: list[tuple],
    place: str,
    received: bool,
    delivered_by: str,
    place_detail: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> TimelineEntry:
    """Record a supply delivery: the items (name, quantity and, optionally, a unit such as 箱
    or kg), where, received or not, by whom.

    :raise RuleError: if ``by`` is not the student's counsellor, there is no item, a
        quantity is not a positive number, or the delivery is in the future.
    :raise DuplicateSubmission: if the form was recorded already.
    """
    now = now or now_utc()
    occurred_at = occurred_at or now
    _check_recorder(student, by)
    _check_when(occurred_at, now)
    lines = [delivery_line(*item) for item in items if item[0].strip()]
    if not lines:
        raise RuleError("no-items", "items")
    entry = add_entry(
        student, EntryKind.DELIVERY, by, body=body, occurred_at=occurred_at, now=now,
        submission_key=submission_key,
        details={
            "items": lines,
            "place": str(DeliveryPlace(place)),
            "place_detail": place_detail.strip(),
            "received": bool(received),
            "delivered_by": delivered_by.strip(),
        },
    )
    _audit("delivery.create", by, entry, now, ip)
    return entry


def record_note(
    student: Student,
    by: User,
    *,
    body: str,
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> TimelineEntry:
    """Add a free-text note to the student's timeline.

    :raise RuleError: if ``by`` is not the student's counsellor or the note is empty.
    :raise DuplicateSubmission: if the form was recorded already.
    """
    now = now or now_utc()
    _check_recorder(student, by)
    if not body.strip():
        raise RuleError("empty", "body")
    entry = add_entry(student, EntryKind.NOTE, by, body=body, now=now,
                      submission_key=submission_key)
    _audit("note.create", by, entry, now, ip)
    return entry


def correction_of(entry: TimelineEntry) -> TimelineEntry | None:
    """Return the entry that corrects ``entry``, if any."""
    return db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.corrects_id == entry.id)
    ).first()


def record_correction(
    entry: TimelineEntry,
    by: User,
    *,
    body: str,
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> TimelineEntry:
    """Correct an entry with a new one that points at it; the original stays as it was.

    :raise RuleError: if ``by`` is not the student's counsellor, the entry's kind is not
        corrected this way, it has a correction already, or the text is empty.
    :raise DuplicateSubmission: if the form was recorded already.
    """
    now = now or now_utc()
    student = entry.student
    _check_recorder(student, by)
    if entry.kind not in CORRECTABLE_KINDS:
        raise RuleError("not-correctable")
    if correction_of(entry) is not None:
        raise RuleError("already-corrected", "body")
    if not body.strip():
        raise RuleError("empty", "body")
    correction = add_entry(
        student, EntryKind.CORRECTION, by, body=body, now=now, corrects_id=entry.id,
        submission_key=submission_key,
        details={"corrects_kind": entry.kind,
                 "corrects_occurred_at": entry.occurred_at.isoformat()},
    )
    _audit("correction.create", by, correction, now, ip)
    return correction
