"""The user's imports and exports: a job's progress page, its status for the page's polling,
the list of recent jobs, and a finished job's file."""

from flask import Blueprint

bp = Blueprint("jobs", __name__)

from caretrack.work import views  # noqa: E402,F401
