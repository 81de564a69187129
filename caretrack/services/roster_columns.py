"""The roster file: its columns, finding them in a sheet, and reading each cell.

:data:`COLUMNS` is the source of the column list documented in docs/roster-import.md;
:func:`read_roster` finds the header row (or raises :class:`RosterFileError` for a file that
cannot be imported at all); the parsers turn a cell's text into the value stored, or raise
:class:`CellError` with the reason.
"""

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.labels import GENDER, LEAVING, PROGRAMME
from caretrack.messages import message
from caretrack.models import Gender, Leaving, Programme, Role, User
from caretrack.services.spreadsheets import (
    Sheet,
    SpreadsheetError,
    normalise_header,
    read_sheet,
)

#: What a cell naming no account says, by the role the column names.
NO_ACCOUNT = {
    Role.COUNSELLOR: _l("No counsellor account is called %(name)s."),
    Role.SUPERVISOR: _l("No supervisor account is called %(name)s."),
}


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
                 ("入学年份", "入学年级", "入学日期", "入学时间", "cohort year", "entry date",
                  "entry year", "intake", "year")),
    RosterColumn("class_name", "班级", _l("Class"), True, _l("The class, e.g. 2017级会计学1班."),
                 ("班级名称", "class name"), 100),
    RosterColumn(
        "counsellor", "辅导员", _l("Counsellor"), True,
        _l("Username or display name of a counsellor's CareTrack account."),
        ("辅导员账号", "辅导员姓名", "counselor", "counsellor username"),
    ),
    RosterColumn(
        "supervisor", "导师", _l("Supervisor"), False,
        _l("Username or display name of a supervisor's account; empty for none (in an "
           "update, - removes the supervisor)."),
        ("研究生导师", "指导教师", "导师账号", "advisor", "adviser", "supervisor username"),
    ),
    RosterColumn("phone", "手机", _l("Phone"), False,
                 _l("Mobile number: spaces, dashes and +86 are removed; an odd number is kept, "
                    "with a warning."),
                 ("手机号", "手机号码", "联系电话", "电话", "mobile", "phone number"), 32),
    RosterColumn("province", "所在省份", _l("Province"), False,
                 _l("Where the student is now: province, e.g. 湖北 (or the whole place, e.g. "
                    "湖北省武汉市)."),
                 ("省份", "所在省", "current province"), 50),
    RosterColumn("city", "所在城市", _l("City"), False,
                 _l("Where the student is now: city, e.g. 武汉."),
                 ("城市", "所在市", "current city"), 50),
    RosterColumn("on_campus", "是否在校", _l("On campus (yes/no)"), False,
                 _l("是 or 否 (yes or no); empty means no."), ("在校", "on campus")),
    RosterColumn("employed", "是否在职", _l("Employed (yes/no)"), False,
                 _l("是 or 否 (yes or no); empty means no."), ("在职", "employed")),
    RosterColumn("leaving", "离校类型", _l("Left the college"), False,
                 _l("毕业 or 退学 (graduated or withdrawn) once the student left; empty while "
                    "studying. The retention policy counts from the leaving date."),
                 ("离校", "离校原因", "学籍状态", "leaving", "left")),
    RosterColumn("left_on", "离校日期", _l("Left on"), False,
                 _l("The day the student left, e.g. 2020-06-30."),
                 ("毕业日期", "退学日期", "leaving date", "left on", "date left")),
    RosterColumn("email", "电子邮箱", _l("Email"), False,
                 _l("The student's e-mail address, e.g. zhang.san@example.edu.cn; notices are "
                    "also e-mailed to it. Empty for none."),
                 ("邮箱", "电子邮件", "邮箱地址", "e-mail", "email address", "e-mail address"),
                 254),
]
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
#: The Student attribute each person column sets.
PERSON_FIELDS = {"counsellor": "counsellor_id", "supervisor": "supervisor_id"}
COLUMN_BY_ATTRIBUTE = {PERSON_FIELDS.get(c.field, c.field): c for c in COLUMNS}
REQUIRED = [c.field for c in COLUMNS if c.required]
#: Student attributes an import sets, in column order (people as their account ids).
STUDENT_FIELDS = [
    "student_number", "name", "gender", "programme", "cohort", "class_name", "counsellor_id",
    "supervisor_id", "phone", "province", "city", "on_campus", "employed", "leaving", "left_on",
    "email",
]
#: What a cell holds to clear an optional field in an update (a blank cell leaves it).
CLEAR = frozenset({"-", "—", "——"})
#: How an update treats blank cells, for the import page and the template.
BLANK_CELLS_HELP = _l("Updating a student: a blank cell, or a column the file does not have, "
                      "leaves the stored value as it is. To clear an optional field, write - "
                      "in its cell.")
#: Defaults of a new student for the optional columns a file leaves out.
NEW_DEFAULTS = {"supervisor_id": None, "phone": "", "province": "", "city": "",
                "on_campus": False, "employed": False, "leaving": None, "left_on": None,
                "email": ""}


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
#: An entry date as the cohort: "2017-09-01", "2017/9/1", "2017.09", "2017年9月1日".
_ENTRY_DATE = re.compile(r"^(\d{4})[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?(?:T[\d:]+)?$")
#: Excel's day numbers of 1950-01-01 and 2099-12-31: a date cell exported as its number.
_SERIALS = range(18264, 73051)
_SHORTENED_NUMBER = re.compile(r"^\d+(?:\.\d+)?e\+?\d+$|^\d+\.0+$", re.IGNORECASE)


#: Day 0 of Excel's date numbers (with its 1900 leap-year bug folded in).
EXCEL_EPOCH = date(1899, 12, 30)


class CellError(ValueError):
    pass


def expected_columns() -> list[str]:
    """Return the columns a roster file may have, "学号 / Student number", required first."""
    ordered = [c for c in COLUMNS if c.required] + [c for c in COLUMNS if not c.required]
    return [f"{c.zh} / {c.en}" for c in ordered]


def header_aliases() -> dict[str, list[str]]:
    return {c.field: c.headers() for c in COLUMNS}


class RosterAccounts:
    """Counsellor and supervisor accounts of one college, found by username or display
    name (an account of another college is named as such, never used)."""

    def __init__(self, college_id: int | None = None):
        rows = db.session.execute(
            select(User.id, User.username, User.display_name, User.role, User.active,
                   User.college_id).where(
                User.role.in_((Role.COUNSELLOR, Role.SUPERVISOR))
            )
        ).all()
        if college_id is not None:
            self.elsewhere = {(r.role, r.username.lower()) for r in rows
                              if r.college_id != college_id} | {
                (r.role, r.display_name.strip()) for r in rows if r.college_id != college_id}
            rows = [r for r in rows if r.college_id == college_id]
        else:
            self.elsewhere = set()
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
        if (role, text.lower()) in self.elsewhere or (role, text) in self.elsewhere:
            raise CellError(_("%(name)s works in another college.", name=text))
        raise CellError(str(NO_ACCOUNT[role]) % {"name": text})

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
    match = _COHORT.match(text) or _ENTRY_DATE.match(text)
    if match is None and text.isdigit() and int(text) in _SERIALS:
        return (EXCEL_EPOCH + timedelta(days=int(text))).year
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


_LEAVING = {
    **{_fold(v): Leaving.GRADUATED for v in ("毕业", "已毕业", "graduated", "graduate")},
    **{_fold(v): Leaving.WITHDRAWN for v in ("退学", "已退学", "肄业", "withdrawn",
                                             "withdrew", "dropped out")},
}
_DAY = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]00:00(?::00)?)?$")


def _parse_leaving(text: str, people) -> str | None:
    if not text:
        return None
    value = _LEAVING.get(_fold(text))
    if value is None:
        raise CellError(_("Write 毕业 or 退学 (graduated or withdrawn), not %(value)s.",
                          value=text))
    return value


def _parse_day(text: str, people) -> date | None:
    if not text:
        return None
    if text.isdigit() and int(text) in _SERIALS:
        return EXCEL_EPOCH + timedelta(days=int(text))
    match = _DAY.match(text)
    try:
        if match is None:
            raise ValueError(text)
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise CellError(_("Write a date such as 2020-06-30, not %(value)s.",
                          value=text)) from None


#: An address with one @, a dot in its domain and no spaces (what a roster holds; delivery is
#: the mail server's test).
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _parse_email(text: str, people) -> str:
    address = text.strip()
    if not address:
        return ""
    if len(address) > COLUMN_BY_FIELD["email"].max_length or not _EMAIL.fullmatch(address):
        raise CellError(_("%(value)s is not an e-mail address such as "
                          "zhang.san@example.edu.cn.", value=text))
    return address


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
    "leaving": _parse_leaving,
    "left_on": _parse_day,
    "email": _parse_email,
}


def attribute_of(name: str) -> str:
    return PERSON_FIELDS.get(name, name)


def display_value(attribute: str, value, people: RosterAccounts) -> str:
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
    if attribute == "leaving" and value:
        return str(LEAVING.get(value, value))
    if isinstance(value, date):
        return value.isoformat()
    if value in (None, ""):
        return "—"
    return str(value)


def normalised_headers() -> set[str]:
    """Return every header the import knows, normalised (for tests and the docs)."""
    return {normalise_header(h) for c in COLUMNS for h in c.headers()}


class RosterFileError(ValueError):
    """The file as a whole cannot be imported; ``message`` says why, for the admin."""

    def __init__(self, message: str, expected: list[str] | None = None, *,
                 unreadable: bool = False):
        super().__init__(message)
        self.message = message
        #: 400 for a file that cannot be read at all, 422 for one read but not usable.
        self.status = 400 if unreadable else 422
        #: The expected columns ("学号 / Student number"), when columns are wrong or missing.
        self.expected = expected or []


def _file_error(exc: SpreadsheetError) -> RosterFileError:
    if exc.code == "empty":
        return RosterFileError(_("The file is empty."), unreadable=True)
    if exc.code == "encoding":
        return RosterFileError(_(
            "The CSV file is neither UTF-8 nor GBK. Save it as \"CSV UTF-8\" (or as XLSX) "
            "and upload it again."
        ), unreadable=True)
    if exc.code == "old-excel":
        return RosterFileError(_(
            "This is an old Excel file (.xls). Save it as .xlsx or as CSV and upload it again."
        ), unreadable=True)
    if exc.code in ("unpacked-too-large", "compression-ratio"):
        return RosterFileError(message(f"sheet-{exc.code}", value=exc.detail), unreadable=True)
    if exc.code == "too-many-rows":
        return RosterFileError(message("upload-too-many-rows", value=exc.detail))
    if exc.code == "unknown-sheet":
        return RosterFileError(_("The file has no sheet called %(name)s.", name=exc.detail))
    if exc.code == "duplicate-columns":
        return RosterFileError(
            _("The column %(column)s appears twice. Keep one of them.", column=exc.detail),
            expected_columns(),
        )
    return RosterFileError(_(
        "This file is not a spreadsheet CareTrack can read. Upload an XLSX or CSV file."
    ), unreadable=True)


def read_roster(filename: str, data: bytes, sheet: str | None = None) -> Sheet:
    """Read the roster's sheet (``sheet`` by name, by default the first with a student number
    column) and find its columns under any title rows. Only the student number column is
    required of the file: a column it lacks is left as it is by an update, and is that row's
    error for a new student.

    :raise RosterFileError: empty, not a spreadsheet, undecodable, no such sheet, no student
        number column, a column twice, or no student row.
    """
    try:
        found = read_sheet(filename, data, header_aliases(), ["student_number"], sheet=sheet)
    except SpreadsheetError as exc:
        if exc.code == "missing-columns":
            raise _missing_columns(filename, data) from exc
        raise _file_error(exc) from exc
    if not found.rows:
        raise RosterFileError(_("The file has column headers but no students."))
    return found


def _missing_columns(filename: str, data: bytes) -> RosterFileError:
    """The file has no student number column: say so, or that no header is known at all."""
    if not read_sheet(filename, data, header_aliases(), []).columns:
        return RosterFileError(_("None of the column headers is one CareTrack knows."),
                               expected_columns())
    column = COLUMN_BY_FIELD["student_number"]
    return RosterFileError(_("Missing columns: %(columns)s.",
                             columns=f"{column.zh} / {column.en}"), expected_columns())
