from datetime import UTC, datetime

from caretrack.extensions import db
from caretrack.models import DailyReport
from tests.access_cases import Case, counsellor_sees_own, seen_and_unseen

COUNSELLOR = {"counsellor"}
#: The stages of the world's college after the counsellors' (it has no merge stage).
SIGNERS = {"deputy", "secretary"}
DEPUTY = {"deputy"}
#: Who reads the board: the deputy who signs it off, and the secretary (the deputy's view).
BOARD_READERS = {"deputy", "secretary"}


def report_args(world, role):
    """A submitted report of the counsellor's, and another college's counsellor's."""
    report, foreign = (
        DailyReport(counsellor_id=counsellor.id, day=datetime.now(UTC).date(),
                    submitted_at=datetime.now(UTC))
        for counsellor in (world.college.counsellor, world.college.foreign_counsellor))
    db.session.add_all([report, foreign])
    db.session.commit()
    return {"report": report.id}, {"report": foreign.id}


def counsellor_args(world, role):
    """A counsellor's day for the board, and a user who is no counsellor (404)."""
    return ({"counsellor": world.college.counsellor.id},
            {"counsellor": world.college.supervisor.id})


CASES = {
    "reports.sign_off_page": Case("/reports/sign-off/", SIGNERS),
    "reports.sign_off_pass": Case("/reports/sign-off/pass", SIGNERS, method="POST", ok=(302,),
                                  data={"day": "2020-03-03", "version": "0"}),
    "reports.sign_off_return": Case("/reports/sign-off/return", SIGNERS, method="POST",
                                    ok=(302,), data={"day": "2020-03-03", "version": "0",
                                                     "comment": "请核对"}),
    "reports.daily": Case("/reports/daily/", COUNSELLOR, shows=seen_and_unseen),
    "reports.record_status": Case("/reports/daily/students/{student}/status", COUNSELLOR),
    "reports.confirm_status": Case("/reports/daily/students/{student}/confirm", COUNSELLOR,
                                   method="POST", ok=(302,), writes="daily_statuses"),
    "reports.upload": Case("/reports/daily/upload", COUNSELLOR),
    "reports.apply_upload": Case("/reports/daily/upload/confirm", COUNSELLOR, method="POST",
                                 data={"token": "not-a-token"}, ok=(302,)),
    "reports.checkin_sheet": Case("/reports/daily/check-in-sheet.xlsx", COUNSELLOR,
                                  shows=seen_and_unseen),
    "reports.submit": Case("/reports/daily/submit", COUNSELLOR, method="POST",
                           data={"day": "2020-03-03", "confirm": "1"}, ok=(302,),
                           writes="daily_reports"),
    "reports.zero_report": Case("/reports/daily/zero", COUNSELLOR, method="POST",
                                data={"day": "2020-03-03", "confirm": "1"}, ok=(302,)),
    "reports.board": Case("/reports/board/", BOARD_READERS),
    "reports.board_students": Case("/reports/board/students?what=students", BOARD_READERS,
                                   shows=counsellor_sees_own),
    "reports.counsellor_day": Case("/reports/board/counsellors/{counsellor}/", BOARD_READERS,
                                   args=counsellor_args,
                                   shows=lambda world, role: ([world.college.own_student],
                                                              [world.college.other_student])),
    "reports.approve": Case("/reports/{report}/approve", DEPUTY, method="POST", ok=(302,),
                            data={"confirm": "1"},
                            args=report_args),
    "reports.return_report": Case("/reports/{report}/return", DEPUTY, method="POST",
                                  data={"comment": "请补充未回复学生的情况"}, ok=(302,),
                                  args=report_args),
    "reports.approve_all_form": Case("/reports/board/approve-all", DEPUTY),
    # Nothing listed: the list changed meanwhile, so nothing is approved (409).
    "reports.approve_all": Case("/reports/board/approve-all", DEPUTY, method="POST",
                                data={"day": "2020-03-03"}, ok=(409,)),
    "reports.export_xlsx": Case("/reports/board/college-report.xlsx", BOARD_READERS,
                                ok=(200, 302)),
    "reports.export_text": Case("/reports/board/college-report.txt", BOARD_READERS,
                                ok=(200, 302)),
}
