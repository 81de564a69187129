"""Notices to students: writing them, their coverage, and chasing who has not acknowledged."""

from flask import Blueprint

bp = Blueprint("notices", __name__)

from caretrack.notices import views  # noqa: E402,F401
