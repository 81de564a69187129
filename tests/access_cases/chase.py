"""The chase list: the counsellor's own unconfirmed students only."""

from tests.access_cases import Case, seen_and_unseen

COUNSELLOR = {"counsellor"}

CASES = {
    "reports.chase": Case("/reports/daily/chase", COUNSELLOR, shows=seen_and_unseen),
    "reports.chase_export": Case("/reports/daily/chase/export.xlsx", COUNSELLOR,
                                 shows=seen_and_unseen),
    "reports.chase_contact": Case("/reports/daily/chase/{student}", COUNSELLOR, method="POST",
                                  data={"channel": "phone", "outcome": "not_reached"},
                                  ok=(302,), writes="timeline_entries"),
    # Nothing selected: refused with a message. Posting another caseload's student is a 404
    # that writes nothing (tests/test_chase.py).
    "reports.chase_confirm": Case("/reports/daily/chase/confirm", COUNSELLOR, method="POST",
                                  data={"channel": "phone"}, ok=(302,)),
}
