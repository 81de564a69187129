"""The retention policy (the deputy and the college's admin record it, the secretary reads
it) and who looked at a student, with the export of the whole record (the deputy's and the
secretary's)."""

from tests.access_cases import Case

CASES = {
    "retention.policy": Case("/retention/", {"deputy", "admin", "secretary"}),
    "retention.save": Case("/retention/", {"deputy", "admin"}, method="POST", ok=(302,),
                           data={"emergency_ended_on": "2020-03-31", "retention_days": "90",
                                 "days_statuses": "30"},
                           writes="retention_policies"),
    "students.access_log": Case("/students/{student}/access-log", {"deputy", "secretary"}),
    "students.record_export": Case("/students/{student}/record.xlsx", {"deputy", "secretary"}),
}
