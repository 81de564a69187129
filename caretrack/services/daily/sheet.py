"""The check-in sheet a class collects: reading it into a preview that writes nothing, the
signed token that applies exactly what was previewed, and the sheet pre-filled with the
caseload's status."""

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from caretrack.access import working_caseload_filter
from caretrack.extensions import db
from caretrack.labels import HEALTH, label
from caretrack.messages import message
from caretrack.models import StatusSource, Student, User
from caretrack.services.clock import local_today
from caretrack.services.daily.carried import Carried, statuses_for
from caretrack.services.daily.statuses import ApplyResult, StatusInput, apply_statuses
from caretrack.services.daily.values import (
    CAMPUS_LOCATION,
    CAMPUS_WORDS,
    NO_WORDS,
    YES_WORDS,
    StatusValues,
    normal_key,
    parse_health,
)
from caretrack.services.errors import RuleError
from caretrack.services.places import normalise_place
from caretrack.services.spreadsheets import SkippedRow, SpreadsheetError, clean_text, read_sheet
from caretrack.services.student_numbers import NumberIndex

SHEET_COLUMNS = {
    "student_number": ("学号", "student number", "student no", "student no.", "student id"),
    "name": ("姓名", "name", "student name"),
    "province": ("省份", "所在省份", "省", "province"),
    "city": ("城市", "所在城市", "所在市", "市", "city"),
    "location": ("所在地", "当前所在地", "现居地", "所在地区", "location", "current location"),
    "on_campus": ("是否在校", "在校", "on campus"),
    "health": ("健康状况", "身体状况", "健康状态", "health", "health status"),
    "note": ("备注", "note", "notes", "remarks"),
}
MAX_SHEET_ROWS = 5000


@dataclass
class SheetProblem:
    """Why a sheet, or one of its rows, is refused: ``row`` None for the whole sheet."""

    code: str
    row: int | None = None
    value: str = ""


@dataclass
class PreviewRow:
    row: int
    student: Student
    values: StatusValues
    note: str | None
    #: The student's status now (today's, or carried forward).
    before: StatusValues
    changes: dict[str, tuple]
    #: The number as the sheet wrote it, when only its lost leading zeros made it match.
    repaired_from: str = ""


@dataclass
class UploadPreview:
    day: date
    rows: list[PreviewRow] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    #: Students of the caseload not in the sheet (they stay non-responders unless confirmed).
    not_in_sheet: int = 0
    #: The sheet read ("" for a CSV file), every sheet's name, the rows left out and why.
    sheet: str = ""
    sheet_names: list[str] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """Whether the whole sheet is refused: a problem of the sheet, or no good row."""
        return any(p.row is None for p in self.problems) or not self.rows

    @property
    def ok(self) -> bool:
        """Whether the good rows can be applied (the bad ones, if any, are left for later)."""
        return not self.refused

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})

    @property
    def repaired_rows(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.repaired_from]

    @property
    def changed_rows(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.changes]

    @property
    def unchanged(self) -> int:
        return len(self.rows) - len(self.changed_rows)


def _parse_on_campus(text: str) -> bool | None:
    key = normal_key(text)
    if key in YES_WORDS:
        return True
    if key in NO_WORDS:
        return False
    raise ValueError(text)


def preview_upload(counsellor: User, filename: str, data: bytes, now: datetime,
                   sheet_name: str | None = None) -> UploadPreview:
    """Read a check-in sheet (``sheet_name`` of a workbook, by default the first with the
    columns) and say what its good rows would change, and every bad row; writes nothing."""
    day = local_today(now)
    preview = UploadPreview(day=day)
    try:
        sheet = read_sheet(filename, data, SHEET_COLUMNS, ("student_number", "health"),
                           sheet=sheet_name)
    except SpreadsheetError as exc:
        preview.problems.append(SheetProblem(exc.code, value=exc.detail))
        return preview
    preview.sheet, preview.sheet_names, preview.skipped = (
        sheet.name, sheet.sheet_names, sheet.skipped)
    columns = sheet.columns
    if "province" not in columns and "location" not in columns:
        preview.problems.append(SheetProblem("missing-columns", value="location"))
        return preview
    if not sheet.rows:
        preview.problems.append(SheetProblem("no-rows"))
        return preview
    if len(sheet.rows) > MAX_SHEET_ROWS:
        preview.problems.append(SheetProblem("too-many-rows", value=str(MAX_SHEET_ROWS)))
        return preview
    read_rows(preview, counsellor, columns, sheet.rows)
    return preview


def read_rows(preview: UploadPreview, counsellor: User, columns: dict[str, int],
              rows: list[tuple[int, list[str]]]) -> None:
    """Parse the rows of a check-in sheet (or of the API's bulk upsert) for ``preview.day``:
    each row becomes a :class:`PreviewRow` or its problems."""
    day = preview.day

    def cell(cells: list[str], name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    caseload = {
        s.student_number: s
        # The counsellor's own students and those they cover that day.
        for s in db.session.scalars(
            select(Student).where(working_caseload_filter(counsellor, day)))
    }
    # A number that lost its leading zeros in a spreadsheet program still finds its student.
    numbers = NumberIndex(caseload)
    current = statuses_for([s.id for s in caseload.values()], day)
    seen: dict[str, int] = {}
    for row_number, cells in rows:
        problems = []
        number = clean_text(cell(cells, "student_number"))
        match = numbers.find(number)
        student = caseload[match.number] if match.number is not None else None
        if not number:
            problems.append(SheetProblem("missing-student-number", row_number))
        elif match.ambiguous:
            problems.append(SheetProblem(
                "ambiguous-number", row_number, f"{number}:{', '.join(match.ambiguous)}"))
        elif student is None:
            # Unknown numbers and other counsellors' students get the same answer.
            problems.append(SheetProblem("not-your-student", row_number, number))
        elif student.student_number in seen:
            problems.append(SheetProblem(
                "duplicate-row", row_number, f"{number}:{seen[student.student_number]}"
            ))
        else:
            seen[student.student_number] = row_number
        name = cell(cells, "name")
        if student is not None and name and "".join(name.split()) != "".join(student.name.split()):
            problems.append(SheetProblem("name-mismatch", row_number, f"{number}:{name}"))
        health_text = cell(cells, "health")
        health = parse_health(health_text)
        if health is None:
            problems.append(SheetProblem("invalid-health", row_number, health_text))
        on_campus_text = cell(cells, "on_campus")
        on_campus = None
        if on_campus_text:
            try:
                on_campus = _parse_on_campus(on_campus_text)
            except ValueError:
                problems.append(SheetProblem("invalid-on-campus", row_number, on_campus_text))
        if "province" in columns:
            written = cell(cells, "province")
            place = normalise_place(written, cell(cells, "city"))
        else:
            written = cell(cells, "location")
            place = normalise_place(written)
            if not place.city and "city" in columns:
                place = normalise_place(place.province, cell(cells, "city"))
        campus_word = normal_key(written) in CAMPUS_WORDS
        province, city = CAMPUS_LOCATION if campus_word else (place.province, place.city)
        if on_campus is None:
            on_campus = campus_word
            if not campus_word and student is not None:
                carried = current[student.id].values
                on_campus = carried.on_campus and (province, city) == (
                    carried.province, carried.city
                )
        if on_campus and not province:
            province, city = CAMPUS_LOCATION
        if not province:
            problems.append(SheetProblem("missing-location", row_number))
        if problems:
            preview.problems.extend(problems)
            continue
        values = StatusValues(province[:50], city[:50], on_campus, health)
        note = cell(cells, "note") if "note" in columns else None
        before = current[student.id].values
        preview.rows.append(PreviewRow(
            row=row_number, student=student, values=values, note=note, before=before,
            changes=before.diff(values), repaired_from=number if match.repaired else "",
        ))
    preview.not_in_sheet = len(caseload) - len(seen)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="daily-checkin-sheet")


#: How long a previewed sheet may wait for its confirmation.
UPLOAD_MAX_AGE = 3600


def upload_token(counsellor: User, preview: UploadPreview) -> str:
    """Sign the previewed rows, so the confirmation applies exactly what was shown."""
    rows = [
        [r.student.id, r.values.province, r.values.city, r.values.on_campus, r.values.health,
         r.note]
        for r in preview.rows
    ]
    return _serializer().dumps({"c": counsellor.id, "d": preview.day.isoformat(), "r": rows})


def apply_upload(counsellor: User, token: str, now: datetime, *, ip: str = "") -> ApplyResult:
    """Record the statuses of a previewed sheet.

    :raise RuleError: "upload-expired" for a bad, old or other user's token, or any error
        of :func:`apply_statuses`.
    """
    try:
        payload = _serializer().loads(token, max_age=UPLOAD_MAX_AGE)
    except (BadSignature, SignatureExpired) as exc:
        raise RuleError("upload-expired") from exc
    if payload.get("c") != counsellor.id or payload.get("d") != local_today(now).isoformat():
        raise RuleError("upload-expired")
    items = [
        StatusInput(student_id, StatusValues(province, city, bool(on_campus), health), note)
        for student_id, province, city, on_campus, health, note in payload["r"]
    ]
    return apply_statuses(counsellor, items, now, source=StatusSource.UPLOAD, ip=ip)


def checkin_sheet_rows(counsellor: User, day: date) -> tuple[list[str], list[list]]:
    """Return the headers and rows of a check-in sheet pre-filled with the caseload's status."""
    carried = Carried(day)
    query = carried.join(
        select(*carried.columns(), Student.student_number, Student.name, Student.class_name)
    ).where(working_caseload_filter(counsellor, day)).order_by(
        Student.class_name, Student.student_number
    )
    headers = [_("Student number"), _("Name"), _("Class"), _("Province"), _("City"),
               _("On campus"), _("Health"), _("Note")]
    rows = []
    for row in db.session.execute(query):
        status = carried.status_of(row)
        number, name, class_name = row[17:]
        rows.append([
            number, name, class_name, status.values.province, status.values.city,
            _("Yes") if status.values.on_campus else _("No"),
            label("health", status.values.health), status.note,
        ])
    return headers, rows



#: The names of the sheet's required columns, as a "missing-columns" problem lists them.
COLUMN_NAMES = {
    "student_number": _l("Student number"),
    "health": _l("Health"),
    "location": _l("Location (or province and city)"),
}


def problem_message(problem: SheetProblem) -> str:
    """Return the user's sentence for one problem of a check-in sheet."""
    values = {"value": problem.value}
    if problem.code == "invalid-health":  # the names only where they are said (thousands of rows)
        values["names"] = _(", ").join(str(v) for v in HEALTH.values())
    if problem.code == "missing-columns":
        values["value"] = _(", ").join(
            str(COLUMN_NAMES.get(name.strip(), name)) for name in problem.value.split(",")
        )
    if problem.code in ("duplicate-row", "name-mismatch", "ambiguous-number"):
        first, _sep, second = problem.value.partition(":")
        values.update(number=first, first=second, name=second, numbers=second)
    return message(f"sheet-{problem.code}", **values)
