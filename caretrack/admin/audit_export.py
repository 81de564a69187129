"""Export of the audit log, with the audit page's filters (routes on the admin blueprint)."""

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from caretrack.admin import bp
from caretrack.admin.audit import ACTION_LABELS, AuditFilters, audit_query
from caretrack.downloads import export_response
from caretrack.extensions import db
from caretrack.models import AuditEvent, Student, now_utc
from caretrack.services.exports import ExportColumn


def _who(user) -> str:
    return f"{user.display_name} ({user.username})" if user is not None else ""


AUDIT_COLUMNS = [
    ExportColumn(_l("Time"), lambda r: r.AuditEvent.occurred_at),
    ExportColumn(_l("User"), lambda r: _who(r.AuditEvent.user)),
    ExportColumn(_l("Action"), lambda r: str(ACTION_LABELS.get(r.AuditEvent.action, ""))),
    ExportColumn(_l("Action code"), lambda r: r.AuditEvent.action),
    ExportColumn(_l("Student number"), lambda r: r.student_number or ""),
    ExportColumn(_l("Name"), lambda r: r.name or ""),
    ExportColumn(_l("IP address"), lambda r: r.AuditEvent.ip),
    ExportColumn(_l("Detail"), lambda r: r.AuditEvent.detail),
]


@bp.get("/audit/export/<any(xlsx, csv):fmt>")
def audit_export(fmt: str):
    """Download the audit events that match the audit page's filters, newest first."""
    filters = AuditFilters.from_args(request.args)
    query = (
        audit_query(filters, current_user)
        .add_columns(Student.student_number, Student.name)
        .outerjoin(Student, Student.id == AuditEvent.student_id)
    )
    rows = db.session.execute(query).all()
    response = export_response("audit", fmt, AUDIT_COLUMNS, rows, current_user,
                               title=_("Audit log"), now=now_utc())
    db.session.commit()
    return response
