"""The deputy secretary's review queue of high-concern students."""

from flask import Blueprint

bp = Blueprint("review", __name__)

from caretrack.review import views  # noqa: E402,F401
