"""Each user's personal calendar feed of open re-checks, and regenerating its secret URL."""

from flask import Response, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from caretrack.calendar import bp
from caretrack.extensions import limiter
from caretrack.models import now_utc
from caretrack.security import address_key, config_limit
from caretrack.services.calendar_feed import (
    regenerate_calendar_token,
    serve_feed,
    user_by_calendar_token,
)
from caretrack.web import client_address, commit_write


def _student_url(student_id: int) -> str:
    return url_for("students.detail", student_id=student_id, _external=True)


@bp.get("/<token>.ics")
@limiter.limit(config_limit("CALENDAR_LIMIT"), key_func=address_key, scope="calendar")
@limiter.limit(config_limit("CALENDAR_MISS_LIMIT"), key_func=address_key, scope="calendar-miss",
               deduct_when=lambda response: response.status_code == 404)
def feed(token: str):
    """Serve the token owner's open re-checks as an iCalendar feed; no sign-in needed.

    :raise 404: if no active user has this token.
    """
    user = user_by_calendar_token(token)
    if user is None:
        abort(404)
    body = commit_write(lambda: serve_feed(user, now=now_utc(), student_url=_student_url,
                                           ip=client_address())).result
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="caretrack-rechecks.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/token")
@login_required
def regenerate_token():
    """Give the signed-in user a new calendar feed URL; the old one stops working."""
    commit_write(lambda: regenerate_calendar_token(current_user))
    flash(_("Your calendar feed has a new address; the old one no longer works."), "success")
    return redirect(url_for("auth.account") + "#calendar-feed")
