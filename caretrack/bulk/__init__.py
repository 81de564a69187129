"""Bulk actions on the lists (caseload, re-checks, chase list, roster) and the transfer page."""

from flask import Blueprint

bp = Blueprint("bulk", __name__)

from caretrack.bulk import views  # noqa: E402,F401
