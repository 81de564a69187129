"""The retention policy page (the deputy records it; the admin reads it) and the purge
command."""

from flask import Blueprint

bp = Blueprint("retention", __name__)

from caretrack.retention import views  # noqa: E402,F401
