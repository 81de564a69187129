"""The admin's pages: accounts, the roster and its import, the care categories, the audit log.
The admin never reads case timelines."""

from flask import Blueprint

from caretrack.access import can_manage_roster, requires

bp = Blueprint("admin", __name__)


@bp.before_request
@requires(can_manage_roster)
def require_admin():
    """Every admin page is the admin's alone (anyone else gets a 404)."""


from caretrack.admin import (  # noqa: E402,F401
    audit,
    audit_export,
    categories,
    merges,
    roster,
    roster_import,
    status_rules,
    views,
)
