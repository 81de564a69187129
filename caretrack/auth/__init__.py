"""Sign in, sign out, and the user's own account settings."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from caretrack.auth import reminders, tokens, views  # noqa: E402,F401
