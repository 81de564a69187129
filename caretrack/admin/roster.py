"""The admin's roster: the searchable list, its export, and the empty import template."""

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from caretrack.admin import bp
from caretrack.downloads import download_response, export_response
from caretrack.extensions import db
from caretrack.models import now_utc
from caretrack.services.exports import MIMETYPES
from caretrack.services.roster import (
    export_columns,
    roster_rows_query,
    search_roster,
    template_file,
)


def _search_text() -> str:
    return request.args.get("q", "").strip()[:100]


@bp.get("/roster")
def roster():
    q = _search_text()
    page = db.paginate(search_roster(current_user, q), per_page=50, error_out=False)
    return render_template("admin/roster.html", page=page, q=q)


@bp.get("/roster/template.<any(xlsx, csv):fmt>")
def roster_template(fmt: str):
    """Download an empty roster file with the column headers."""
    name = _("roster-template")
    return download_response(template_file(fmt), f"{name}.{fmt}", MIMETYPES[fmt],
                             ascii_name=f"roster-template.{fmt}")


@bp.get("/roster/export/<any(xlsx, csv):fmt>")
def roster_export(fmt: str):
    """Download the roster (with the roster page's search) in the import's columns."""
    rows = db.session.execute(roster_rows_query(search_roster(current_user, _search_text()))).all()
    response = export_response("roster", fmt, export_columns(current_user), rows, current_user,
                               title=_("Roster"), now=now_utc())
    db.session.commit()
    return response
