"""The college dashboard (the deputy secretary's; a counsellor's covers their caseload) and
the lists behind its activity numbers. Routes on the main blueprint."""

from datetime import date

from flask import abort, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from caretrack.access import has_dashboard, requires, student_filter
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.main import bp
from caretrack.models import CategoryAssignment, EntryKind, TimelineEntry, now_utc
from caretrack.services import dashboard as numbers
from caretrack.services.clock import local_today
from caretrack.services.notices import open_coverage
from caretrack.services.return_requests import counts_by_state_and_reason
from caretrack.templating import category_name, local_date
from caretrack.work.views import landing_jobs

ACTIVITY_KINDS = ("follow_up", "delivery", "new_category")


AGE_LABELS = {
    "lt1": _l("Less than a day"),
    "1to3": _l("1 to 3 days"),
    "3to7": _l("3 to 7 days"),
    "ge7": _l("A week or more"),
}


def chart_data(board: numbers.Dashboard) -> dict:
    """The dashboard's numbers with their labels, for the charts."""
    act = board.activity
    return {
        "category": {
            "labels": [category_name(c) for c, _ in board.by_category],
            "values": [n for _, n in board.by_category],
            "colours": [c.colour for c, _ in board.by_category],
        },
        "programme": {
            "labels": [label("programme", p) for p, _ in board.by_programme],
            "values": [n for _, n in board.by_programme],
        },
        "concern": {
            "labels": [label("concern", c) for c, _ in board.by_concern],
            "values": [n for _, n in board.by_concern],
        },
        "activity": {
            "labels": [
                gettext("%(day)s (today so far)", day=local_date(d, "MM-dd"))
                if act.is_partial(d) else local_date(d, "MM-dd") for d in act.days
            ],
            #: The index of the day still under way, drawn apart (dashed, hollow point).
            "partialIndex": next((i for i, d in enumerate(act.days) if act.is_partial(d)), None),
            "series": [
                {"label": gettext("Follow-ups"), "values": act.follow_ups},
                {"label": gettext("Supply deliveries"), "values": act.deliveries},
                {"label": gettext("New care categories"), "values": act.new_categories},
            ],
        },
        "overdue": {
            "labels": [u.display_name for u, _ in board.overdue_by_counsellor],
            "values": [n for _, n in board.overdue_by_counsellor],
        },
        "referrals": {
            "labels": [str(AGE_LABELS[key]) for key, _ in board.referrals_by_age],
            "values": [n for _, n in board.referrals_by_age],
        },
        "studentsLabel": gettext("Students"),
    }


def render_dashboard(daily_summary=None, retention_warning=None):
    """The dashboard page of the signed-in user (with the daily report card on the deputy
    secretary's landing page); the caller checks :func:`has_dashboard`."""
    board = numbers.build(current_user, now_utc())
    return render_template(
        "main/dashboard.html", board=board, chart_data=chart_data(board), age_labels=AGE_LABELS,
        daily_summary=daily_summary, retention_warning=retention_warning,
        open_notices=open_coverage(current_user),
        return_counts=counts_by_state_and_reason(student_filter(current_user)),
        recent_jobs=landing_jobs(current_user) if daily_summary is not None else [],
    )


@bp.get("/dashboard")
@requires(has_dashboard)
def dashboard():
    return render_dashboard()


@bp.get("/dashboard/activity/<kind>")
@requires(has_dashboard)
def activity(kind: str):
    """The entries behind one activity number: one kind, one day."""
    if kind not in ACTIVITY_KINDS:
        abort(404)
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = local_today(now_utc())
    if kind == "new_category":
        query = numbers.new_assignments_query(current_user, day).options(
            joinedload(CategoryAssignment.student), joinedload(CategoryAssignment.set_by)
        )
    else:
        query = numbers.entries_query(current_user, EntryKind(kind), day).options(
            joinedload(TimelineEntry.student)
        )
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("main/activity.html", page=page, kind=kind, day=day)
