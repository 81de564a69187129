"""Downloads of a list as XLSX or CSV; every download is an audit event.

A list's export is its columns (a header and how to get a cell from a row) and its rows, which
the view loads with the same visibility filter and query as the page. For example::

    COLUMNS = [ExportColumn(_l("Student number"), lambda r: r.student.student_number), ...]

    @bp.get("/export/<any(xlsx, csv):fmt>")
    def export(fmt):
        rows = db.session.scalars(the_list_query(current_user, filters)).all()
        response = export_response("rechecks", fmt, COLUMNS, rows, current_user,
                                   title=_("Re-checks"), now=now_utc())
        db.session.commit()  # the audit event
        return response

(``export_response`` is the web layer's wrapper in :mod:`caretrack.downloads`.)
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from caretrack.models import User
from caretrack.services.audit import record_event
from caretrack.services.clock import college_tz, local_today
from caretrack.services.spreadsheets import csv_bytes, xlsx_bytes

EXPORT_FORMATS = ("xlsx", "csv")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its header (translated when the file is written) and the
    function that gives a row's cell."""

    header: Any
    value: Callable[[Any], Any]


def cell_value(value):
    """Return a value as an export cell: yes/no for booleans, the college's local time for
    datetimes, text for translatable strings, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(college_tz()).replace(tzinfo=None)
        return value.replace(microsecond=0)
    if isinstance(value, int | float | str):
        return value
    if hasattr(value, "isoformat"):  # a date
        return value
    return str(value)


def _csv_cell(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


@dataclass(frozen=True)
class ExportFile:
    """A finished download: its bytes, its name (and an ASCII name for old clients), its type."""

    body: bytes
    filename: str
    ascii_name: str
    mimetype: str


def export_list(
    list_name: str,
    fmt: str,
    columns: Sequence[ExportColumn],
    items: Iterable,
    user: User,
    *,
    title: str,
    now: datetime,
    ip: str = "",
    progress: Callable[[int], None] | None = None,
) -> ExportFile:
    """Write a list as a file and record the "export" audit event (the caller commits).

    ``list_name`` names the list in the audit log and the file's ASCII name ("caseload");
    ``title`` is the translated name of the file and the sheet ("学生名单"); ``progress`` is
    given the rows written, 500 at a time.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    headers = [str(column.header) for column in columns]
    rows = []
    for item in items:
        rows.append([cell_value(column.value(item)) for column in columns])
        if progress is not None and len(rows) % 500 == 0:
            progress(500)
    record_event("export", user, detail=f"list={list_name} format={fmt} rows={len(rows)}",
                 now=now, ip=ip)
    day = local_today(now).isoformat()
    if fmt == "csv":
        body = csv_bytes(headers, ([_csv_cell(v) for v in row] for row in rows))
    else:
        body = xlsx_bytes([(title, headers, rows)])
    return ExportFile(body, f"{title}-{day}.{fmt}", f"{list_name}-{day}.{fmt}", MIMETYPES[fmt])
