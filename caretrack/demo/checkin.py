"""The students' own check-ins of the season: most of the class sheet's answers were in fact
self-reports, most before the 10:00 cut-off, a tail after it; the students who never answered
stay unconfirmed. Runs after ``daily``: it turns its uploaded statuses into self-reports."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import insert, select, update

from caretrack.extensions import db
from caretrack.models import CheckIn, DailyStatus, Health, LinkKind, StatusSource
from caretrack.services.checkin import cutoff
from caretrack.services.clock import local_datetime
from caretrack.services.daily import tallies

#: Share of the sheet's answers that came from the students themselves.
SELF_SHARE = 0.8


def _at(rng, day: date) -> datetime:
    if rng.random() < 0.85:  # before the cut-off
        moment = time(rng.randint(7, 9), rng.randint(0, 59))
    else:
        moment = time(rng.randint(10, 11), rng.randint(0, 59))
    return local_datetime(day, moment).astimezone(UTC)


def seed(ctx) -> None:
    """Turn most uploaded statuses of the season into the students' own check-ins."""
    rng = ctx.rng
    rows = db.session.execute(
        select(DailyStatus.id, DailyStatus.student_id, DailyStatus.day, DailyStatus.province,
               DailyStatus.city, DailyStatus.on_campus, DailyStatus.health)
        .where(DailyStatus.source == StatusSource.UPLOAD).order_by(DailyStatus.id)
    ).all()
    updates, checkins = [], []
    cutoffs: dict[date, datetime] = {}
    for row_id, student_id, day, province, city, on_campus, health in rows:
        if rng.random() > SELF_SHARE:
            continue
        at = _at(rng, day)
        if at > ctx.now:
            continue
        limit = cutoffs.setdefault(day, cutoff(day))
        updates.append({"id": row_id, "source": StatusSource.SELF_REPORTED.value,
                        "recorded_by_id": None, "recorded_at": at})
        checkins.append({
            "student_id": student_id, "day": day, "submitted_at": at, "province": province,
            "city": city, "abroad": False, "country": "", "on_campus": on_campus,
            "health": health,
            "temperature": Decimal(rng.choice(["37.4", "37.8", "38.2"]))
            if health == Health.FEVER else None,
            "risk_contact": False, "note": "", "late": at > limit,
            "via": LinkKind.CLASS.value if rng.random() < 0.8 else LinkKind.PERSONAL.value,
            "applied": True,
        })
    if updates:
        db.session.execute(update(DailyStatus), updates)
        db.session.execute(insert(CheckIn.__table__), checkins)
        tallies.forget()  # the sources changed around the status service: count again
    db.session.flush()
