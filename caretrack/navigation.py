"""The navigation bar: which pages each role reaches from every page."""

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from caretrack.models import Role


@dataclass
class NavItem:
    label: str
    url: str
    prefix: str
    badge: int = 0


#: (endpoint, label, roles). Items whose endpoint is not registered are left out.
NAV = [
    ("main.index", _l("Today"), {Role.COUNSELLOR, Role.DEPUTY_SECRETARY}),
    ("main.dashboard", _l("Dashboard"), {Role.COUNSELLOR}),
    ("students.index", _l("Students"), {Role.COUNSELLOR, Role.DEPUTY_SECRETARY, Role.SUPERVISOR}),
    ("rechecks.index", _l("Re-checks"), {Role.COUNSELLOR, Role.DEPUTY_SECRETARY}),
    ("referrals.index", _l("Referrals"), {Role.COUNSELLOR, Role.DEPUTY_SECRETARY, Role.SUPERVISOR}),
    ("review.index", _l("Review queue"), {Role.DEPUTY_SECRETARY}),
    ("reports.daily", _l("Daily report"), {Role.COUNSELLOR}),
    ("reports.board", _l("Daily reports"), {Role.DEPUTY_SECRETARY}),
    ("admin.users", _l("Accounts"), {Role.ADMIN}),
    ("admin.roster", _l("Roster"), {Role.ADMIN}),
    ("admin.categories", _l("Care categories"), {Role.ADMIN}),
    ("admin.audit", _l("Audit log"), {Role.ADMIN}),
]


def _notification_badges(user) -> dict[str, int]:
    from caretrack.services.notifications import unseen_counts

    return unseen_counts(user)


#: Callables (user -> {endpoint: count}) that give the navigation's badges.
BADGE_PROVIDERS: list = [_notification_badges]


def nav_items() -> list[NavItem]:
    """Return the navigation of the signed-in user."""
    if not current_user.is_authenticated:
        return []
    badges: dict[str, int] = {}
    for provider in BADGE_PROVIDERS:
        for endpoint, count in provider(current_user).items():
            badges[endpoint] = badges.get(endpoint, 0) + count
    items = []
    for endpoint, label, roles in NAV:
        if current_user.role in roles and endpoint in current_app.view_functions:
            prefix = endpoint if endpoint.startswith("main.") else endpoint.split(".")[0] + "."
            items.append(NavItem(str(label), url_for(endpoint), prefix, badges.get(endpoint, 0)))
    return items
