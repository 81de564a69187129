"""The navigation bar: which pages each user reaches from every page, with their badges."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from caretrack.access import (
    can_manage_roster,
    can_read_cases,
    files_daily_report,
    handles_return_requests,
    has_dashboard,
    keeps_caseload,
    manages_accounts,
    manages_colleges,
    reads_college_board,
    reads_review_queue,
    reads_university_reports,
    records_absences,
    sees_retention,
    takes_part_in_sign_off,
    works_rechecks,
    writes_notices,
)
from caretrack.models import User, now_utc
from caretrack.services.notifications import unseen_counts
from caretrack.services.rechecks import overdue_count


@dataclass
class NavItem:
    label: str
    url: str
    prefix: str
    badge: int = 0


#: (endpoint, label, who sees it). Items whose endpoint is not registered are left out.
NAV: list[tuple[str, object, Callable[[User], bool]]] = [
    ("main.index", _l("Today"), has_dashboard),
    ("main.dashboard", _l("Dashboard"), keeps_caseload),
    ("students.index", _l("Students"), can_read_cases),
    ("rechecks.index", _l("Re-checks"), works_rechecks),
    ("referrals.index", _l("Referrals"), can_read_cases),
    ("notices.index", _l("Notices"), writes_notices),
    ("returns.index", _l("Early returns"), handles_return_requests),
    ("review.index", _l("Review queue"), reads_review_queue),
    ("reports.daily", _l("Daily report"), files_daily_report),
    ("reports.board", _l("Daily reports"), reads_college_board),
    ("reports.sign_off_page", _l("Daily sign-off"), takes_part_in_sign_off),
    ("absences.index", _l("Absences"), records_absences),
    ("colleges.index", _l("Colleges"), manages_colleges),
    ("office.board", _l("The colleges' reports"), reads_university_reports),
    ("admin.users", _l("Accounts"), manages_accounts),
    ("admin.roster", _l("Roster"), can_manage_roster),
    ("admin.categories", _l("Care categories"), can_manage_roster),
    ("admin.status_rules", _l("Status rules"), can_manage_roster),
    ("admin.audit", _l("Audit log"), can_manage_roster),
    ("retention.policy", _l("Retention"), sees_retention),
]


def badges(user: User, now: datetime) -> dict[str, int]:
    """Return the count on each navigation endpoint: the user's unseen notifications, and a
    counsellor's overdue re-checks."""
    counts = unseen_counts(user)
    if keeps_caseload(user):
        counts["rechecks.index"] = counts.get("rechecks.index", 0) + overdue_count(user, now)
    return counts


def nav_items() -> list[NavItem]:
    """Return the navigation of the signed-in user."""
    if not current_user.is_authenticated:
        return []
    counts = badges(current_user, now_utc())
    items = []
    for endpoint, label, shown_to in NAV:
        if shown_to(current_user):
            prefix = endpoint if endpoint.startswith("main.") else endpoint.split(".")[0] + "."
            items.append(NavItem(str(label), url_for(endpoint), prefix, counts.get(endpoint, 0)))
    return items
