"""The university admin's pages: the colleges (each college's admin is an account the
university admin opens on the accounts page)."""

from flask import Blueprint

from caretrack.access import manages_colleges, requires

bp = Blueprint("colleges", __name__)


@bp.before_request
@requires(manages_colleges)
def require_university_admin():
    """Every page here is the university admin's alone (anyone else gets a 404)."""


from caretrack.colleges import views  # noqa: E402,F401
