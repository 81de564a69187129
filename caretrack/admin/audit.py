"""The admin's audit log browser. Read-only: the log is never
edited, so there is no route that changes it."""

from dataclasses import dataclass
from datetime import date

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select

from caretrack.access import college_accounts, visible_audit_events
from caretrack.admin import bp
from caretrack.extensions import db
from caretrack.models import AuditEvent, Student, User
from caretrack.services.clock import day_bounds

AUDIT_PER_PAGE = 50

#: Readable names of the actions, one for every action the app records (a test holds it to
#: the code); an unknown action is shown as its code.
ACTION_LABELS = {
    "login": _l("Signed in"),
    "login.failed": _l("Failed sign-in"),
    "login.throttled": _l("Sign-in refused: too many failures"),
    "two_factor.failed": _l("Wrong second-factor code"),
    "two_factor.enable": _l("Turned on two-factor sign-in"),
    "two_factor.disable": _l("Turned off two-factor sign-in"),
    "two_factor.recovery_codes": _l("Made new recovery codes"),
    "student.refused": _l("Refused a look at a student"),
    "upload.refused": _l("An upload was refused"),
    "upload.abandoned": _l("Left an upload without saving it"),
    "class_group.set": _l("Set a class group's robot"),
    "class_group.remove": _l("Removed a class group's robot"),
    "logout": _l("Signed out"),
    "password.change": _l("Changed password"),
    "api_token.create": _l("Created an API token"),
    "api_token.revoke": _l("Revoked an API token"),
    "user.create": _l("Created an account"),
    "user.update": _l("Changed an account"),
    "college.save": _l("Added or changed a college"),
    "sign_off.pass": _l("Passed the college's daily report on"),
    "sign_off.return": _l("Returned the college's daily report to the stage before"),
    "category.save": _l("Saved a care category"),
    "risk_area.save": _l("Saved a risk area"),
    "status_rule.save": _l("Saved a status rule"),
    "roster.import": _l("Imported the roster"),
    "export": _l("Downloaded a list"),
    "calendar.feed": _l("Read the re-check calendar feed"),
    "student.view": _l("Viewed a student page"),
    "api.student.view": _l("Read a student through the API"),
    "follow_up.create": _l("Logged a follow-up"),
    "delivery.create": _l("Recorded a supply delivery"),
    "note.create": _l("Added a note"),
    "correction.create": _l("Corrected an entry"),
    "category.add": _l("Added a care category"),
    "category.end": _l("Ended a care category"),
    "concern.change": _l("Changed the concern level"),
    "referral.create": _l("Referred to a supervisor"),
    "referral.view": _l("Viewed a referral"),
    "referral.accepted": _l("Accepted a referral"),
    "referral.declined": _l("Declined a referral"),
    "referral.responded": _l("Responded to a referral"),
    "referral.done": _l("Marked a referral done"),
    "referral.revoked": _l("Revoked a referral"),
    "review.create": _l("Reviewed a student"),
    "review.flag": _l("Flagged a student for review"),
    "daily_status.record": _l("Recorded daily statuses"),
    "daily_status.upload": _l("Uploaded a check-in sheet"),
    "daily_status.view": _l("Opened a student's daily status"),
    "status_suggestion.apply": _l("Applied a status rule's suggestion"),
    "status_suggestion.dismiss": _l("Dismissed a status rule's suggestion"),
    "daily_report.submit": _l("Submitted a daily report"),
    "daily_report.approve": _l("Approved a daily report"),
    "daily_report.return": _l("Returned a daily report"),
    "daily_report.export": _l("Downloaded the college's daily report"),
    "checkin.verify": _l("A student confirmed who they are"),
    "checkin.verify_failed": _l("A check-in identity check failed"),
    "checkin.submit": _l("A student checked in"),
    "checkin.rotate_student": _l("Replaced a student's personal link"),
    "checkin.revoke_student": _l("Revoked a student's personal link"),
    "checkin.rotate_class": _l("Replaced a class link"),
    "checkin.rotate_caseload": _l("Replaced every link of a caseload"),
    "notice.publish": _l("Published a notice"),
    "notice.acknowledge": _l("A student acknowledged a notice"),
    "return.asked": _l("A student asked to return early"),
    "return.recommended": _l("Recommended on an early-return request"),
    "return.approved": _l("Approved an early return"),
    "return.declined": _l("Declined an early return"),
    "return.withdrawn": _l("A student withdrew an early-return request"),
    "return.arrived": _l("Recorded an early return's arrival"),
    "absence.create": _l("Recorded an absence and its cover"),
    "absence.end_early": _l("Ended an absence early"),
    "absence.extend": _l("Extended an absence"),
    "absence.cancel": _l("Cancelled an absence"),
    "student.merge": _l("Merged two records of one student"),
    "student.unmerge": _l("Undid a merge of two student records"),
    "retention.policy": _l("Saved the retention policy"),
    "retention.purge": _l("Purged data under the retention policy"),
    "student.access_log": _l("Read who looked at a student"),
    "student.record_export": _l("Downloaded a student's whole record"),
    "student.transfer": _l("Moved students to another counsellor"),
    "student.supervisor": _l("Set a student's supervisor"),
    "bulk.add_category": _l("Added a care category to several students"),
    "bulk.end_category": _l("Ended a care category of several students"),
    "bulk.schedule_recheck": _l("Scheduled a re-check for several students"),
    "bulk.log_follow_up": _l("Logged a follow-up with several students"),
    "bulk.flag_review": _l("Flagged several students for review"),
    "bulk.set_concern": _l("Set the concern level of several students"),
    "bulk.assign_supervisor": _l("Set the supervisor of several students"),
}


def _as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@dataclass
class AuditFilters:
    """The audit log's filters, as given in the query string."""

    user: int | None = None
    action: str = ""
    student_number: str = ""
    date_from: date | None = None
    date_to: date | None = None
    #: The names of the filters whose value could not be read.
    invalid: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args) -> "AuditFilters":
        user = args.get("user", "").strip()
        dates = {name: args.get(name, "").strip() for name in ("date_from", "date_to")}
        parsed = {name: _as_date(value) if value else None for name, value in dates.items()}
        return cls(
            user=int(user) if user.isdigit() else None,
            action=args.get("action", "").strip()[:50],
            student_number=args.get("student_number", "").strip()[:32],
            date_from=parsed["date_from"],
            date_to=parsed["date_to"],
            invalid=tuple(name for name, value in dates.items() if value and not parsed[name]),
        )

    def active(self) -> bool:
        return any(v not in ("", None) for v in (self.user, self.action, self.student_number,
                                                  self.date_from, self.date_to))


def audit_query(filters: AuditFilters, user: User) -> Select[tuple[AuditEvent]]:
    """Return the audit events of the user's college matching ``filters``, newest first."""
    query = visible_audit_events(user)
    if filters.user is not None:
        query = query.where(AuditEvent.user_id == filters.user)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.student_number:
        query = query.where(
            AuditEvent.student_id.in_(
                select(Student.id).where(Student.student_number == filters.student_number)
            )
        )
    if filters.date_from:
        query = query.where(AuditEvent.occurred_at >= day_bounds(filters.date_from)[0])
    if filters.date_to:
        query = query.where(AuditEvent.occurred_at < day_bounds(filters.date_to)[1])
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


@bp.get("/audit")
def audit():
    filters = AuditFilters.from_args(request.args)
    page = db.paginate(audit_query(filters, current_user), per_page=AUDIT_PER_PAGE,
                       max_per_page=AUDIT_PER_PAGE, error_out=False)
    events = list(page.items)
    student_ids = {e.student_id for e in events if e.student_id}
    students = {
        row.id: row
        for row in db.session.execute(
            select(Student.id, Student.student_number, Student.name)
            .where(Student.id.in_(student_ids))
        )
    }
    users = db.session.scalars(select(User).where(college_accounts(current_user))
                               .order_by(User.role, User.display_name)).all()
    actions = db.session.scalars(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    ).all()
    return render_template(
        "admin/audit.html", page=page, events=events, students=students, users=users,
        actions=actions, filters=filters, action_labels=ACTION_LABELS,
    )
