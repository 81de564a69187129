"""The college's calendar: what day it is, and when a local day starts, in its timezone."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def college_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["CARETRACK_TIMEZONE"])


def local_today(now: datetime) -> date:
    """The college's calendar day at the instant ``now`` (timezone-aware)."""
    return now.astimezone(college_tz()).date()


def local_datetime(day: date, at: time) -> datetime:
    """The instant of local time ``at`` on ``day`` in the college's timezone."""
    return datetime.combine(day, at, tzinfo=college_tz())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants (aware) at which the college's ``day`` starts and the next one starts."""
    start = local_datetime(day, time.min)
    return start, local_datetime(day + timedelta(days=1), time.min)


def college_today() -> date:
    """The college's calendar day now (the clock of the access rules' dated conditions)."""
    from caretrack.models.base import now_utc

    return local_today(now_utc())
