"""Each user's calendar feed of open re-checks, reached by a secret token in its URL."""

from collections.abc import Callable
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import Recheck, RecheckState, Student, User
from caretrack.models.user import new_token
from caretrack.services.audit import record_event
from caretrack.services.rechecks import on_own_list, with_student


def calendar_rechecks(user: User) -> list[Recheck]:
    """Return the open re-checks of the user's calendar feed, soonest first."""
    return list(
        db.session.scalars(
            with_student()
            .where(on_own_list(user), Recheck.state == RecheckState.OPEN)
            .order_by(Recheck.due_on, Student.student_number, Recheck.id)
        ).unique()
    )


def user_by_calendar_token(token: str) -> User | None:
    """Return the active user whose calendar feed ``token`` names, or None."""
    if not token or len(token) > 64:
        return None
    user = db.session.scalars(select(User).where(User.calendar_token == token)).first()
    return user if user is not None and user.active else None


def regenerate_calendar_token(user: User) -> str:
    """Give the user a new calendar feed token; the old feed URL stops answering."""
    user.calendar_token = new_token()
    db.session.flush()
    return user.calendar_token


def build_calendar(user: User, items: list[Recheck], now: datetime,
                   student_url: Callable[[int], str]) -> bytes:
    """Return the iCalendar text of ``items`` (re-checks) as all-day events; each links to
    ``student_url(student_id)``."""
    calendar = Calendar()
    calendar.add("prodid", "-//CareTrack//Re-checks//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("CareTrack re-checks · %(name)s", name=user.display_name))
    for recheck in items:
        student = recheck.student
        event = Event()
        event.add("uid", f"recheck-{recheck.id}@caretrack")
        event.add("dtstamp", now)
        event.add("dtstart", recheck.due_on)
        event.add("dtend", recheck.due_on + timedelta(days=1))
        event.add("summary", _("Re-check: %(name)s (%(number)s)", name=student.name,
                               number=student.student_number))
        why = [label("recheck_origin", recheck.origin)]
        if recheck.category is not None:
            why.append(recheck.category.name_for(user.locale))
        if recheck.reason:
            why.append(recheck.reason)
        event.add("description", " · ".join(why))
        event.add("url", student_url(student.id))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


def serve_feed(user: User, *, now: datetime, student_url: Callable[[int], str],
               ip: str = "") -> bytes:
    """Return the user's feed of open re-checks, in their language, and audit the fetch."""
    with force_locale(user.locale or "zh_CN"):
        body = build_calendar(user, calendar_rechecks(user), now, student_url)
    record_event("calendar.feed", user, now=now, ip=ip)
    return body
