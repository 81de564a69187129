"""One student's record as a whole: who looked at it (the access log, from the audit events)
and the export of everything CareTrack holds about the student (PIPL art. 45)."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from caretrack.access import exports_student_record, sees_access_log
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import (
    AuditEvent,
    CategoryAssignment,
    CheckIn,
    ConcernChange,
    DailyStatus,
    NoticeRecipient,
    ReturnRequest,
    Student,
    TimelineEntry,
    User,
)
from caretrack.services.audit import record_event
from caretrack.services.clock import college_tz
from caretrack.services.errors import RuleError
from caretrack.services.exports import MIMETYPES, ExportFile
from caretrack.services.spreadsheets import xlsx_bytes

#: The audit actions the access log calls "opened"; the others changed or exported something.
VIEW_ACTIONS = frozenset({"student.view", "api.student.view", "referral.view",
                          "student.refused", "student.access_log"})


def access_log_query(student: Student) -> Select[tuple[AuditEvent]]:
    """Every audit event of ``student``, newest first: who opened the page, exported or
    changed the record, and when."""
    return (select(AuditEvent).where(AuditEvent.student_id == student.id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()))


def record_access_log_view(student: Student, by: User, *, now: datetime, ip: str = "") -> None:
    """Audit that ``by`` read the student's access log (reading it is an access too).

    :raise RuleError: "not-allowed" for anyone but the deputy secretary.
    """
    if not sees_access_log(by):
        raise RuleError("not-allowed")
    record_event("student.access_log", by, student.id, now=now, ip=ip)


def _local(value: datetime | None) -> str:
    return value.astimezone(college_tz()).strftime("%Y-%m-%d %H:%M") if value else ""


def _entry_text(entry: TimelineEntry) -> str:
    if entry.purged_on:
        return _("Content deleted under the retention policy (%(day)s)",
                 day=entry.purged_on.isoformat())
    return entry.body


def _details(details: dict) -> str:
    return "; ".join(f"{k}: {v}" for k, v in (details or {}).items() if v not in (None, ""))


def record_sheets(student: Student) -> list[tuple]:
    """The sheets of the student's record: profile, care categories, concern history,
    timeline, daily statuses, check-ins, notices, early-return requests."""
    yes, no = _("Yes"), _("No")
    profile = [
        [_("Student number"), student.student_number], [_("Name"), student.name],
        [_("Gender"), label("gender", student.gender)],
        [_("Programme"), label("programme", student.programme)],
        [_("Cohort"), student.cohort], [_("Class"), student.class_name],
        [_("Counsellor"), student.counsellor.display_name],
        [_("Supervisor"), student.supervisor.display_name if student.supervisor else ""],
        [_("Phone"), student.phone], [_("Province"), student.province],
        [_("City"), student.city], [_("On campus"), yes if student.on_campus else no],
        [_("Employed"), yes if student.employed else no], [_("Notes"), student.notes],
        [_("Concern level"), label("concern", student.concern_level)],
        [_("Left the college"), label("leaving", student.leaving) if student.leaving else ""],
        [_("Left on"), student.left_on.isoformat() if student.left_on else ""],
    ]
    assignments = db.session.scalars(
        select(CategoryAssignment).where(CategoryAssignment.student_id == student.id)
        .options(joinedload(CategoryAssignment.set_by))
        .order_by(CategoryAssignment.started_on, CategoryAssignment.id))
    categories = [[a.category.name_zh, a.started_on.isoformat(),
                   a.ended_on.isoformat() if a.ended_on else "", a.reason, a.end_reason or "",
                   a.set_by.display_name] for a in assignments]
    concern = [[_local(c.created_at), label("concern", c.previous_level),
                label("concern", c.level), c.reason, c.set_by.display_name]
               for c in db.session.scalars(
                   select(ConcernChange).where(ConcernChange.student_id == student.id)
                   .options(joinedload(ConcernChange.set_by)).order_by(ConcernChange.created_at))]
    timeline = [[_local(e.occurred_at), label("entry_kind", e.kind), e.author.display_name,
                 _entry_text(e), _details(e.details)]
                for e in db.session.scalars(
                    select(TimelineEntry).where(TimelineEntry.student_id == student.id)
                    .order_by(TimelineEntry.occurred_at, TimelineEntry.id))]
    statuses = [[s.day.isoformat(), s.province, s.city, yes if s.on_campus else no,
                 label("health", s.health), "" if s.temperature is None else str(s.temperature),
                 yes if s.risk_contact else no, s.note, s.source]
                for s in db.session.scalars(select(DailyStatus).where(
                    DailyStatus.student_id == student.id).order_by(DailyStatus.day))]
    checkins = [[c.day.isoformat(), _local(c.submitted_at), c.province, c.city, c.country,
                 label("health", c.health), "" if c.temperature is None else str(c.temperature),
                 c.note]
                for c in db.session.scalars(select(CheckIn).where(
                    CheckIn.student_id == student.id).order_by(CheckIn.submitted_at))]
    received = [[r.notice.title, _local(r.notice.published_at), _local(r.acknowledged_at),
                 yes if r.pledged else no]
                for r in db.session.scalars(select(NoticeRecipient).where(
                    NoticeRecipient.student_id == student.id)
                    .options(joinedload(NoticeRecipient.notice)).order_by(NoticeRecipient.id))]
    requests = [[_local(r.created_at), label("return_reason", r.reason),
                 r.wanted_on.isoformat(), r.travel_from, r.details,
                 label("return_state", r.state), r.recommendation_note,
                 r.arrival_on.isoformat() if r.arrival_on else "", r.arrival_plan,
                 r.decline_reason, r.purged_on.isoformat() if r.purged_on else ""]
                for r in db.session.scalars(select(ReturnRequest).where(
                    ReturnRequest.student_id == student.id).order_by(ReturnRequest.created_at))]
    return [
        (_("Profile"), [_("Item"), _("Value")], profile, [18, 40]),
        (_("Care categories"), [_("Category"), _("Since"), _("Until"), _("Reason"),
                                _("Why it ended"), _("Set by")], categories),
        (_("Concern history"), [_("When"), _("From"), _("To"), _("Reason"), _("Set by")],
         concern),
        (_("Timeline"), [_("When"), _("Kind"), _("Author"), _("Text"), _("Details")], timeline,
         [17, 14, 12, 50, 50]),
        (_("Daily statuses"), [_("Day"), _("Province"), _("City"), _("On campus"), _("Health"),
                               _("Temperature"), _("Risk contact"), _("Note"), _("Source")],
         statuses),
        (_("Check-ins"), [_("Day"), _("Submitted at"), _("Province"), _("City"), _("Country"),
                          _("Health"), _("Temperature"), _("Note")], checkins),
        (_("Notices"), [_("Title"), _("Published"), _("Acknowledged"), _("Pledged")], received),
        (_("Early-return requests"), [
            _("Asked"), _("Reason"), _("Wanted"), _("Travelling from"), _("Details"),
            _("State"), _("Counsellor's note"), _("Allowed arrival from"), _("Arrival plan"),
            _("Declined because"), _("Texts deleted on")], requests),
    ]


def export_record(student: Student, by: User, *, now: datetime, ip: str = "") -> ExportFile:
    """The student's whole record as an XLSX workbook, audited ("student.record_export"): the
    college's answer to the student's request to see their data (PIPL art. 45).

    :raise RuleError: "not-allowed" for anyone but the deputy secretary.
    """
    if not exports_student_record(by):
        raise RuleError("not-allowed")
    body = xlsx_bytes(record_sheets(student), freeze_header=True)
    record_event("student.record_export", by, student.id, detail="format=xlsx", now=now, ip=ip)
    name = f"student-{student.student_number}.xlsx"
    return ExportFile(body, name, name, MIMETYPES["xlsx"])
