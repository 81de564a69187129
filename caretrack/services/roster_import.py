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
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from flask_babel import gettext as _
from openpyxl.utils import get_column_letter
from sqlalchemy import bindparam, delete, func, insert, literal, select, update
from sqlalchemy.orm import aliased

from caretrack.extensions import db
from caretrack.jobs import JobError, Progress, task
from caretrack.models import College, Job, JobState, StagedStudent, Student, User, now_utc
from caretrack.models.base import UTCDateTime
from caretrack.services.audit import record_event
from caretrack.services.daily import tallies
from caretrack.services.phones import normalise_phone
from caretrack.services.places import normalise_place, place_codes, place_key
from caretrack.services.roster import export_columns as export_columns
from caretrack.services.roster import roster_rows_query as roster_rows_query
from caretrack.services.roster_columns import (
    CLEAR,
    COLUMN_BY_ATTRIBUTE,
    COLUMN_BY_FIELD,
    NEW_DEFAULTS,
    PARSERS,
    PERSON_FIELDS,
    REQUIRED,
    STUDENT_FIELDS,
    CellError,
    RosterAccounts,
    attribute_of,
    display_value,
    read_roster,
)
from caretrack.services.roster_columns import COLUMNS as COLUMNS
from caretrack.services.roster_columns import RosterFileError as RosterFileError
from caretrack.services.spreadsheets import Sheet, SkippedRow, unneutralise
from caretrack.services.student_numbers import NumberIndex
from caretrack.services.uploads import discard_upload, load_upload
from caretrack.services.uploads import stage_upload as stage_upload

#: Rows written per statement when applying an import.
CHUNK = 1000
#: Pause after each chunk an import job stages or writes on SQLite, for the pages' writes
#: (seconds).
STAGE_PAUSE = 0.02
#: Records sharing a value beyond which the value is no sign of a duplicate.
DUPLICATE_GROUP_MAX = 5


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
    #: The stored version the check saw.
    version_id: int = 0


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
    #: Rows whose student was found only once the number's lost leading zeros were put back.
    matched: list[RowError] = field(default_factory=list)
    #: Cells kept, but worth a look (an odd phone, a number shorter than the others).
    warnings: list[RowError] = field(default_factory=list)
    #: Possible duplicates, within the file and against CareTrack.
    duplicates: list["Duplicate"] = field(default_factory=list)
    #: The sheet read ("" for a CSV file), every sheet's name, the header's row.
    sheet: str = ""
    sheet_names: list[str] = field(default_factory=list)
    header_row: int = 1
    #: Rows the reader left out, and why.
    skipped: list[SkippedRow] = field(default_factory=list)
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



def college_id_for(college: College | int | None) -> int:
    """The id of the college an import writes to: the one given, else the only college.

    :raise ValueError: no college given while the install has several (or none).
    """
    if isinstance(college, College):
        return college.id
    if college is not None:
        return college
    ids = db.session.scalars(select(College.id).limit(2)).all()
    if len(ids) != 1:
        raise ValueError("name the college the roster is imported into")
    return ids[0]


def _load_existing(college_id: int) -> tuple[dict[str, tuple], set[str]]:
    """Return every current student's id, importable fields and version by student number,
    of the college,
    and the numbers of the other colleges' students (a row may not take one over), in one
    query (records merged into another are left out: see :func:`_merged_numbers`)."""
    columns = [Student.id] + [getattr(Student, f) for f in STUDENT_FIELDS] + [Student.version_id]
    existing, elsewhere = {}, set()
    for row in db.session.execute(select(Student.college_id, *columns).where(
            Student.merged_into_id.is_(None) | (Student.college_id != college_id))):
        if row[0] == college_id:
            existing[row[2]] = tuple(row[1:])
        else:
            elsewhere.add(row[2])
    return existing, elsewhere


def _merged_numbers(college_id: int) -> dict[str, str]:
    """The numbers of records merged into another, with the number of the one they point to
    (of the college)."""
    survivor = aliased(Student)
    points = dict(db.session.execute(
        select(Student.student_number, survivor.student_number)
        .join(survivor, survivor.id == Student.merged_into_id)
        .where(Student.college_id == college_id)).all())
    for number, target in points.items():
        while target in points:  # merged into a record merged later in turn
            target = points[target]
        points[number] = target
    return points



def check_roster(
    filename: str,
    sheet: Sheet,
    progress: Callable[[int], None] | None = None,
    college: College | int | None = None,
) -> RosterPreview:
    """Check every row against the database and work out what an import would change.

    A student is found by number, tolerating a leading zero the spreadsheet dropped (shown
    as a note). In an update a blank cell and a missing column leave the stored value; a
    :data:`CLEAR` cell clears an optional field. A new student needs every required column.
    """
    columns, headers, rows = sheet.columns, sheet.headers, sheet.rows
    college_id = college_id_for(college)
    people = RosterAccounts(college_id)
    existing, elsewhere = _load_existing(college_id)
    merged = _merged_numbers(college_id)
    index = NumberIndex([*existing, *merged])
    ordered = sorted(columns.items(), key=lambda item: item[1])
    fields = [f for f, _i in ordered]
    letters = {f: get_column_letter(i + 1) for f, i in ordered}
    number_column = columns["student_number"]
    preview = RosterPreview(filename=filename, rows=len(rows), fields=fields,
                            sheet=sheet.name, sheet_names=sheet.sheet_names,
                            header_row=sheet.header_row, skipped=sheet.skipped)
    missing_required = [COLUMN_BY_FIELD[f] for f in REQUIRED if f not in columns]
    first_row: dict[str, int] = {}
    in_file: dict[str, int] = {}
    attr_index = {a: i + 1 for i, a in enumerate(STUDENT_FIELDS)}
    others = [(name, i) for name, i in ordered if name != "student_number"]

    def error(row: int, name: str, text: str) -> RowError:
        return RowError(row, letters[name], headers[columns[name]], text)

    for done, (row, cells) in enumerate(rows, start=1):
        if progress is not None and done % 500 == 0:
            progress(500)
        values: dict = {}
        row_errors = []
        given = unneutralise(cells[number_column])
        try:
            given = PARSERS["student_number"](given, people)
        except CellError as exc:
            row_errors.append(error(row, "student_number", str(exc)))
            given = None
        current = None
        student_number = given
        if given is not None:
            match = index.find(given)
            if match.ambiguous:
                row_errors.append(error(row, "student_number", _(
                    "%(number)s matches several students (%(numbers)s): write the number in "
                    "full.", number=given, numbers=", ".join(match.ambiguous))))
                student_number = None
            elif match.number is not None:
                student_number = merged.get(match.number, match.number)
                if match.number in merged:
                    preview.matched.append(RowError(
                        row, letters["student_number"], headers[number_column],
                        _("%(given)s was merged into %(stored)s: the row updates %(stored)s.",
                          given=given, stored=student_number)))
                current = existing[student_number]
                if match.repaired:
                    preview.matched.append(RowError(
                        row, letters["student_number"], headers[number_column],
                        _("Matched %(given)s → %(stored)s (leading zero lost).",
                          given=given, stored=student_number)))
            elif index.looks_shortened(given):
                preview.warnings.append(error(row, "student_number", _(
                    "%(number)s is shorter than the other student numbers (%(width)d digits): "
                    "check that it lost no leading zero.", number=given, width=index.width)))
        if student_number is not None and current is None and student_number in elsewhere:
            row_errors.append(error(row, "student_number", _(
                "Student number %(number)s is a student of another college.",
                number=student_number)))
            student_number = None
        if student_number is not None:
            if student_number in first_row:
                row_errors.append(error(row, "student_number", _(
                    "Student number %(number)s is already in row %(row)d of the file.",
                    number=student_number, row=first_row[student_number])))
            else:
                first_row[student_number] = row
            values["student_number"] = student_number
        if current is None:
            for column in missing_required:
                if column.field != "student_number":
                    row_errors.append(RowError(row, "", column.zh, _(
                        "The file has no %(column)s column; a new student needs it.",
                        column=f"{column.zh} / {column.en}")))
        for name, i in others:
            text = unneutralise(cells[i]) if i < len(cells) else ""
            attribute = attribute_of(name)
            if current is not None and text == "":
                continue  # a blank cell leaves the stored value as it is
            if text in CLEAR:
                if COLUMN_BY_FIELD[name].required:
                    row_errors.append(error(row, name, _(
                        "%(column)s cannot be cleared.", column=str(COLUMN_BY_FIELD[name].label))))
                else:
                    values[attribute] = NEW_DEFAULTS[attribute]
                continue
            try:
                values[attribute] = PARSERS[name](text, people)
            except CellError as exc:
                row_errors.append(error(row, name, str(exc)))
                continue
            if name == "phone":
                values["phone"], odd = normalise_phone(values["phone"])
                if odd:
                    preview.warnings.append(error(row, name, _(
                        "%(phone)s is not an 11-digit mobile number nor a landline with its "
                        "area code; it is kept as written.", phone=values["phone"])))
        if current is not None:
            in_file[student_number] = row
        if "province" in values or "city" in values:
            _normalise_place(values, current, attr_index)
        for name in PERSON_FIELDS:
            account = values.get(attribute_of(name))
            if account is None:
                continue
            values[attribute_of(name)] = account.id
            stored = current[attr_index[attribute_of(name)]] if current else None
            if not account.active and stored != account.id:
                row_errors.append(error(
                    row, name, _("The account %(name)s is deactivated.", name=account.username)
                ))
        if row_errors:
            preview.errors.extend(row_errors)
            continue
        if current is None:
            preview.creates.append(NewStudent(
                row, {**NEW_DEFAULTS, **values, "college_id": college_id}))
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
                row, current[0], student_number, after["name"], after, changes, current[-1]
            ))
        else:
            preview.unchanged += 1
    if progress is not None and len(rows) % 500:
        progress(len(rows) % 500)
    preview.not_in_file = len(existing) - len(in_file)
    preview.duplicates = find_duplicates(preview, existing, in_file)
    preview.accounts = {
        account_id: display_value("counsellor_id", account_id, people)
        for account_id in people.by_id
    }
    preview.fingerprint = _fingerprint(preview)
    return preview


@dataclass(slots=True)
class DuplicateMember:
    #: The file's row (None: a student of CareTrack the file does not name).
    row: int | None
    #: The stored student (None: a student the file would create).
    student_id: int | None
    student_number: str
    name: str
    class_name: str


@dataclass(slots=True)
class Duplicate:
    """Records that may be one student: ``reason`` is "number" (the same name, numbers equal
    up to lost leading zeros), "phone" or "class" (the same name in the same class)."""

    reason: str
    members: list[DuplicateMember]


def find_duplicates(preview: RosterPreview, existing: dict[str, tuple],
                    in_file: dict[str, int]) -> list[Duplicate]:
    """Possible duplicates among the file's students and CareTrack's, each group holding at
    least one of the file's rows."""
    name_at, class_at, phone_at = (1 + STUDENT_FIELDS.index(f)
                                   for f in ("name", "class_name", "phone"))
    records: dict[object, tuple] = {
        row[0]: (in_file.get(number), row[0], number, row[name_at], row[class_at], row[phone_at])
        for number, row in existing.items()
    }
    for change in preview.updates:
        v = change.values
        records[change.student_id] = (change.row, change.student_id, change.student_number,
                                      v["name"], v["class_name"], v["phone"])
    for new in preview.creates:
        v = new.values
        records[("row", new.row)] = (new.row, None, v["student_number"], v["name"],
                                     v["class_name"], v["phone"])
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for record in records.values():
        _row, _id, number, name, class_name, phone = record
        groups[("number", name, number.lstrip("0"))].append(record)
        groups[("class", name, class_name)].append(record)
        if phone:
            groups[("phone", phone)].append(record)
    found = []
    for key, members in groups.items():
        # a value shared by many (a placeholder phone, a common name) is no sign of a duplicate
        if 1 < len(members) <= DUPLICATE_GROUP_MAX and any(m[0] is not None for m in members):
            found.append(Duplicate(key[0], [
                DuplicateMember(m[0], m[1], m[2], m[3], m[4])
                for m in sorted(members, key=lambda m: (m[0] is None, m[0] or 0, m[2]))
            ]))
    order = {"number": 0, "phone": 1, "class": 2}
    found.sort(key=lambda d: (order[d.reason], min(m.row or 0 for m in d.members if m.row)))
    return found


def _normalise_place(values: dict, current: tuple | None, attr_index: dict) -> None:
    """Store the row's place as the places normaliser names it; one the student already has,
    in another spelling ("天津市/和平区" for 天津), is no change."""
    stored = (current[attr_index["province"]], current[attr_index["city"]]) if current else ("", "")
    province, city = values.get("province", stored[0]), values.get("city", stored[1])
    if current is not None and place_key(province, city) == place_key(*stored):
        values["province"], values["city"] = stored
        return
    place = normalise_place(province, city)
    values["province"], values["city"] = place.province[:50], place.city[:50]


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
    filename: str, data: bytes, progress: Callable[[int], None] | None = None,
    sheet: str | None = None, college: College | int | None = None,
) -> RosterPreview:
    """Work out what importing the file into ``college`` (default: the only one) would do,
    without writing anything.

    :raise RosterFileError: the file as a whole cannot be imported.
    """
    return check_roster(filename, read_roster(filename, data, sheet), progress, college)


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
    tallies.forget()  # new students, new places and counsellors: the days are counted again
    for chunk in _chunks(preview.creates):
        db.session.execute(
            insert(table),
            [{**new.values, **place_codes(new.values["province"], new.values["city"]),
              "created_at": now, "updated_at": now, "version_id": 1}
             for new in chunk],
        )
        if progress is not None:
            progress(len(chunk))
    if preview.updates:
        changing = [name for name in STUDENT_FIELDS if name != "student_number"]
        codes = ["province_code", "city_code"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                {name: bindparam(f"b_{name}") for name in changing + codes}
                | {"updated_at": bindparam("b_updated_at"), "version_id": table.c.version_id + 1}
            )
        )
        for chunk in _chunks(preview.updates):
            params = [
                {"b_id": change.student_id, "b_updated_at": now}
                | {f"b_{name}": change.values[name] for name in changing}
                # The counsellor changes through the transfer, below.
                | {"b_counsellor_id": staying_with(change)}
                | {f"b_{name}": code for name, code in place_codes(
                    change.values["province"], change.values["city"]).items()}
                for change in chunk
            ]
            result = db.session.execute(statement, params)
            if result.rowcount not in (-1, len(chunk)):
                raise PreviewChanged("a student was deleted meanwhile")
            if progress is not None:
                progress(len(chunk))
    _transfer_moved(preview, user, now, ip)
    record_event(
        "roster.import", user,
        detail=f"created={len(preview.creates)} updated={len(preview.updates)}", now=now, ip=ip,
    )
    db.session.flush()
    return ImportResult(len(preview.creates), len(preview.updates), preview.unchanged)


def staying_with(change: StudentUpdate) -> int:
    """The counsellor the update leaves the student with before the transfers run: the one
    they have now when the file moves them."""
    for c in change.changes:
        if c.field == "counsellor_id":
            return c.old_value
    return change.values["counsellor_id"]


def _transfer_moved(preview: RosterPreview, user: User | None, now: datetime, ip: str) -> None:
    """Move the students whose counsellor the file changes through the one transfer service,
    one transfer per receiving counsellor (timeline entries, re-checks, referrals, notices)."""
    from caretrack.services.transfers import SOURCE_ROSTER_IMPORT, transfer_students

    moving: dict[int, list[int]] = defaultdict(list)
    for change in preview.updates:
        if any(c.field == "counsellor_id" for c in change.changes):
            moving[change.values["counsellor_id"]].append(change.student_id)
    for counsellor_id, student_ids in moving.items():
        transfer_students(student_ids, db.session.get(User, counsellor_id), user, reason="",
                          now=now, ip=ip, source=SOURCE_ROSTER_IMPORT)


def import_roster(
    filename: str, data: bytes, fingerprint: str, user: User | None, now: datetime, ip: str = "",
    sheet: str | None = None, college: College | int | None = None,
) -> ImportResult:
    """Check the file again and apply it if it would still do exactly what the admin saw.

    :raise RosterFileError: the file cannot be imported.
    :raise PreviewChanged: the preview differs from the one with ``fingerprint``.
    """
    preview = preview_import(filename, data, sheet=sheet, college=college)
    if preview.errors or preview.fingerprint != fingerprint:
        raise PreviewChanged("the preview changed")
    return apply_import(preview, user, now, ip=ip)


# -- the import as a job: staged, then written a chunk a transaction --------------------------
#
# The job checks the file, stages what it writes (stage_import), then writes the roster from
# the staged rows a chunk a transaction (publish_chunk, marking them published), and ends in
# the transaction that marks the job done (finish_import: the moves, the audit). No
# transaction holds the database's write lock for longer than a chunk. A run killed while it
# writes leaves the rows it published: the next run finishes them (it does not check the
# file again, the staged rows are what was checked); when the job fails instead, its
# published rows are taken back (withdraw_import) and the roster is as before.


def stage_import(job_id: int, preview: RosterPreview,
                 progress: Callable[[int], None] | None = None) -> None:
    """Keep what ``preview`` would write as the job's staged students, :data:`CHUNK` rows a
    transaction, each committed at once (a previous run's go first).

    :raise ValueError: the preview has errors.
    """
    if preview.errors:
        raise ValueError("a preview with errors cannot be imported")
    discard_staged(job_id)
    db.session.commit()
    for chunk in _chunks(_staged_rows(job_id, preview)):
        db.session.execute(insert(StagedStudent), chunk)
        db.session.commit()
        if progress is not None:
            progress(sum(1 for row in chunk if not row["before"]))
        _let_pages_write()


def _let_pages_write() -> None:
    """On SQLite, pause after a commit, so that the pages' writes waiting for the database's
    one write lock take it before the job's next transaction does."""
    if db.session.get_bind().dialect.name == "sqlite":
        time.sleep(STAGE_PAUSE)


def _staged_rows(job_id: int, preview: RosterPreview) -> Iterator[dict]:
    for new in preview.creates:
        values = {**NEW_DEFAULTS, **new.values}
        yield ({"job_id": job_id, "row": new.row, "student_id": None, "version_id": None,
                "before": False, "published": False, "moves_to_id": None,
                "college_id": values["college_id"]}
               | {name: values[name] for name in STUDENT_FIELDS}
               | place_codes(values["province"], values["city"]))
    college_id = preview.creates[0].values["college_id"] if preview.creates else 0
    for change in preview.updates:
        stored = change.values | {c.field: c.old_value for c in change.changes}
        moved = any(c.field == "counsellor_id" for c in change.changes)
        common = {"job_id": job_id, "row": change.row, "student_id": change.student_id,
                  "version_id": change.version_id, "published": False,
                  "college_id": college_id}
        for before, values in ((False, change.values), (True, stored)):
            yield (common | {"before": before}
                   | {name: values[name] for name in STUDENT_FIELDS}
                   # The counsellor changes through the transfer, in finish_import.
                   | {"counsellor_id": stored["counsellor_id"],
                      "moves_to_id": change.values["counsellor_id"]
                      if moved and not before else None}
                   | place_codes(values["province"], values["city"]))


_WRITTEN = [*STUDENT_FIELDS, "college_id", "province_code", "city_code"]
_CHANGING = [name for name in _WRITTEN if name not in ("student_number", "college_id")]


def publish_chunk(job_id: int, now: datetime) -> int:
    """Write the next :data:`CHUNK` staged students into the roster and mark them published,
    in the current transaction (the caller commits).

    :return: how many (0: all are in).
    :raise PreviewChanged: a student to update was changed or deleted since the check.
    """
    table, staged = Student.__table__, StagedStudent.__table__
    chunk = db.session.execute(
        select(staged.c.id, staged.c.student_id)
        .where(staged.c.job_id == job_id, staged.c.published.is_(False),
               staged.c.before.is_(False))
        .order_by(staged.c.id).limit(CHUNK)).all()
    if not chunk:
        return 0
    ids = [row.id for row in chunk]
    updated = [row.student_id for row in chunk if row.student_id is not None]
    tallies.forget()  # new students, new places and counsellors: the days are counted again
    if len(updated) < len(ids):
        rows = select(
            *(staged.c[name] for name in _WRITTEN),
            literal(now, UTCDateTime()), literal(now, UTCDateTime()), literal(1),
        ).where(staged.c.id.in_(ids), staged.c.student_id.is_(None)).order_by(staged.c.id)
        db.session.execute(
            insert(table).from_select([*_WRITTEN, "created_at", "updated_at", "version_id"], rows))
    if updated:
        result = db.session.execute(
            update(table)
            .where(table.c.id == staged.c.student_id, staged.c.id.in_(ids),
                   table.c.version_id == staged.c.version_id)
            .values({name: staged.c[name] for name in _CHANGING}
                    | {"updated_at": now, "version_id": table.c.version_id + 1}))
        if result.rowcount not in (-1, len(updated)):
            raise PreviewChanged("a student was changed or deleted meanwhile")
    db.session.execute(update(staged).where(
        staged.c.job_id == job_id,
        staged.c.id.in_(ids) | (staged.c.before.is_(True) & staged.c.student_id.in_(updated)),
    ).values(published=True))
    return len(ids)


def finish_import(job_id: int, user: User | None, now: datetime, ip: str = "") -> tuple[int, int]:
    """Once every staged student is in: move those whose counsellor the file changes, and
    audit the import, in the current transaction (the one that marks the job done).

    :return: the students created and updated.
    """
    from caretrack.services.transfers import SOURCE_ROSTER_IMPORT, transfer_students

    staged = StagedStudent.__table__
    mine = (staged.c.job_id == job_id) & staged.c.before.is_(False)
    created = db.session.scalar(select(func.count()).where(mine, staged.c.student_id.is_(None)))
    updated = db.session.scalar(select(func.count()).where(mine, staged.c.student_id.isnot(None)))
    moving: dict[int, list[int]] = defaultdict(list)
    for student_id, counsellor_id in db.session.execute(
            select(staged.c.student_id, staged.c.moves_to_id)
            .where(mine, staged.c.moves_to_id.isnot(None)).order_by(staged.c.id)):
        moving[counsellor_id].append(student_id)
    if moving:
        tallies.forget()
    for counsellor_id, student_ids in moving.items():
        transfer_students(student_ids, db.session.get(User, counsellor_id), user, reason="",
                          now=now, ip=ip, source=SOURCE_ROSTER_IMPORT)
    record_event("roster.import", user, detail=f"created={created} updated={updated}",
                 now=now, ip=ip)
    db.session.flush()
    return created, updated


def is_publishing(job_id: int) -> bool:
    """Whether a run of the job began writing its staged students into the roster."""
    return db.session.scalar(select(StagedStudent.id).where(
        StagedStudent.job_id == job_id, StagedStudent.published.is_(True)).limit(1)) is not None


def published_count(job_id: int) -> int:
    """How many of the job's staged students are in the roster already."""
    return db.session.scalar(select(func.count(StagedStudent.id)).where(
        StagedStudent.job_id == job_id, StagedStudent.published.is_(True),
        StagedStudent.before.is_(False)))


def withdraw_import(job_id: int) -> int:
    """Take the job's published students out of the roster again: delete those it created,
    put back what those it updated held. :data:`CHUNK` rows a transaction; the caller commits
    the last.

    :return: how many.
    """
    table, staged = Student.__table__, StagedStudent.__table__
    withdrawn = 0
    while True:
        chunk = db.session.execute(
            select(staged.c.id, staged.c.student_id, staged.c.student_number)
            .where(staged.c.job_id == job_id, staged.c.published.is_(True),
                   staged.c.student_id.is_(None) | staged.c.before.is_(True))
            .order_by(staged.c.id).limit(CHUNK)).all()
        if not chunk:
            return withdrawn
        ids = [row.id for row in chunk]
        tallies.forget()
        numbers = [row.student_number for row in chunk if row.student_id is None]
        if numbers:
            db.session.execute(delete(table).where(table.c.student_number.in_(numbers)))
        if len(numbers) < len(ids):
            db.session.execute(
                update(table)
                .where(table.c.id == staged.c.student_id, staged.c.id.in_(ids))
                .values({name: staged.c[name] for name in _CHANGING}
                        | {"updated_at": now_utc(), "version_id": table.c.version_id + 1}))
        restored = [row.student_id for row in chunk if row.student_id is not None]
        db.session.execute(update(staged).where(
            staged.c.job_id == job_id,
            staged.c.id.in_(ids) | staged.c.student_id.in_(restored),
        ).values(published=False))
        withdrawn += len(ids)
        db.session.commit()
        _let_pages_write()


def discard_staged(job_id: int) -> None:
    """Delete the job's staged students, :data:`CHUNK` rows a transaction after the first
    (the caller commits the last)."""
    staged = StagedStudent.__table__
    while True:
        ids = db.session.scalars(select(staged.c.id).where(staged.c.job_id == job_id)
                                 .limit(CHUNK)).all()
        if ids:
            db.session.execute(delete(staged).where(staged.c.id.in_(ids)))
        if len(ids) < CHUNK:
            return
        db.session.commit()


def discard_finished_staging() -> int:
    """Delete the staged students of finished jobs (an import whose process stopped between
    its commit and the cleanup after it).

    :return: how many.
    """
    finished = select(Job.id).where(Job.state.in_((JobState.DONE, JobState.FAILED)))
    return db.session.execute(
        delete(StagedStudent).where(StagedStudent.job_id.in_(finished))).rowcount


def after_import(job: Job) -> None:
    """Once the import is committed: its staged students go (in short transactions), the
    planner's statistics are fresh."""
    from caretrack.services.statistics import ROSTER_TABLES, refresh_statistics

    discard_staged(job.id)
    db.session.commit()
    refresh_statistics(*ROSTER_TABLES)


def take_back_import(job: Job) -> None:
    """A failed import: what it published goes, then its staged rows."""
    withdraw_import(job.id)
    discard_staged(job.id)


@task("roster.import", max_attempts=3, after=after_import, on_failure=take_back_import)
def import_roster_job(job: Job, params: dict, progress: Progress) -> dict:
    """Import a kept upload as a job: check it again, stage what it writes, write the roster
    from the staged rows a chunk a transaction, and end in the transaction that marks the job
    done (the moves, the audit; the upload is deleted with it). Safe to retry: a run killed
    before it wrote changed nothing, and one killed while it wrote is finished by the next;
    a job that fails takes back what it wrote (:func:`withdraw_import`).

    ``params``: ``token`` (the kept upload), ``fingerprint`` (the confirmed preview's),
    ``sheet``, ``ip``.

    :raise JobError: "upload-gone", or "roster-changed" (the preview differs now).
    """
    user = job.owner
    upload = load_upload(user, params.get("token", "")) if user is not None else None
    if upload is None:
        raise JobError("upload-gone")
    progress.start(0, stage="reading")
    try:
        sheet = read_roster(upload.filename, upload.data, params.get("sheet"))
    except RosterFileError as exc:
        raise JobError("roster-changed", token=upload.token) from exc
    if is_publishing(job.id):  # a run killed while writing: finish what it checked
        pending = db.session.scalar(select(func.count(StagedStudent.id)).where(
            StagedStudent.job_id == job.id, StagedStudent.before.is_(False)))
        unchanged = len(sheet.rows) - pending
    else:
        progress.start(len(sheet.rows), stage="checking")
        preview = check_roster(upload.filename, sheet, progress, college=user.college_id)
        if preview.errors or preview.fingerprint != params.get("fingerprint"):
            raise JobError("roster-changed", token=upload.token)
        pending, unchanged = len(preview.creates) + len(preview.updates), preview.unchanged
        progress.start(pending, stage="writing")
        stage_import(job.id, preview, progress)
    progress.start(pending, stage="publishing")
    progress(published_count(job.id))
    now = now_utc()
    try:
        while written := publish_chunk(job.id, now):
            db.session.commit()
            progress(written)
            _let_pages_write()
    except PreviewChanged as exc:
        db.session.rollback()
        raise JobError("roster-changed", token=upload.token) from exc
    created, updated = finish_import(job.id, user, now, ip=params.get("ip", ""))
    discard_upload(user, upload.token)
    return {"created": created, "updated": updated, "unchanged": unchanged}
