"""Bulk actions and the transfer page. The bulk page itself is answered by action: a posted
selection without a student to act on goes back to its list; a student the user may not touch
is never acted on (tests/test_bulk.py)."""

from tests.access_cases import CASE_READERS, Case

CASES = {
    # An export of nothing ticked: every case reader goes back to the list; the admin, who
    # reads no case, has no such action (404).
    "bulk.start": Case("/bulk/", CASE_READERS, method="POST", ok=(302,),
                       data={"source": "students", "action": "export"}),
    "bulk.transfer": Case("/bulk/transfer?class_name=x", {"deputy", "admin"}),
}
