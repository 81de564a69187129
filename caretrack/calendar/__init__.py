"""Each user's personal calendar feed of open re-checks."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)

from caretrack.calendar import views  # noqa: E402,F401
