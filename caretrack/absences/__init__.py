"""Absences and cover: a counsellor away, and the colleagues who cover their caseload."""

from flask import Blueprint

bp = Blueprint("absences", __name__)

from caretrack.absences import views  # noqa: E402,F401
