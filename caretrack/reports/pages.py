"""What the daily report's pages share: the clock, the day and list asked for, the way back,
a page of students with their statuses, refusals as flashes, and the badges' styles."""

from datetime import date, datetime, timedelta

from flask import current_app, flash, g, request, url_for

from caretrack.auth.services import is_safe_next
from caretrack.extensions import db
from caretrack.labels import HEALTH
from caretrack.messages import message
from caretrack.models import Health, ReportState, StatusSource, now_utc
from caretrack.reports import bp
from caretrack.services.daily.carried import SHOW_CHOICES, statuses_for, students_query
from caretrack.services.daily.values import Totals
from caretrack.services.errors import RuleError

#: The badge of each report state (the landing card, the daily page, the board).
REPORT_STATE_STYLES = {
    ReportState.SUBMITTED: "text-bg-primary",
    ReportState.RETURNED: "text-bg-warning",
    ReportState.APPROVED: "text-bg-success",
}
#: The badge of each health state.
HEALTH_STYLES = {
    Health.NORMAL: "bg-success-subtle text-success-emphasis",
    Health.FEVER: "text-bg-danger",
    Health.SYMPTOMS: "text-bg-warning",
    Health.SUSPECTED: "text-bg-danger",
    Health.CONFIRMED: "text-bg-dark",
    Health.ISOLATED_HOME: "bg-info-subtle text-info-emphasis",
    Health.ISOLATED_CENTRE: "text-bg-info",
}
#: Refusals that mean "someone acted meanwhile": a warning, not an error.
MEANWHILE = ("recorded-meanwhile", "already-submitted", "not-ready")


def current_time() -> datetime:
    """The pages' clock (tests pin ``now_utc`` here)."""
    return now_utc()


@bp.record_once
def add_template_globals(state) -> None:
    """Give every template (the landing card too, and macros imported without context) the
    enums and styles of the report badges."""
    state.app.jinja_env.globals.update(
        ReportState=ReportState, StatusSource=StatusSource,
        report_state_styles=REPORT_STATE_STYLES, health_styles=HEALTH_STYLES,
    )


@bp.context_processor
def reports_globals():
    return {
        "one_day": timedelta(days=1),
        "health_values": [h.value for h in Health],
        "health_options": _health_options,
    }


def _health_options() -> list[tuple[str, str]]:
    """(value, label) of each health state, translated once per page."""
    options = getattr(g, "health_options", None)
    if options is None:
        options = g.health_options = [(h.value, str(HEALTH[h])) for h in Health]
    return options


def day_named(value: str | None, today: date) -> date:
    """The day named by ``value`` (YYYY-MM-DD); today when absent, invalid or in the future."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return today
    return min(day, today)


def day_asked(today: date) -> date:
    """The day of ``?date=`` (see :func:`day_named`)."""
    return day_named(request.args.get("date"), today)


def show_asked(totals: Totals) -> str:
    """The list ``?show=`` asks for; by default the non-responders while there are some."""
    show = request.args.get("show", "")
    if show in SHOW_CHOICES:
        return show
    return "missing" if totals.missing else "changes"


def back_to(default: str) -> str:
    """The page to return to: the form's or the query's ``next`` when it is on this site."""
    target = request.form.get("next") or request.args.get("next") or ""
    return target if is_safe_next(target) else default


def daily_url(day: date, today: date, **args) -> str:
    if day != today:
        args["date"] = day.isoformat()
    return url_for("reports.daily", **args)


def student_page(condition, day: date, show: str):
    """Return a page of the students matching ``condition`` and their statuses of ``day``."""
    per_page = current_app.config["STUDENTS_PER_PAGE"]
    page = db.paginate(students_query(condition, day, show), per_page=per_page,
                       max_per_page=per_page, error_out=False)
    return page, statuses_for([s.id for s in page.items], day)


def flash_refusal(error: RuleError) -> None:
    """Flash a rule's refusal of an action that has no form to show it beside."""
    flash(message(error.code, **error.values),
          "warning" if error.code in MEANWHILE else "danger")
