"""The college's report of a day, once every counsellor's report is approved: the sheets of
the XLSX workbook, the plain text for the email, the audited download, and the email."""

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import and_

from caretrack.access import caseload_filter
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import Health, Student, User
from caretrack.services.audit import record_event
from caretrack.services.clock import college_tz
from caretrack.services.daily.carried import status_rows
from caretrack.services.daily.reports import Board, board
from caretrack.services.daily.values import StatusValues
from caretrack.services.errors import RuleError
from caretrack.services.exports import MIMETYPES, ExportFile
from caretrack.services.spreadsheets import xlsx_bytes


def _local_text(value: datetime | None) -> str:
    return value.astimezone(college_tz()).strftime("%Y-%m-%d %H:%M") if value else ""


def location_text(values: StatusValues) -> str:
    """The place as people write it: "湖北 武汉", or "On campus"."""
    if values.on_campus:
        return _("On campus")
    if values.city and values.city != values.province:
        return f"{values.province} {values.city}"
    return values.province


@dataclass
class ChangeRow:
    student_number: str
    name: str
    class_name: str
    counsellor: str
    before: StatusValues
    after: StatusValues
    note: str


def changes_for(day: date, counsellor_id: int | None = None) -> list[ChangeRow]:
    """Return the day's changes since yesterday, for one counsellor or the whole college."""

    def condition(carried):
        cond = carried.changed
        return cond if counsellor_id is None else and_(cond, caseload_filter(counsellor_id))

    carried, query = status_rows(
        day, condition, Student.student_number, Student.name, Student.class_name,
        User.display_name,
    )
    rows = []
    for row in db.session.execute(query):
        status = carried.status_of(row)
        number, name, class_name, counsellor = row[17:]
        rows.append(ChangeRow(number, name, class_name, counsellor, status.previous,
                              status.values, status.note))
    return rows


def _change_text(change: ChangeRow) -> str:
    parts = []
    if location_text(change.before) != location_text(change.after):
        parts.append(_("location %(before)s → %(after)s", before=location_text(change.before),
                       after=location_text(change.after)))
    if change.before.health != change.after.health:
        parts.append(_("health %(before)s → %(after)s",
                       before=label("health", change.before.health),
                       after=label("health", change.after.health)))
    return _("; ").join(parts)


def _require_ready(day: date, now: datetime) -> Board:
    result = board(day, now)
    if not result.ready:
        raise RuleError("not-ready")
    return result


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def college_report_sheets(day: date, now: datetime) -> list[tuple[str, list[str], list]]:
    """Return the sheets of the college's report of ``day``: summary, changes, every student.

    :raise RuleError: "not-ready" until every report of the day is approved.
    """
    result = _require_ready(day, now)
    totals = result.totals
    summary = [
        [_("Date"), day.isoformat()],
        [_("Students"), totals.students],
        [_("In Hubei"), totals.hubei],
        [_("In Beijing"), totals.beijing],
        [_("Elsewhere"), totals.elsewhere],
        [_("On campus"), totals.on_campus],
        *[[label("health", h), totals.health[h.value]] for h in Health],
        [_("Changes since yesterday"), totals.changes],
        [_("No status confirmed for the day"), totals.missing],
        [],
        [_("Counsellor"), _("Students"), _("Report"), _("Changes"), _("Zero report"),
         _("Submitted at"), _("Late"), _("Approved by"), _("Approved at")],
    ]
    for row in result.rows:
        report = row.report
        summary.append([
            row.counsellor.display_name, row.totals.students, label("report_state", report.state),
            report.changes_count, _yes_no(report.is_zero), _local_text(report.submitted_at),
            _yes_no(report.late), report.reviewed_by.display_name if report.reviewed_by else "",
            _local_text(report.reviewed_at),
        ])
    changes = [
        [c.student_number, c.name, c.class_name, c.counsellor, location_text(c.before),
         location_text(c.after), label("health", c.before.health),
         label("health", c.after.health), c.note]
        for c in changes_for(day)
    ]
    carried, query = status_rows(
        day, None, Student.student_number, Student.name, Student.programme, Student.class_name,
        User.display_name,
    )

    def roster():
        for row in db.session.execute(query):
            status = carried.status_of(row)
            number, name, programme, class_name, counsellor = row[17:]
            yield [
                number, name, label("programme", programme), class_name, counsellor,
                status.values.province, status.values.city, _yes_no(status.values.on_campus),
                label("health", status.values.health), _yes_no(status.confirmed),
                _yes_no(bool(status.changes)), status.note,
            ]

    return [
        (_("Summary"), [_("Item"), _("Number")], summary),
        (_("Changes since yesterday"), [_("Student number"), _("Name"), _("Class"),
                                        _("Counsellor"),
                        _("Location yesterday"), _("Location today"), _("Health yesterday"),
                        _("Health today"), _("Note")], changes),
        (_("All students"), [_("Student number"), _("Name"), _("Programme"), _("Class"),
                             _("Counsellor"), _("Province"), _("City"), _("On campus"),
                             _("Health"), _("Confirmed for the day"), _("Changed"), _("Note")],
         roster()),
    ]


def college_report_xlsx(day: date, now: datetime) -> bytes:
    """Return the college's report of ``day`` as an XLSX workbook (see college_report_sheets)."""
    return xlsx_bytes(college_report_sheets(day, now))


#: How many changes the plain-text summary lists before referring to the spreadsheet.
TEXT_CHANGES_LIMIT = 50


def college_report_text(day: date, now: datetime) -> str:
    """Return the college's report of ``day`` as plain text, ready to paste into an email.

    :raise RuleError: "not-ready" until every report of the day is approved.
    """
    result = _require_ready(day, now)
    t = result.totals
    health = _("; ").join(f"{label('health', h)} {t.health[h.value]}" for h in Health)
    lines = [
        _("Students' daily status, %(day)s", day=day.isoformat()),
        "",
        _("Students: %(students)d. In Hubei: %(hubei)d; in Beijing: %(beijing)d; elsewhere: "
          "%(elsewhere)d. On campus: %(on_campus)d.", students=t.students, hubei=t.hubei,
          beijing=t.beijing, elsewhere=t.elsewhere, on_campus=t.on_campus),
        _("Health: %(list)s.", list=health),
        _("Changes since yesterday: %(num)d.", num=t.changes),
    ]
    changes = changes_for(day)
    for change in changes[:TEXT_CHANGES_LIMIT]:
        lines.append(_("- %(number)s %(name)s (%(class_name)s): %(what)s",
                       number=change.student_number, name=change.name,
                       class_name=change.class_name, what=_change_text(change)))
    if len(changes) > TEXT_CHANGES_LIMIT:
        lines.append(_("… and %(num)d more, listed in the spreadsheet.",
                       num=len(changes) - TEXT_CHANGES_LIMIT))
    if t.missing:
        lines.append(_("No status confirmed on the day: %(num)d students (their last known "
                       "status is counted).", num=t.missing))
    lines += ["", _("Reports of the counsellors:")]
    for row in result.rows:
        kind = _("zero report") if row.report.is_zero else _(
            "%(num)d changes", num=row.report.changes_count
        )
        late = _(", late") if row.report.late else ""
        lines.append(_("- %(name)s: %(what)s", name=row.counsellor.display_name,
                       what=kind + late))
    return "\n".join(lines) + "\n"


def send_college_report(day: date, now: datetime, recipients: list[str]) -> list[str]:
    """Email the college's report of ``day`` to each recipient once; return who got it now.

    :raise RuleError: "not-ready" until every report of the day is approved.
    """
    from caretrack.services.mail import build_message, send_once  # mail imports the app's config

    body = college_report_text(day, now)
    attachment = college_report_xlsx(day, now)
    subject = _("Students' daily status, %(day)s", day=day.isoformat())
    filename = f"college-report-{day.isoformat()}.xlsx"
    mimetype = MIMETYPES["xlsx"]
    sent = []
    for address in recipients:
        message = build_message(address, subject, body, [(filename, attachment, mimetype)])
        if send_once(f"college-report:{day.isoformat()}:{address}", message):
            sent.append(address)
    return sent



#: The formats of the college report's download.
COLLEGE_REPORT_FORMATS = ("xlsx", "text")


def export_college_report(
    day: date, by: User, now: datetime, *, fmt: str, ip: str = ""
) -> ExportFile:
    """Write the college's report of ``day`` as XLSX or text, audited like every export of
    student names.

    :raise RuleError: "not-ready" until every report of the day is approved.
    """
    if fmt == "xlsx":
        body = college_report_xlsx(day, now)
        name, mimetype = f"college-report-{day.isoformat()}.xlsx", MIMETYPES["xlsx"]
    elif fmt == "text":
        body = college_report_text(day, now).encode()
        name, mimetype = f"college-report-{day.isoformat()}.txt", "text/plain; charset=utf-8"
    else:
        raise ValueError(f"unknown format {fmt!r}")
    record_event("daily_report.export", by, detail=f"format={fmt} day={day.isoformat()}",
                 now=now, ip=ip)
    return ExportFile(body, name, name, mimetype)
