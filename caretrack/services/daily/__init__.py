"""Daily status and daily reports.

A student's status for day D is their latest status on or before D (their roster location and
"normal" health when they have none). A status is *confirmed* for D when it was recorded on D;
the students without one are the day's non-responders. A *change* is a status recorded on D
that differs from the status of D - 1 in location or health.

One job per module: :mod:`.values` (places, health, the status and the counts),
:mod:`.carried` (the carry-forward in SQL), :mod:`.statuses` (recording statuses),
:mod:`.sheet` (the check-in sheet), :mod:`.reports` (reports, sign-off, the board, the landing
card) and :mod:`.college` (the college's report).

The names other areas use (the landing page, the demo and its tests) are re-exported here.
"""

from caretrack.services.daily.carried import caseload_totals
from caretrack.services.daily.reports import (
    board,
    get_report,
    landing_summary,
    review_report,
    submit_report,
)
from caretrack.services.daily.statuses import StatusInput, apply_statuses
from caretrack.services.daily.values import StatusValues

__all__ = [
    "StatusInput",
    "StatusValues",
    "apply_statuses",
    "board",
    "caseload_totals",
    "get_report",
    "landing_summary",
    "review_report",
    "submit_report",
]
