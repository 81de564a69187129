"""The college's report of a day, once every counsellor's report is approved: the sheets of
the XLSX workbook, the plain text for the email, the audited download, and the email."""

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import and_

from caretrack.access import caseload_filter, in_college
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import College, Health, Student, User
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


def changes_for(day: date, college, counsellor_id: int | None = None) -> list[ChangeRow]:
    """Return the day's changes since yesterday, for one counsellor or the whole college
    (``college``: a college, its id or an account's)."""

    def condition(carried):
        cond = and_(carried.changed, in_college(college))
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
    if not parts:  # recorded the day before, after that day's report was approved
        return _("changed after the previous day's report was approved")
    return _("; ").join(parts)


def _require_ready(day: date, now: datetime, college) -> Board:
    result = board(day, now, college)
    if not result.ready:
        raise RuleError("not-ready")
    return result


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _columns(*pairs: tuple[str, int]) -> tuple[list[str], list[int]]:
    """Split (header, width in characters) pairs into the headers and the widths."""
    return [header for header, _ in pairs], [width for _, width in pairs]


def _status_sheet(day: date, college, condition, title: str, with_phone: bool = False) -> tuple:
    """A sheet of the college's students matching ``condition(carried)`` with their status of
    ``day``."""
    extra = [Student.student_number, Student.name, Student.class_name, User.display_name]
    if with_phone:
        extra.append(Student.phone)
    carried, query = status_rows(
        day, lambda c: and_(in_college(college), condition(c)), *extra)
    headers, widths = _columns(
        (_("Student number"), 14), (_("Name"), 12), (_("Class"), 18), (_("Counsellor"), 12),
        *([(_("Phone"), 14)] if with_phone else []),
        (_("Province"), 10), (_("City"), 12), (_("On campus"), 8), (_("Health"), 12),
        (_("Last confirmed"), 12), (_("Note"), 40),
    )

    def rows():
        for row in db.session.execute(query):
            status = carried.status_of(row)
            values = status.values
            yield [
                *row[17:], values.province, values.city, _yes_no(values.on_campus),
                label("health", values.health),
                status.status_day.isoformat() if status.status_day else _("never"),
                status.note,
            ]

    return title, headers, rows(), widths


def _count_or_unknown(value: int | None):
    return _("unknown") if value is None else value


def college_report_sheets(day: date, now: datetime, college) -> list[tuple]:
    """Return the sheets of the college's report of ``day`` (title, headers, rows, widths):
    summary, changes, students of concern, the sign-off record, unconfirmed per counsellor,
    the unconfirmed students, every student.

    :raise RuleError: "not-ready" until every report of the day is approved.
    """
    result = _require_ready(day, now, college)
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
        [_("Status confirmed for the day"), totals.confirmed],
        [_("No status confirmed for the day"), totals.missing],
        [_("Changes after approval"), totals.after_approval],
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
        for c in changes_for(day, college)
    ]
    sign_off = [
        [row.counsellor.display_name, label("report_state", row.report.state),
         _yes_no(row.report.is_zero), row.report.changes_count,
         _local_text(row.report.submitted_at), _yes_no(row.report.late),
         _local_text(row.report.resubmitted_at),
         row.report.reviewed_by.display_name if row.report.reviewed_by else "",
         _local_text(row.report.reviewed_at), row.report.review_comment]
        for row in result.rows
    ]
    unconfirmed = [
        [row.counsellor.display_name, row.totals.students, row.totals.confirmed,
         row.totals.missing, _count_or_unknown(row.report.unconfirmed_count),
         _count_or_unknown(row.report.approved_unconfirmed), row.totals.after_submission,
         row.totals.after_approval]
        for row in result.rows
    ]
    unconfirmed.append([_("The college"), totals.students, totals.confirmed, totals.missing,
                        "", "", totals.after_submission, totals.after_approval])
    carried, query = status_rows(
        day, lambda c: in_college(college), Student.student_number, Student.name,
        Student.programme, Student.class_name,
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
        # The summary's counsellor table below the totals has nine columns.
        (_("Summary"), [_("Item"), _("Number")], summary, [24, 12, 10, 10, 10, 18, 8, 14, 18]),
        (_("Changes since yesterday"), *_with_rows(_columns(
            (_("Student number"), 14), (_("Name"), 12), (_("Class"), 18), (_("Counsellor"), 12),
            (_("Location yesterday"), 16), (_("Location today"), 16),
            (_("Health yesterday"), 12), (_("Health today"), 12), (_("Note"), 40)), changes)),
        _status_sheet(day, college, lambda c: c.of_concern,
                      _("Abnormal health, Hubei, risk areas")),
        (_("Sign-off record"), *_with_rows(_columns(
            (_("Counsellor"), 14), (_("Report"), 10), (_("Zero report"), 10), (_("Changes"), 8),
            (_("Submitted at"), 18), (_("Late"), 8), (_("Resubmitted at"), 18),
            (_("Approved by"), 14), (_("Approved at"), 18), (_("Comment"), 40)), sign_off)),
        (_("Unconfirmed by counsellor"), *_with_rows(_columns(
            (_("Counsellor"), 14), (_("Students"), 10), (_("Confirmed"), 10),
            (_("Unconfirmed"), 12), (_("Unconfirmed at submission"), 14),
            (_("Unconfirmed at approval"), 14), (_("Changes after submission"), 14),
            (_("Changes after approval"), 14)), unconfirmed)),
        _status_sheet(day, college, lambda c: c.missing, _("Unconfirmed students"),
                      with_phone=True),
        (_("All students"), *_with_rows(_columns(
            (_("Student number"), 14), (_("Name"), 12), (_("Programme"), 14), (_("Class"), 18),
            (_("Counsellor"), 12), (_("Province"), 10), (_("City"), 12), (_("On campus"), 8),
            (_("Health"), 12), (_("Confirmed for the day"), 10), (_("Changed"), 8),
            (_("Note"), 40)), roster())),
        (_("Early returns"), *_with_rows(_columns(
            (_("Student number"), 14), (_("Name"), 12), (_("Class"), 18), (_("Counsellor"), 12),
            (_("State"), 12), (_("Allowed arrival from"), 14), (_("Arrived on"), 12),
            (_("Arrival plan"), 40)), _early_returns(day, college))),
    ]


def _early_returns(day: date, college):
    from caretrack.services.return_requests import arrivals

    for request, student in arrivals(day, in_college(college)):
        yield [student.student_number, student.name, student.class_name,
               student.counsellor.display_name, label("return_state", request.state),
               request.arrival_on.isoformat() if request.arrival_on else "",
               request.arrived_on.isoformat() if request.arrived_on else "",
               request.arrival_plan]


def _with_rows(columns: tuple[list[str], list[int]], rows) -> tuple:
    """(headers, rows, widths) from (headers, widths) and the rows."""
    headers, widths = columns
    return headers, rows, widths


def college_report_xlsx(day: date, now: datetime, college) -> bytes:
    """Return the college's report of ``day`` as an XLSX workbook (see college_report_sheets),
    every sheet with its column widths and a frozen header row."""
    return xlsx_bytes(college_report_sheets(day, now, college), freeze_header=True)


#: How many changes the plain-text summary lists before referring to the spreadsheet.
TEXT_CHANGES_LIMIT = 50


def college_report_text(day: date, now: datetime, college) -> str:
    """Return the college's report of ``day`` as plain text, ready to paste into an email.

    :raise RuleError: "not-ready" until every report of the day is approved.
    """
    result = _require_ready(day, now, college)
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
    changes = changes_for(day, college)
    for change in changes[:TEXT_CHANGES_LIMIT]:
        lines.append(_("- %(number)s %(name)s (%(class_name)s): %(what)s",
                       number=change.student_number, name=change.name,
                       class_name=change.class_name, what=_change_text(change)))
    if len(changes) > TEXT_CHANGES_LIMIT:
        lines.append(_("… and %(num)d more, listed in the spreadsheet.",
                       num=len(changes) - TEXT_CHANGES_LIMIT))
    lines.append(_("Confirmed on the day: %(confirmed)d of %(students)d; unconfirmed: "
                   "%(missing)d (their last known status is counted).", confirmed=t.confirmed,
                   students=t.students, missing=t.missing))
    lines += ["", _("Reports of the counsellors:")]
    for row in result.rows:
        kind = _("zero report") if row.report.is_zero else _(
            "%(num)d changes", num=row.report.changes_count
        )
        late = _(", late") if row.report.late else ""
        counts = _("; confirmed %(confirmed)d, unconfirmed %(missing)d",
                   confirmed=row.totals.confirmed, missing=row.totals.missing)
        lines.append(_("- %(name)s: %(what)s", name=row.counsellor.display_name,
                       what=kind + late + counts))
    return "\n".join(lines) + "\n"


def send_college_report(day: date, now: datetime, college: College,
                        recipients: list[str]) -> list[str]:
    """Email the college's report of ``day`` to each recipient once; return who got it now.

    :raise RuleError: "not-ready" until every report of the day is approved.
    """
    from caretrack.services.mail import build_message, send_once  # mail imports the app's config

    body = college_report_text(day, now, college)
    attachment = college_report_xlsx(day, now, college)
    subject = _("Students' daily status, %(day)s", day=day.isoformat())
    filename = f"college-report-{day.isoformat()}.xlsx"
    mimetype = MIMETYPES["xlsx"]
    sent = []
    for address in recipients:
        message = build_message(address, subject, body, [(filename, attachment, mimetype)])
        if send_once(f"college-report:{college.code}:{day.isoformat()}:{address}", message):
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
        body = college_report_xlsx(day, now, by)
        name, mimetype = f"college-report-{day.isoformat()}.xlsx", MIMETYPES["xlsx"]
    elif fmt == "text":
        body = college_report_text(day, now, by).encode()
        name, mimetype = f"college-report-{day.isoformat()}.txt", "text/plain; charset=utf-8"
    else:
        raise ValueError(f"unknown format {fmt!r}")
    record_event("daily_report.export", by, detail=f"format={fmt} day={day.isoformat()}",
                 now=now, ip=ip)
    return ExportFile(body, name, name, mimetype)
