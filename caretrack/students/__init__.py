"""The students blueprint: the caseload list, the student page and the forms that add to its
timeline, for everyone who reads case content."""

from flask import Blueprint

from caretrack.access import can_read_cases, requires

bp = Blueprint("students", __name__)


@bp.before_request
@requires(can_read_cases)
def require_case_reader():
    """Sign-in first; a user who reads no case content (the admin) gets a 404."""


from caretrack.students import exports, privacy, views  # noqa: E402,F401
