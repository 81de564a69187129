"""The re-check list, and adding, rescheduling and cancelling a re-check."""

from flask import Blueprint

bp = Blueprint("rechecks", __name__)

from caretrack.rechecks import views  # noqa: E402,F401
