"""The daily report: the counsellor's daily page and check-in sheet, the deputy secretary's
board, and the college report."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from caretrack.reports import board, chase, pages, sign_off, views  # noqa: E402,F401
