"""Importing the college's roster from a spreadsheet: check the whole file, then apply it.

:func:`preview_import` reads a CSV or XLSX file and works out, without writing anything, which
students it creates, which it updates (field by field) and which it leaves alone, and every
bad row with its row number, column and reason. :func:`apply_import` writes exactly such a
preview in the caller's transaction: bulk inserts and updates, all or nothing. Students are
matched by student number, counsellors and supervisors by username or display name.

The columns and how a cell is read are in :mod:`caretrack.services.roster_columns`; the
roster's export and template in :mod:`caretrack.services.roster`; the kept upload between
preview and confirmation in :mod:`caretrack.services.uploads`.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from flask_babel import gettext as _
from openpyxl.utils import get_column_letter
from sqlalchemy import bindparam, insert, select, update

from caretrack.extensions import db
from caretrack.models import Student, User
from caretrack.services import rechecks
from caretrack.services.audit import record_event
from caretrack.services.roster import export_columns as export_columns
from caretrack.services.roster import roster_rows_query as roster_rows_query
from caretrack.services.roster_columns import (
    COLUMN_BY_ATTRIBUTE,
    NEW_DEFAULTS,
    PARSERS,
    PERSON_FIELDS,
    STUDENT_FIELDS,
    CellError,
    RosterAccounts,
    attribute_of,
    display_value,
    read_roster,
)
from caretrack.services.roster_columns import COLUMNS as COLUMNS
from caretrack.services.roster_columns import RosterFileError as RosterFileError
from caretrack.services.spreadsheets import unneutralise
from caretrack.services.uploads import stage_upload as stage_upload

#: Rows written per statement when applying an import.
CHUNK = 1000


class PreviewChanged(RuntimeError):
    """The roster changed since the preview was shown; nothing was written."""


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



def _load_existing() -> dict[str, tuple]:
    """Return every student's importable fields by student number, in one query."""
    columns = [Student.id] + [getattr(Student, f) for f in STUDENT_FIELDS]
    return {row[1]: tuple(row) for row in db.session.execute(select(*columns))}



def check_roster(
    filename: str,
    columns: dict[str, int],
    headers: list[str],
    rows: list[tuple[int, list[str]]],
    progress: Callable[[int], None] | None = None,
) -> RosterPreview:
    """Check every row against the database and work out what an import would change."""
    people = RosterAccounts()
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
                values[attribute_of(name)] = PARSERS[name](text, people)
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
            account = values.get(attribute_of(name))
            if account is None:
                continue
            values[attribute_of(name)] = account.id
            stored = current[attr_index[attribute_of(name)]] if current else None
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
    ip: str = "",
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
        detail=f"created={len(preview.creates)} updated={len(preview.updates)}", now=now, ip=ip,
    )
    db.session.flush()
    return ImportResult(len(preview.creates), len(preview.updates), preview.unchanged)


def import_roster(
    filename: str, data: bytes, fingerprint: str, user: User | None, now: datetime, ip: str = ""
) -> ImportResult:
    """Check the file again and apply it if it would still do exactly what the admin saw.

    :raise RosterFileError: the file cannot be imported.
    :raise PreviewChanged: the preview differs from the one with ``fingerprint``.
    """
    preview = preview_import(filename, data)
    if preview.errors or preview.fingerprint != fingerprint:
        raise PreviewChanged("the preview changed")
    return apply_import(preview, user, now, ip=ip)
