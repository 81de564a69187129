"""The admin's pages: accounts, the roster and its import, the care categories, the audit log.
The admin never reads case timelines."""

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from caretrack.access import can_manage_roster, manages_accounts

bp = Blueprint("admin", __name__)

#: The pages of accounts, which the university admin uses too (for the colleges' admins).
ACCOUNT_PAGES = {"admin.users", "admin.new_user", "admin.edit_user"}


@bp.before_request
@login_required
def require_admin():
    """Every admin page is a college admin's alone, the accounts pages also the university
    admin's (anyone else gets a 404)."""
    allowed = manages_accounts if request.endpoint in ACCOUNT_PAGES else can_manage_roster
    if not allowed(current_user):
        abort(404)


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
