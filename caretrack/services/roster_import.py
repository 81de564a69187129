"""Importing the college's roster from a spreadsheet: check the whole file, then apply it.

:func:`preview_import` reads a CSV or XLSX file and works out, without writing anything, which
students it creates, which it updates (field by field) and which it leaves alone, and every
bad row with its row number, column and reason. :func:`apply_import` writes exactly such a
preview in the caller's transaction: bulk inserts and updates, all or nothing. Students are
matched by student number, counsellors and supervisors by username or display name.

The column list is documented in docs/roster-import.md; :data:`COLUMNS` is its source.
"""

import hashlib
import io
import json
import os
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import bindparam, insert, select, update

from caretrack.extensions import db
from caretrack.labels import GENDER, PROGRAMME
from caretrack.models import Gender, Programme, Role, Student, User
from caretrack.services import rechecks
from caretrack.services.audit import record_event
from caretrack.services.spreadsheets import (
    SpreadsheetError,
    csv_bytes,
    match_headers,
    normalise_header,
    read_table,
    unneutralise,
)

#: Rows written per statement when applying an import.
CHUNK = 1000
#: Rows at the top of a sheet searched for the header row (title rows above it are skipped).
HEADER_SEARCH_ROWS = 10
#: How long an uploaded file waits for its confirmation.
PENDING_MAX_AGE = timedelta(days=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class RosterColumn:
    """One column of the roster file."""

    field: str
    #: The Chinese header of the template; the translation of ``label`` in the Chinese UI.
    zh: str
    #: Header in the interface language (its msgid is the English header of the template).
    label: object
    required: bool
    #: What a cell of this column holds, for the import page and the template.
    help: object
    aliases: tuple[str, ...] = ()
    max_length: int | None = None

    @property
    def en(self) -> str:
        """The English header: the msgid of ``label``."""
        return self.label._args[0]

    def headers(self) -> list[str]:
        return [self.zh, self.en, *self.aliases]


COLUMNS = [
    RosterColumn(
        "student_number", "学号", _l("Student number"), True,
        _l("Text, kept exactly as written: leading zeros stay. Each number once in the file."),
        ("学生学号", "学生编号", "student no", "student no.", "student id", "number"), 32,
    ),
    RosterColumn("name", "姓名", _l("Name"), True, _l("The student's name."),
                 ("学生姓名", "student name", "full name"), 100),
    RosterColumn("gender", "性别", _l("Gender"), True, _l("男 or 女 (M or F)."), ("sex",)),
    RosterColumn(
        "programme", "培养层次", _l("Programme"), True,
        _l("本科, 硕士, 博士, 全日制MBA or 非全日制MBA (or the English names)."),
        ("培养类型", "学生类别", "学历层次", "层次", "program", "level"),
    ),
    RosterColumn("cohort", "年级", _l("Cohort"), True,
                 _l("The year the student entered, e.g. 2017."),
                 ("入学年份", "入学年级", "cohort year", "entry year", "intake", "year")),
    RosterColumn("class_name", "班级", _l("Class"), True, _l("The class, e.g. 2017级会计学1班."),
                 ("班级名称", "class name"), 100),
    RosterColumn(
        "counsellor", "辅导员", _l("Counsellor"), True,
        _l("Username or display name of a counsellor's CareTrack account."),
        ("辅导员账号", "辅导员姓名", "counselor", "counsellor username"),
    ),
    RosterColumn(
        "supervisor", "导师", _l("Supervisor"), False,
        _l("Username or display name of a supervisor's account; empty for none."),
        ("研究生导师", "指导教师", "导师账号", "advisor", "adviser", "supervisor username"),
    ),
    RosterColumn("phone", "手机", _l("Phone"), False, _l("Mobile number, kept as text."),
                 ("手机号", "手机号码", "联系电话", "电话", "mobile", "phone number"), 32),
    RosterColumn("province", "所在省份", _l("Province"), False,
                 _l("Where the student is now: province."),
                 ("省份", "所在省", "current province"), 50),
    RosterColumn("city", "所在城市", _l("City"), False, _l("Where the student is now: city."),
                 ("城市", "所在市", "current city"), 50),
    RosterColumn("on_campus", "是否在校", _l("On campus (yes/no)"), False,
                 _l("是 or 否 (yes or no); empty means no."), ("在校", "on campus")),
    RosterColumn("employed", "是否在职", _l("Employed (yes/no)"), False,
                 _l("是 or 否 (yes or no); empty means no."), ("在职", "employed")),
]
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
#: The Student attribute each person column sets.
PERSON_FIELDS = {"counsellor": "counsellor_id", "supervisor": "supervisor_id"}
COLUMN_BY_ATTRIBUTE = {PERSON_FIELDS.get(c.field, c.field): c for c in COLUMNS}
REQUIRED = [c.field for c in COLUMNS if c.required]
#: Student attributes an import sets, in column order (people as their account ids).
STUDENT_FIELDS = [
    "student_number", "name", "gender", "programme", "cohort", "class_name", "counsellor_id",
    "supervisor_id", "phone", "province", "city", "on_campus", "employed",
]
#: Defaults of a new student for the optional columns a file leaves out.
NEW_DEFAULTS = {"supervisor_id": None, "phone": "", "province": "", "city": "",
                "on_campus": False, "employed": False}


def _fold(text: str) -> str:
    return "".join(text.lower().split()).replace("’", "'").replace("．", ".")


_GENDERS = {
    **{_fold(v): Gender.MALE for v in ("男", "男性", "m", "male")},
    **{_fold(v): Gender.FEMALE for v in ("女", "女性", "f", "female")},
}
_PROGRAMMES = {
    _fold(v): code
    for code, names in {
        Programme.UNDERGRADUATE: ("undergraduate", "本科", "本科生", "bachelor", "bachelor's"),
        Programme.MASTER: ("master", "master's", "masters", "硕士", "硕士研究生", "硕士生",
                           "学术硕士", "专业硕士"),
        Programme.PHD: ("phd", "ph.d.", "ph.d", "doctoral", "博士", "博士研究生", "博士生"),
        Programme.MBA_FULL_TIME: ("mba_full_time", "full-time mba", "full time mba",
                                  "全日制mba", "全日制工商管理硕士"),
        Programme.MBA_PART_TIME: ("mba_part_time", "part-time mba", "part time mba",
                                  "非全日制mba", "在职mba", "非全日制工商管理硕士"),
    }.items()
    for v in names
}
_YES = {_fold(v) for v in ("是", "y", "yes", "true", "1", "√", "✓", "在校", "在职")}
_NO = {_fold(v) for v in ("否", "n", "no", "false", "0", "", "×", "不在校", "离校", "校外",
                          "不在职")}
_COHORT = re.compile(r"^(\d{4})(?:级|年|\.0+)?$")
_SHORTENED_NUMBER = re.compile(r"^\d+(?:\.\d+)?e\+?\d+$|^\d+\.0+$", re.IGNORECASE)


class RosterFileError(ValueError):
    """The file as a whole cannot be imported; ``message`` says why, for the admin."""

    def __init__(self, message: str, expected: list[str] | None = None):
        super().__init__(message)
        self.message = message
        #: The expected columns ("学号 / Student number"), when columns are wrong or missing.
        self.expected = expected or []


class PreviewChanged(RuntimeError):
    """The roster changed since the preview was shown; nothing was written."""


class CellError(ValueError):
    pass


@dataclass(slots=True)
class RowError:
    row: int
    #: Column letter as in the spreadsheet ("C"), empty for a problem of the whole row.
    letter: str
    #: The column's header as written in the file.
    column: str
    message: str


@dataclass(slots=True)
class FieldChange:
    field: str
    label: str
    #: The values as the preview shows them (labels, names).
    old: str
    new: str
    #: The values as stored.
    old_value: object = None
    new_value: object = None


@dataclass(slots=True)
class NewStudent:
    row: int
    values: dict


@dataclass(slots=True)
class StudentUpdate:
    row: int
    student_id: int
    student_number: str
    name: str
    #: Every field of STUDENT_FIELDS with its value after the import.
    values: dict
    changes: list[FieldChange]


@dataclass
class RosterPreview:
    """What importing the file would do; nothing of it is written yet."""

    filename: str
    rows: int
    #: Fields of the columns the file has, in column order.
    fields: list[str]
    creates: list[NewStudent] = field(default_factory=list)
    updates: list[StudentUpdate] = field(default_factory=list)
    unchanged: int = 0
    #: Students in CareTrack whose number is not in the file (left as they are).
    not_in_file: int = 0
    errors: list[RowError] = field(default_factory=list)
    fingerprint: str = ""
    #: "Display name (username)" of the counsellor and supervisor accounts, by id.
    accounts: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def has_changes(self) -> bool:
        return bool(self.creates or self.updates)


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int


def expected_columns() -> list[str]:
    """Return the columns a roster file may have, "学号 / Student number", required first."""
    ordered = [c for c in COLUMNS if c.required] + [c for c in COLUMNS if not c.required]
    return [f"{c.zh} / {c.en}" for c in ordered]


def _aliases() -> dict[str, list[str]]:
    return {c.field: c.headers() for c in COLUMNS}


def _file_error(exc: SpreadsheetError) -> RosterFileError:
    if exc.code == "empty":
        return RosterFileError(_("The file is empty."))
    if exc.code == "encoding":
        return RosterFileError(_(
            "The CSV file is neither UTF-8 nor GBK. Save it as \"CSV UTF-8\" (or as XLSX) "
            "and upload it again."
        ))
    if exc.code == "old-excel":
        return RosterFileError(_(
            "This is an old Excel file (.xls). Save it as .xlsx or as CSV and upload it again."
        ))
    if exc.code == "duplicate-columns":
        return RosterFileError(
            _("The column %(column)s appears twice. Keep one of them.", column=exc.detail),
            expected_columns(),
        )
    return RosterFileError(_(
        "This file is not a spreadsheet CareTrack can read. Upload an XLSX or CSV file."
    ))


def _find_header(table) -> tuple[dict[str, int], list[str], list[tuple[int, list[str]]]]:
    """Find the header row (the first row, or a later one under title rows) and map it."""
    candidates = [(-1, table.headers)] + [
        (i, cells) for i, (_n, cells) in enumerate(table.rows[: HEADER_SEARCH_ROWS - 1])
    ]
    aliases = _aliases()
    best = None
    for position, headers in candidates:
        try:
            found = match_headers(headers, aliases, [])
        except SpreadsheetError as exc:
            if position == -1:
                raise _file_error(exc) from exc
            continue  # a data row whose values happen to look like headers
        if all(f in found for f in REQUIRED):
            return found, headers, table.rows[position + 1:]
        if best is None or len(found) > len(best[1]):
            best = (headers, found)
    headers, found = best
    missing = [COLUMN_BY_FIELD[f] for f in REQUIRED if f not in found]
    if not found:
        message = _("None of the column headers is one CareTrack knows.")
    else:
        message = _(
            "Missing columns: %(columns)s.",
            columns=", ".join(f"{c.zh} / {c.en}" for c in missing),
        )
    raise RosterFileError(message, expected_columns())


class _People:
    """Counsellor and supervisor accounts, found by username or display name."""

    def __init__(self):
        rows = db.session.execute(
            select(User.id, User.username, User.display_name, User.role, User.active).where(
                User.role.in_((Role.COUNSELLOR, Role.SUPERVISOR))
            )
        ).all()
        self.by_id = {r.id: r for r in rows}
        self.usernames: dict[tuple[str, str], object] = {}
        names: dict[tuple[str, str], list] = defaultdict(list)
        for r in rows:
            self.usernames[(r.role, r.username.lower())] = r
            names[(r.role, r.display_name.strip())].append(r)
        self.names = dict(names)

    def find(self, role: str, text: str):
        """Return the account named by ``text``.

        :raise CellError: unknown, or a display name that several accounts share.
        """
        account = self.usernames.get((role, text.lower()))
        if account is not None:
            return account
        matches = self.names.get((role, text), [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise CellError(_(
                "Several accounts are called %(name)s: write the username instead (%(users)s).",
                name=text, users=", ".join(m.username for m in matches),
            ))
        if role == Role.COUNSELLOR:
            raise CellError(_("No counsellor account is called %(name)s.", name=text))
        raise CellError(_("No supervisor account is called %(name)s.", name=text))

    def reference(self, user_id: int | None) -> str:
        """Return how an export names the account: its display name when that finds it back,
        else its username."""
        if user_id is None:
            return ""
        account = self.by_id.get(user_id)
        if account is None:
            return ""
        name = account.display_name.strip()
        clash = (account.role, name.lower()) in self.usernames
        if len(self.names.get((account.role, name), [])) == 1 and not clash:
            return name
        return account.username


def _text_parser(column: RosterColumn, required: bool):
    def parse(text: str, people):
        if required and not text:
            raise CellError(
                _("This cell is empty; %(column)s is required.", column=str(column.label))
            )
        if column.max_length and len(text) > column.max_length:
            raise CellError(_("Longer than %(max)d characters.", max=column.max_length))
        return text

    return parse


def _parse_student_number(text: str, people) -> str:
    if not text:
        raise CellError(_("The student number is empty."))
    if _SHORTENED_NUMBER.match(text):
        raise CellError(_(
            "%(value)s looks like a number the spreadsheet program changed. Format the column "
            "as text and type the student numbers again.", value=text,
        ))
    if len(text.split()) > 1:
        raise CellError(_("A student number has no spaces."))
    if len(text) > 32:
        raise CellError(_("Longer than %(max)d characters.", max=32))
    return text


def _parse_gender(text: str, people) -> str:
    value = _GENDERS.get(_fold(text))
    if value is None:
        raise CellError(_("Write 男 or 女 (M or F), not %(value)s.", value=text or "—"))
    return value


def _parse_programme(text: str, people) -> str:
    value = _PROGRAMMES.get(_fold(text))
    if value is None:
        raise CellError(_(
            "Unknown programme %(value)s: write 本科, 硕士, 博士, 全日制MBA or 非全日制MBA.",
            value=text or "—",
        ))
    return value


def _parse_cohort(text: str, people) -> int:
    match = _COHORT.match(text)
    if not match or not 1950 <= int(match.group(1)) <= 2100:
        raise CellError(_(
            "Write the year the student entered, e.g. 2017, not %(value)s.", value=text or "—"
        ))
    return int(match.group(1))


def _parse_yes_no(text: str, people) -> bool:
    folded = _fold(text)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise CellError(_("Write 是 or 否 (yes or no), not %(value)s.", value=text))


def _parse_counsellor(text: str, people):
    if not text:
        raise CellError(_("Every student needs a counsellor."))
    return people.find(Role.COUNSELLOR, text)


def _parse_supervisor(text: str, people):
    return people.find(Role.SUPERVISOR, text) if text else None


PARSERS: dict[str, Callable] = {
    "student_number": _parse_student_number,
    "name": _text_parser(COLUMN_BY_FIELD["name"], True),
    "gender": _parse_gender,
    "programme": _parse_programme,
    "cohort": _parse_cohort,
    "class_name": _text_parser(COLUMN_BY_FIELD["class_name"], True),
    "counsellor": _parse_counsellor,
    "supervisor": _parse_supervisor,
    "phone": _text_parser(COLUMN_BY_FIELD["phone"], False),
    "province": _text_parser(COLUMN_BY_FIELD["province"], False),
    "city": _text_parser(COLUMN_BY_FIELD["city"], False),
    "on_campus": _parse_yes_no,
    "employed": _parse_yes_no,
}


def _attribute(name: str) -> str:
    return PERSON_FIELDS.get(name, name)


def _load_existing() -> dict[str, tuple]:
    """Return every student's importable fields by student number, in one query."""
    columns = [Student.id] + [getattr(Student, f) for f in STUDENT_FIELDS]
    return {row[1]: tuple(row) for row in db.session.execute(select(*columns))}


def display_value(attribute: str, value, people: _People) -> str:
    """Return a stored value as the preview shows it."""
    if attribute in ("counsellor_id", "supervisor_id"):
        if value is None:
            return "—"
        account = people.by_id.get(value)
        if account is None:
            return "—"
        return f"{account.display_name} ({account.username})"
    if attribute == "gender":
        return str(GENDER.get(value, value))
    if attribute == "programme":
        return str(PROGRAMME.get(value, value))
    if attribute in ("on_campus", "employed"):
        return _("Yes") if value else _("No")
    if value in (None, ""):
        return "—"
    return str(value)


def read_roster(filename: str, data: bytes):
    """Read the file and find its columns.

    :return: (column index by field, headers, data rows) of the sheet.
    :raise RosterFileError: empty, not a spreadsheet, undecodable, columns missing or twice,
        or no student row.
    """
    try:
        table = read_table(filename, data)
    except SpreadsheetError as exc:
        raise _file_error(exc) from exc
    columns, headers, rows = _find_header(table)
    if not rows:
        raise RosterFileError(_("The file has column headers but no students."))
    return columns, headers, rows


def check_roster(
    filename: str,
    columns: dict[str, int],
    headers: list[str],
    rows: list[tuple[int, list[str]]],
    progress: Callable[[int], None] | None = None,
) -> RosterPreview:
    """Check every row against the database and work out what an import would change."""
    people = _People()
    existing = _load_existing()
    ordered = sorted(columns.items(), key=lambda item: item[1])
    fields = [f for f, _i in ordered]
    letters = {f: get_column_letter(i + 1) for f, i in ordered}
    preview = RosterPreview(filename=filename, rows=len(rows), fields=fields)
    first_row: dict[str, int] = {}
    in_file: set[str] = set()
    attr_index = {a: i + 1 for i, a in enumerate(STUDENT_FIELDS)}

    for done, (number, cells) in enumerate(rows, start=1):
        if progress is not None and done % 500 == 0:
            progress(500)
        values: dict = {}
        row_errors = []
        for name, index in ordered:
            text = unneutralise(cells[index]) if index < len(cells) else ""
            try:
                values[_attribute(name)] = PARSERS[name](text, people)
            except CellError as exc:
                row_errors.append(RowError(number, letters[name], headers[index], str(exc)))
        student_number = values.get("student_number")
        if student_number is not None:
            if student_number in first_row:
                row_errors.append(RowError(
                    number, letters["student_number"], headers[columns["student_number"]],
                    _("Student number %(number)s is already in row %(row)d of the file.",
                      number=student_number, row=first_row[student_number]),
                ))
            else:
                first_row[student_number] = number
        current = existing.get(student_number) if student_number is not None else None
        if current is not None:
            in_file.add(student_number)
        for name in PERSON_FIELDS:
            account = values.get(_attribute(name))
            if account is None:
                continue
            values[_attribute(name)] = account.id
            stored = current[attr_index[_attribute(name)]] if current else None
            if not account.active and stored != account.id:
                row_errors.append(RowError(
                    number, letters[name], headers[columns[name]],
                    _("The account %(name)s is deactivated.", name=account.username),
                ))
        if row_errors:
            preview.errors.extend(row_errors)
            continue
        if current is None:
            preview.creates.append(NewStudent(number, {**NEW_DEFAULTS, **values}))
            continue
        changes = []
        after = {}
        for attribute in STUDENT_FIELDS:
            old = current[attr_index[attribute]]
            new = values.get(attribute, old)
            after[attribute] = new
            if new != old:
                changes.append(FieldChange(
                    attribute, str(COLUMN_BY_ATTRIBUTE[attribute].label),
                    display_value(attribute, old, people), display_value(attribute, new, people),
                    old, new,
                ))
        if changes:
            preview.updates.append(StudentUpdate(
                number, current[0], student_number, after["name"], after, changes
            ))
        else:
            preview.unchanged += 1
    if progress is not None and len(rows) % 500:
        progress(len(rows) % 500)
    preview.not_in_file = len(existing) - len(in_file)
    preview.accounts = {
        account_id: display_value("counsellor_id", account_id, people)
        for account_id in people.by_id
    }
    preview.fingerprint = _fingerprint(preview)
    return preview


def _fingerprint(preview: RosterPreview) -> str:
    """Return a digest of exactly what the preview would write, and over which values
    (stored values, so the interface language does not change it)."""
    digest = hashlib.sha256()
    for new in preview.creates:
        digest.update(json.dumps(["c", sorted(new.values.items())], default=str).encode())
    for change in preview.updates:
        digest.update(json.dumps(
            ["u", change.student_id,
             [(c.field, c.old_value, c.new_value) for c in change.changes]],
            default=str,
        ).encode())
    digest.update(json.dumps(["e", len(preview.errors)]).encode())
    return digest.hexdigest()[:32]


def preview_import(
    filename: str, data: bytes, progress: Callable[[int], None] | None = None
) -> RosterPreview:
    """Work out what importing the file would do, without writing anything.

    :raise RosterFileError: the file as a whole cannot be imported.
    """
    columns, headers, rows = read_roster(filename, data)
    return check_roster(filename, columns, headers, rows, progress)


def _chunks(items: Iterable, size: int = CHUNK):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def apply_import(
    preview: RosterPreview,
    user: User | None,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write exactly what ``preview`` shows in the current transaction (the caller commits,
    or rolls back on an exception: then nothing is written).

    :raise ValueError: the preview has errors.
    :raise PreviewChanged: a student to update was changed meanwhile.
    """
    if preview.errors:
        raise ValueError("a preview with errors cannot be imported")
    table = Student.__table__
    for chunk in _chunks(preview.creates):
        db.session.execute(
            insert(table),
            [{**new.values, "created_at": now, "updated_at": now, "version_id": 1}
             for new in chunk],
        )
        if progress is not None:
            progress(len(chunk))
    if preview.updates:
        changing = [name for name in STUDENT_FIELDS if name != "student_number"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                {name: bindparam(f"b_{name}") for name in changing}
                | {"updated_at": bindparam("b_updated_at"), "version_id": table.c.version_id + 1}
            )
        )
        for chunk in _chunks(preview.updates):
            params = [
                {"b_id": change.student_id, "b_updated_at": now}
                | {f"b_{name}": change.values[name] for name in changing}
                for change in chunk
            ]
            result = db.session.execute(statement, params)
            if result.rowcount not in (-1, len(chunk)):
                raise PreviewChanged("a student was deleted meanwhile")
            if progress is not None:
                progress(len(chunk))
    moved = [
        change.student_id for change in preview.updates
        if any(c.field == "counsellor_id" for c in change.changes)
    ]
    rechecks.follow_counsellor(moved)
    record_event(
        "roster.import", user,
        detail=f"created={len(preview.creates)} updated={len(preview.updates)}",
    )
    db.session.flush()
    return ImportResult(len(preview.creates), len(preview.updates), preview.unchanged)


def import_roster(
    filename: str, data: bytes, fingerprint: str, user: User | None, now: datetime
) -> ImportResult:
    """Check the file again and apply it if it would still do exactly what the admin saw.

    :raise RosterFileError: the file cannot be imported.
    :raise PreviewChanged: the preview differs from the one with ``fingerprint``.
    """
    preview = preview_import(filename, data)
    if preview.errors or preview.fingerprint != fingerprint:
        raise PreviewChanged("the preview changed")
    return apply_import(preview, user, now)


def report_lines(preview: RosterPreview, limit: int = 200) -> list[str]:
    """Return the preview as lines of text (the CLI's report)."""
    lines = [
        _("File: %(name)s, %(rows)d rows.", name=preview.filename, rows=preview.rows),
        _("To create: %(num)d", num=len(preview.creates)),
        _("To update: %(num)d", num=len(preview.updates)),
        _("Unchanged: %(num)d", num=preview.unchanged),
        _("Errors: %(num)d", num=len(preview.errors)),
    ]
    if preview.not_in_file:
        lines.append(_("Students in CareTrack but not in the file (left as they are): %(num)d",
                       num=preview.not_in_file))
    if preview.errors:
        lines.append("")
        lines.append(_("Errors (nothing is imported until they are fixed):"))
        for error in preview.errors[:limit]:
            lines.append("  " + _("Row %(row)d, column %(letter)s (%(column)s): %(message)s",
                                  row=error.row, letter=error.letter, column=error.column,
                                  message=error.message))
        if len(preview.errors) > limit:
            lines.append("  " + _("… and %(num)d more.", num=len(preview.errors) - limit))
    if preview.updates:
        lines.append("")
        lines.append(_("Updates:"))
        for change in preview.updates[:limit]:
            fields = _("; ").join(
                _("%(label)s: %(old)s → %(new)s", label=c.label, old=c.old, new=c.new)
                for c in change.changes
            )
            lines.append("  " + _("Row %(row)d, %(number)s %(name)s: %(fields)s",
                                  row=change.row, number=change.student_number,
                                  name=change.name, fields=fields))
        if len(preview.updates) > limit:
            lines.append("  " + _("… and %(num)d more.", num=len(preview.updates) - limit))
    return lines


def export_columns() -> list:
    """Return the roster export's columns: the import's, so an export imports back as is."""
    from caretrack.services.exports import ExportColumn

    people = _People()

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
    }
    return [ExportColumn(c.label, values[c.field]) for c in COLUMNS]


def roster_rows_query(query):
    """Return ``query`` (a Select of students) reduced to the columns a roster export needs."""
    return query.with_only_columns(
        Student.id, *[getattr(Student, f) for f in STUDENT_FIELDS]
    ).order_by(None).order_by(Student.student_number)


def normalised_headers() -> set[str]:
    """Return every header the import knows, normalised (for tests and the docs)."""
    return {normalise_header(h) for c in COLUMNS for h in c.headers()}


@dataclass
class PendingUpload:
    """An uploaded roster file kept between its preview and its confirmation."""

    token: str
    filename: str
    data: bytes


def _pending_folder() -> Path:
    """Return the folder of uploaded files awaiting confirmation (on disk, so any worker of
    any process finds them: set ROSTER_IMPORT_FOLDER to a shared folder for several hosts)."""
    configured = current_app.config.get("ROSTER_IMPORT_FOLDER")
    folder = Path(configured or Path(current_app.instance_path) / "roster-imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pending_paths(user: User, token: str) -> tuple[Path, Path] | None:
    if not _TOKEN.match(token or ""):
        return None
    base = _pending_folder() / f"{user.id}-{token}"
    return base.with_name(base.name + ".upload"), base.with_name(base.name + ".json")


def stage_upload(user: User, filename: str, data: bytes, now: datetime) -> str:
    """Check the file as a whole and keep it for the preview and the confirmation.

    :return: the token that names the kept file.
    :raise RosterFileError: the file cannot be imported at all.
    """
    read_roster(filename, data)
    discard_expired_uploads(now)
    token = secrets.token_urlsafe(18)
    data_path, meta_path = _pending_paths(user, token)
    for path, body in ((data_path, data),
                       (meta_path, json.dumps({"filename": Path(filename).name[:200]}).encode())):
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(body)
        os.replace(partial, path)
    return token


def load_upload(user: User, token: str) -> PendingUpload | None:
    """Return the file ``user`` uploaded under ``token``, or None if there is none."""
    paths = _pending_paths(user, token)
    if paths is None or not paths[0].exists() or not paths[1].exists():
        return None
    filename = json.loads(paths[1].read_text()).get("filename", "")
    return PendingUpload(token, filename, paths[0].read_bytes())


def discard_upload(user: User, token: str) -> None:
    """Delete a kept upload (after its import, or when the admin starts again)."""
    for path in _pending_paths(user, token) or ():
        path.unlink(missing_ok=True)


def discard_expired_uploads(now: datetime) -> None:
    """Delete uploads older than :data:`PENDING_MAX_AGE`."""
    oldest = now.timestamp() - PENDING_MAX_AGE.total_seconds()
    for path in _pending_folder().iterdir():
        try:
            if path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
        except FileNotFoundError:  # deleted by another worker meanwhile
            continue


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
    for letter, width in zip("ABCD", (14, 22, 10, 70), strict=True):
        guide.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
