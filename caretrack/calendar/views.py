"""Each user's personal calendar feed of open re-checks, and regenerating its secret URL."""

from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from icalendar import Calendar, Event

from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import now_utc
from caretrack.services import rechecks
from caretrack.services.audit import record_event

bp = Blueprint("calendar", __name__)


def build_calendar(user, items, now) -> bytes:
    """Return the iCalendar text of ``items`` (re-checks) as all-day events."""
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
        event.add("url", url_for("students.detail", student_id=student.id, _external=True))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


@bp.get("/<token>.ics")
def feed(token: str):
    """Serve the token owner's open re-checks as an iCalendar feed; no sign-in needed.

    :raise 404: if no active user has this token.
    """
    user = rechecks.user_by_calendar_token(token)
    if user is None:
        abort(404)
    now = now_utc()
    with force_locale(user.locale or "zh_CN"):
        body = build_calendar(user, rechecks.calendar_rechecks(user), now)
    record_event("calendar.feed", user)
    db.session.commit()
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="caretrack-rechecks.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/token")
@login_required
def regenerate_token():
    """Give the signed-in user a new calendar feed URL; the old one stops working."""
    rechecks.regenerate_calendar_token(current_user)
    db.session.commit()
    flash(_("Your calendar feed has a new address; the old one no longer works."), "success")
    return redirect(url_for("auth.account") + "#calendar-feed")
