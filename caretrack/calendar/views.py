"""Each user's personal calendar feed of open re-checks (issue: re-checks)."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)
