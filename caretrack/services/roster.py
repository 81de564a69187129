"""The roster as the admin reads it: the search, the export in the import's columns (so an
export imports back as is) and the empty template."""

import io
from datetime import datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, or_

from caretrack.access import is_supervisor_account, roster_students, same_college
from caretrack.extensions import db
from caretrack.labels import GENDER, LEAVING, PROGRAMME
from caretrack.models import Student, User, now_utc
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError
from caretrack.services.exports import ExportColumn
from caretrack.services.roster_columns import (
    BLANK_CELLS_HELP,
    COLUMNS,
    STUDENT_FIELDS,
    RosterAccounts,
)
from caretrack.services.spreadsheets import csv_bytes


def search_roster(user: User, text: str = "") -> Select[tuple[Student]]:
    """Return the students on ``user``'s roster whose name or student number contains
    ``text``, by student number."""
    query = roster_students(user).order_by(Student.student_number)
    if text:
        pattern = f"%{text}%"
        query = query.where(or_(Student.name.ilike(pattern), Student.student_number.ilike(pattern)))
    return query


def export_columns(user: User) -> list:
    """Return the roster export's columns: the import's, so an export imports back as is
    (into the user's college)."""
    people = RosterAccounts(user.college_id)

    def person(attribute):
        return lambda s: people.reference(getattr(s, attribute))

    def yes_no(attribute):
        return lambda s: _("Yes") if getattr(s, attribute) else _("No")

    values = {
        "student_number": lambda s: s.student_number,
        "name": lambda s: s.name,
        "gender": lambda s: str(GENDER.get(s.gender, s.gender)),
        "programme": lambda s: str(PROGRAMME.get(s.programme, s.programme)),
        "cohort": lambda s: s.cohort,
        "class_name": lambda s: s.class_name,
        "counsellor": person("counsellor_id"),
        "supervisor": person("supervisor_id"),
        "phone": lambda s: s.phone,
        "province": lambda s: s.province,
        "city": lambda s: s.city,
        "on_campus": yes_no("on_campus"),
        "employed": yes_no("employed"),
        "leaving": lambda s: str(LEAVING.get(s.leaving, s.leaving)) if s.leaving else "",
        "left_on": lambda s: s.left_on.isoformat() if s.left_on else "",
        "email": lambda s: s.email,
    }
    return [ExportColumn(c.label, values[c.field]) for c in COLUMNS]


def roster_rows_query(query):
    """Return ``query`` (a Select of students) reduced to the columns a roster export needs."""
    return query.with_only_columns(
        Student.id, *[getattr(Student, f) for f in STUDENT_FIELDS]
    ).order_by(None).order_by(Student.student_number)


def template_file(fmt: str) -> bytes:
    """Return an empty roster file with the headers in the interface language: CSV, or XLSX
    with text-formatted number columns and a sheet that explains each column."""
    headers = [str(c.label) for c in COLUMNS]
    if fmt == "csv":
        return csv_bytes(headers, [])
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Students")
    sheet.append(headers)
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 14 if column.field != "class_name" else 22
        if column.field in ("student_number", "phone"):
            # Typed numbers stay text, so leading zeros survive.
            sheet.column_dimensions[letter].number_format = "@"
        sheet.cell(row=1, column=index).font = Font(bold=True)
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet(_("Column guide"))
    guide.append([_("Chinese header"), _("English header"), _("Required"), _("What to write")])
    for column in COLUMNS:
        guide.append([column.zh, column.en, _("Yes") if column.required else _("No"),
                      str(column.help)])
    guide.append([])
    guide.append([str(BLANK_CELLS_HELP)])
    for letter, width in zip("ABCD", (14, 22, 10, 70), strict=True):
        guide.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def assign_supervisor(student: Student, supervisor: User, by: User, *,
                      now: datetime | None = None, ip: str = "") -> Student:
    """Make ``supervisor`` the student's academic supervisor (roster data: no timeline entry;
    the referrals made to the previous one stay with them).

    :raise RuleError: "not-a-supervisor" (to_id), "supervisor-elsewhere" (to_id) for a
        supervisor of another college than the student's, "supervisor-unchanged".
    """
    if not is_supervisor_account(supervisor):
        raise RuleError("not-a-supervisor", "to_id")
    if not same_college(supervisor, student):
        raise RuleError("supervisor-elsewhere", "to_id")
    if student.supervisor_id == supervisor.id:
        raise RuleError("supervisor-unchanged", "to_id")
    now = now or now_utc()
    previous = student.supervisor_id
    student.supervisor_id = supervisor.id
    db.session.flush()
    record_event("student.supervisor", by, student.id,
                 detail=f"from:{previous or ''} to:{supervisor.id}", now=now, ip=ip)
    return student
