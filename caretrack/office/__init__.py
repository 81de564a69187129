"""The university office's pages: every college's sign-off and numbers, the lists behind
them (name, college, class, status: nothing else), the university report."""

from flask import Blueprint

from caretrack.access import reads_university_reports, requires

bp = Blueprint("office", __name__)


@bp.before_request
@requires(reads_university_reports)
def require_office():
    """Every page here is the university office's alone (anyone else gets a 404)."""


from caretrack.office import views  # noqa: E402,F401
