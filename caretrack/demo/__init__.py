"""The demo's colleges – the account's (经管学院) and two smaller ones – built through the
same services that the pages use.

``seed_demo`` builds the colleges (``college.py``), then lets each area add its season of
history to each college, in order: the timeline (``history.py``), re-checks
(``rechecks.py``), the daily reports and their sign-off (``daily.py``), the students' own
check-ins (``checkin.py``), the notices (``notices.py``). Everything is reproducible: one
random seed, and "today" passed in.
"""

import importlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from caretrack.demo.college import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    SEED,
    DemoRefused,
    DemoSummary,
    build_colleges,
)
from caretrack.extensions import db
from caretrack.models import Notification
from caretrack.services.clock import local_today
from caretrack.services.daily import tallies

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "DemoRefused", "DemoSummary", "seed_demo"]

#: Modules of caretrack.demo whose ``seed(ctx)`` adds history after the college is built.
HISTORY_STAGES = ("history", "rechecks", "daily", "checkin", "notices")


@dataclass
class DemoContext:
    """What the stages of the demo share."""

    rng: random.Random
    today: date
    now: datetime
    #: The account's college (the first of ``colleges``).
    college: object = None
    colleges: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def seed_demo(today: date | None = None, now: datetime | None = None) -> DemoSummary:
    """Load the demo's colleges and their history into an empty database.

    :raise DemoRefused: if the database already has students or users.
    """
    now = now or datetime.now(UTC)
    # The college's own today: in the evening UTC it is already tomorrow in Beijing.
    ctx = DemoContext(rng=random.Random(SEED), today=today or local_today(now), now=now)
    summary = build_colleges(ctx)
    for stage in HISTORY_STAGES:
        try:
            module = importlib.import_module(f"caretrack.demo.{stage}")
        except ModuleNotFoundError:
            continue
        module.seed(ctx)
    # The counsellors and supervisors kept up with the season: only the last two days' news
    # is still unseen.
    recent = ctx.now - timedelta(days=2)
    db.session.execute(
        update(Notification)
        .where(Notification.created_at < recent, Notification.seen_at.is_(None))
        .values(seen_at=recent)
    )
    db.session.flush()
    # The day's numbers kept from the start (the history went partly around the services).
    tallies.rebuild(ctx.today)
    return summary
