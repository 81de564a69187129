"""The landing page of each role and the dashboard."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from caretrack.main import dashboard, views  # noqa: E402,F401
