"""Each counsellor's daily report: the deadline, submitting and signing off, the deputy
secretary's board, and the landing page's card.

A report can be submitted while there is none yet or it was returned; an approved report is
locked. Statuses still change after submitting (see :mod:`.statuses`): the board and the
counsellor's page show those changes "after submission" or "after approval".
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from caretrack.access import (
    can_sign_off_reports,
    caseload_filter,
    files_daily_report,
    files_daily_report_for,
    reporting_counsellors,
    same_college,
)
from caretrack.extensions import db
from caretrack.models import DailyReport, DailyStatus, ReportState, Student, User
from caretrack.services.audit import record_event
from caretrack.services.clock import local_datetime, local_today
from caretrack.services.daily import tallies
from caretrack.services.daily.carried import caseload_totals
from caretrack.services.daily.values import Totals
from caretrack.services.errors import RuleError

#: The board's word for a counsellor without a report of the day.
MISSING = "missing"


def deadline(day: date) -> datetime:
    """The instant of the day's report deadline (DAILY_REPORT_DEADLINE, college time)."""
    return local_datetime(day, time.fromisoformat(current_app.config["DAILY_REPORT_DEADLINE"]))


def is_past_deadline(day: date, now: datetime) -> bool:
    """Whether a report of ``day`` submitted at ``now`` is late."""
    return now > deadline(day)


def get_report(counsellor_id: int, day: date) -> DailyReport | None:
    """Return the counsellor's report of ``day``, or None when there is none yet."""
    return db.session.scalars(
        select(DailyReport).where(
            DailyReport.counsellor_id == counsellor_id, DailyReport.day == day
        )
    ).one_or_none()


def get_counsellor(counsellor_id: int, viewer: User) -> User | None:
    """Return the counsellor (active or not, of the viewer's college) whose reports the
    board lists, or None."""
    return db.session.scalars(
        select(User).where(User.id == counsellor_id, reporting_counsellors(viewer))
    ).one_or_none()


def can_submit(report: DailyReport | None) -> bool:
    """Whether the day's report may be submitted: none yet, or a returned one."""
    return report is None or report.state == ReportState.RETURNED


def changed_after(report: DailyReport | None) -> str | None:
    """The mark of a status change recorded now: "submitted" while the report waits for
    review, "approved" once it is approved, else None (the change is part of the report)."""
    if report is None or report.state == ReportState.RETURNED:
        return None
    return str(report.state)


def report_status(report: DailyReport | None) -> str:
    """One word for the report's state: missing, submitted, returned or approved."""
    return MISSING if report is None else report.state


# -- submitting and reviewing -----------------------------------------------------------------


def submit_report(
    counsellor: User, day: date, now: datetime, *, note: str = "", zero: bool = False,
    ask_unconfirmed: bool = False, ip: str = "", by: User | None = None,
) -> DailyReport:
    """Submit (or, once returned, resubmit) the counsellor's report of ``day``'s changes,
    keeping how many students were confirmed and how many only carried forward.

    With no change it is a zero report. Late when first submitted after the day's deadline.
    With ``ask_unconfirmed`` it refuses while students are unconfirmed, so the counsellor is
    asked once (and submits again without it). ``by`` is who submits: the counsellor
    (the default) or a colleague covering their absence that day; the report keeps who.

    :raise RuleError: "not-a-counsellor", "future-day", "not-zero" (``detail``: the number of
        changes) for a zero report of a day with changes, "already-submitted" (also when
        another window submitted it meanwhile), "locked", "unconfirmed-students" (``num``).
    """
    by = by or counsellor
    if not files_daily_report(counsellor):
        raise RuleError("not-a-counsellor")
    if not files_daily_report_for(by, counsellor, local_today(now)):
        raise RuleError("not-allowed")
    if day > local_today(now):
        raise RuleError("future-day")
    totals = caseload_totals(counsellor, day)
    changes = totals.changes
    if zero and changes:
        raise RuleError("not-zero", detail=changes)
    report = get_report(counsellor.id, day)
    if report is not None and report.state == ReportState.SUBMITTED:
        raise RuleError("already-submitted")
    if report is not None and report.state == ReportState.APPROVED:
        raise RuleError("locked")
    if ask_unconfirmed and totals.missing:
        raise RuleError("unconfirmed-students", num=totals.missing)
    if report is None:
        report = DailyReport(
            counsellor_id=counsellor.id, day=day, submitted_at=now,
            late=is_past_deadline(day, now),
        )
        db.session.add(report)
    else:
        report.resubmitted_at = now
        _fold_changes_into(counsellor, day)
    report.state = ReportState.SUBMITTED
    report.is_zero = changes == 0
    report.changes_count = changes
    report.confirmed_count = totals.confirmed
    report.unconfirmed_count = totals.missing
    report.note = (note or "").strip()[:2000]
    report.submitted_by_id = by.id
    try:
        db.session.flush()
    except IntegrityError as exc:  # the first report of the day, submitted twice at once
        raise RuleError("already-submitted") from exc
    covering = f" covering:{counsellor.id}" if by.id != counsellor.id else ""
    record_event("daily_report.submit", by,
                 detail=f"report:{report.id} unconfirmed:{report.unconfirmed_count}{covering}",
                 now=now, ip=ip)
    return report


def _fold_changes_into(counsellor: User, day: date) -> None:
    """A resubmitted report includes the changes made after its first submission: they are no
    longer "after submission" (the day's kept numbers are counted again at the next write)."""
    tallies.forget(day)
    db.session.execute(
        update(DailyStatus)
        .where(DailyStatus.day == day,
               DailyStatus.changed_after == ReportState.SUBMITTED.value,
               DailyStatus.student_id.in_(select(Student.id).where(caseload_filter(counsellor))))
        .values(changed_after=None)
        .execution_options(synchronize_session=False)
    )


def review_report(
    report: DailyReport, by: User, now: datetime, *, approve: bool, comment: str = "",
    ask_unconfirmed: bool = False, ip: str = "",
) -> DailyReport:
    """Approve (locking it) or return a submitted report, with a comment; an approval keeps
    how many of the counsellor's students were still unconfirmed.

    With ``ask_unconfirmed`` an approval is refused while students are unconfirmed, so the
    deputy secretary is asked once (and approves again without it).

    :raise RuleError: "not-deputy", "not-submitted" (returned or approved already),
        "comment-required" (comment) to return without a comment, "approve-unconfirmed"
        (``num``).
    """
    from caretrack.services.daily.sign_off import locks_reports

    if not can_sign_off_reports(by) or not same_college(by, report.counsellor):
        raise RuleError("not-deputy")
    if locks_reports(by.college, report.day):
        raise RuleError("sign-off-locked")
    if report.state != ReportState.SUBMITTED:
        raise RuleError("not-submitted")
    comment = (comment or "").strip()[:2000]
    if not approve and not comment:
        raise RuleError("comment-required", "comment")
    if approve:
        unconfirmed = caseload_totals(report.counsellor, report.day).missing
        if ask_unconfirmed and unconfirmed:
            raise RuleError("approve-unconfirmed", num=unconfirmed)
        report.approved_unconfirmed = unconfirmed
    report.state = ReportState.APPROVED if approve else ReportState.RETURNED
    report.reviewed_by_id = by.id
    report.reviewed_at = now
    report.review_comment = comment
    db.session.flush()
    action = "daily_report.approve" if approve else "daily_report.return"
    record_event(action, by, detail=f"report:{report.id}", now=now, ip=ip)
    return report


def approve_listed(
    listed: dict[int, int], day: date, by: User, now: datetime, *, ip: str = "",
) -> list[DailyReport]:
    """Approve, each on its own (its own audit event), the submitted reports of ``day`` that
    the deputy secretary was shown: ``listed`` maps a report's id to the version shown.

    :raise RuleError: "not-deputy"; "approve-all-changed" when a listed report was returned,
        resubmitted or approved meanwhile, or one was submitted since (nothing is approved then:
        the list is shown again).
    """
    if not can_sign_off_reports(by):
        raise RuleError("not-deputy")
    submitted = db.session.scalars(select(DailyReport).where(
        DailyReport.day == day, DailyReport.state == ReportState.SUBMITTED,
        DailyReport.counsellor_id.in_(select(User.id).where(reporting_counsellors(by))),
    ).order_by(DailyReport.id)).all()
    if not listed or {r.id: r.version_id for r in submitted} != listed:
        raise RuleError("approve-all-changed", conflict=True)
    return [review_report(report, by, now, approve=True, ip=ip) for report in submitted]


# -- the board ----------------------------------------------------------------------------------


@dataclass
class BoardRow:
    counsellor: User
    report: DailyReport | None
    totals: Totals

    @property
    def status(self) -> str:
        return report_status(self.report)


@dataclass
class Board:
    day: date
    deadline: datetime
    past_deadline: bool
    rows: list[BoardRow]
    totals: Totals

    @property
    def ready(self) -> bool:
        """Whether every counsellor's report of the day is approved."""
        return bool(self.rows) and all(r.status == ReportState.APPROVED for r in self.rows)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def submitted(self) -> list[BoardRow]:
        """The rows whose report waits for the sign-off."""
        return [r for r in self.rows if r.status == ReportState.SUBMITTED]


def board(day: date, now: datetime, college) -> Board:
    """Return each counsellor's report and totals for ``day`` (the kept numbers: one row per
    counsellor; a past day's numbers kept by a purge of its statuses, once they were purged),
    and the college's (``college``: a college, its id, or an account's; the counsellors of
    that college only; 3 queries, and one for a past day)."""
    from caretrack.services.retention import kept_day_totals

    kept = kept_day_totals(day, college) if day < local_today(now) else None
    per_counsellor = kept if kept is not None else tallies.day_totals(day)
    reports = {
        r.counsellor_id: r
        for r in db.session.scalars(select(DailyReport).where(DailyReport.day == day)
                                    .options(joinedload(DailyReport.submitted_by)))
    }
    ids = set(per_counsellor) | set(reports)
    counsellors = db.session.scalars(
        select(User).where(User.id.in_(ids), reporting_counsellors(college))
        .order_by(User.username)
    ).all() if ids else []
    totals = Totals()
    rows = []
    for counsellor in counsellors:
        mine = per_counsellor.get(counsellor.id, Totals())
        totals.add(mine)
        rows.append(BoardRow(counsellor, reports.get(counsellor.id), mine))
    return Board(day=day, deadline=deadline(day), past_deadline=is_past_deadline(day, now),
                 rows=rows, totals=totals)


# -- the landing page's card -----------------------------------------------------------------


@dataclass
class LandingSummary:
    """Today's report at a glance, for the landing page of a counsellor or the deputy."""

    kind: str
    day: date
    deadline: datetime
    past_deadline: bool
    status: str = MISSING
    report: DailyReport | None = None
    totals: Totals | None = None
    #: Deputy secretary: how many reports are in each state.
    counts: dict[str, int] = field(default_factory=dict)
    expected: int = 0

    @property
    def for_caseload(self) -> bool:
        """Whether the card is a counsellor's (their own report), not the deputy's board."""
        return self.kind == "counsellor"

    @property
    def needs_action(self) -> bool:
        """Whether the counsellor still has to submit (or correct and resubmit) the report."""
        return self.status in (MISSING, ReportState.RETURNED)


def landing_summary(user: User, now: datetime) -> LandingSummary | None:
    """Return today's report card data for a counsellor or the deputy secretary, else None."""
    day = local_today(now)
    if files_daily_report(user):
        report = get_report(user.id, day)
        return LandingSummary(
            kind="counsellor", day=day, deadline=deadline(day),
            past_deadline=is_past_deadline(day, now), status=report_status(report),
            report=report, totals=caseload_totals(user, day),
        )
    if can_sign_off_reports(user):
        result = board(day, now, user)
        counts = {s: result.count(s) for s in (MISSING, *[x.value for x in ReportState])}
        return LandingSummary(
            kind="deputy", day=day, deadline=result.deadline, past_deadline=result.past_deadline,
            totals=result.totals, counts=counts, expected=len(result.rows),
        )
    return None
