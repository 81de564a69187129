"""Exports of the caseload list (routes on the students blueprint); a large one is a job."""

from flask import redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from caretrack.downloads import export_response
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import CareCategory, CategoryAssignment, Student, now_utc
from caretrack.services.export_jobs import ExportSource, export_source, is_large, submit_export
from caretrack.services.exports import ExportColumn
from caretrack.services.grouping import group_by_student
from caretrack.services.students import CaseloadFilters, caseload_query
from caretrack.students import bp
from caretrack.web import client_address


def _person(user) -> str:
    return user.display_name if user is not None else ""


def caseload_columns(categories: dict[int, list[str]]) -> list[ExportColumn]:
    """Return the caseload export's columns; ``categories`` holds each student's care
    categories by student id."""
    return [
        ExportColumn(_l("Student number"), lambda s: s.student_number),
        ExportColumn(_l("Name"), lambda s: s.name),
        ExportColumn(_l("Gender"), lambda s: label("gender", s.gender)),
        ExportColumn(_l("Programme"), lambda s: label("programme", s.programme)),
        ExportColumn(_l("Cohort"), lambda s: s.cohort),
        ExportColumn(_l("Class"), lambda s: s.class_name),
        ExportColumn(_l("Province"), lambda s: s.province),
        ExportColumn(_l("City"), lambda s: s.city),
        ExportColumn(_l("On campus (yes/no)"), lambda s: s.on_campus),
        ExportColumn(_l("Care categories"), lambda s: "、".join(categories.get(s.id, []))),
        ExportColumn(_l("Concern"), lambda s: label("concern", s.concern_level)),
        ExportColumn(_l("Counsellor"), lambda s: _person(s.counsellor)),
        ExportColumn(_l("Supervisor"), lambda s: _person(s.supervisor)),
        ExportColumn(_l("Phone"), lambda s: s.phone),
    ]


def categories_by_student(query) -> dict[int, list[str]]:
    """Return the open care categories' names of the students of ``query``, in one query."""
    ids = query.with_only_columns(Student.id).order_by(None)
    rows = db.session.execute(
        select(CategoryAssignment.student_id, CareCategory.name_zh, CareCategory.name_en)
        .join(CareCategory, CareCategory.id == CategoryAssignment.category_id)
        .where(CategoryAssignment.student_id.in_(ids), CategoryAssignment.ended_on.is_(None))
        .order_by(CareCategory.sort_order, CareCategory.id)
    )
    name = 1 if str(get_locale()).startswith("zh") else 2
    return {
        student_id: [row[name] for row in held]
        for student_id, held in group_by_student(rows, lambda row: row[0]).items()
    }


@export_source("caseload")
def caseload_export(user, args) -> ExportSource:
    """The caseload list ``user`` sees with the filters of ``args``, as its export writes it."""
    query = caseload_query(user, CaseloadFilters.from_args(args))
    return ExportSource(caseload_columns(categories_by_student(query)),
                        db.session.scalars(query).all(), _("Student list"))


@bp.get("/export/<any(xlsx, csv):fmt>")
def export(fmt: str):
    """Download the caseload list, with the list's current filters, as XLSX or CSV; a large
    list is written by a job, whose page offers the file."""
    query = caseload_query(current_user, CaseloadFilters.from_args(request.args))
    rows = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if is_large(rows):
        job = submit_export("caseload", fmt, current_user._get_current_object(), request.args,
                            rows=rows, locale=str(get_locale()), ip=client_address())
        return redirect(url_for("jobs.show", job_id=job.id))
    source = caseload_export(current_user, request.args)
    response = export_response("caseload", fmt, source.columns, source.items, current_user,
                               title=source.title, now=now_utc())
    db.session.commit()
    return response
