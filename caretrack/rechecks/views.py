"""The re-check list (issue: re-checks)."""

from flask import Blueprint

bp = Blueprint("rechecks", __name__)
