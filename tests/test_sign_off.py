"""The college's staged sign-off: every allowed and refused step, a return re-opens the stage
before, a stale step is a 409, each stage signs what the one before passed on."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from caretrack.access import can_sign_off_reports, takes_part_in_sign_off
from caretrack.extensions import db
from caretrack.models import (
    DEFAULT_STAGES,
    AuditEvent,
    CollegeSignOff,
    Notification,
    SignOffStep,
    Stage,
)
from caretrack.services import mail
from caretrack.services.clock import local_datetime
from caretrack.services.daily import reports, sign_off, statuses
from caretrack.services.errors import RuleError
from tests import factories
from tests.helpers import text_of

DAY = date(2020, 3, 3)


def at(hour: int, minute: int = 0) -> datetime:
    return local_datetime(DAY, time(hour, minute)).astimezone(UTC)


@pytest.fixture
def chain(college):
    """A college with the account's four stages: two counsellors with a student each (one
    confirmed, one not), the league secretary, the deputy and the secretary."""

    class Chain:
        pass

    c = Chain()
    c.college = factories.CollegeFactory(code="sem", name_zh="经管学院", stages=DEFAULT_STAGES)
    c.counsellors = [factories.CounsellorFactory(college=c.college) for _ in range(2)]
    c.students = [factories.StudentFactory(counsellor=x, name=f"学生{i}")
                  for i, x in enumerate(c.counsellors)]
    c.league = factories.LeagueSecretaryFactory(college=c.college, display_name="团委书记")
    c.deputy = factories.DeputyFactory(college=c.college, display_name="副书记")
    c.secretary = factories.SecretaryFactory(college=c.college, display_name="书记")
    db.session.flush()
    statuses.confirm_unchanged(c.students[0], c.counsellors[0], at(9))
    for counsellor in c.counsellors:
        reports.submit_report(counsellor, DAY, at(10, 30))
    db.session.commit()
    return c


def approve_reports(c, by, now=None):
    for report in db.session.scalars(select(reports.DailyReport)):
        reports.review_report(report, by, now or at(11, 10), approve=True)
    db.session.commit()


def refused(code, call):
    with pytest.raises(RuleError) as error:
        call()
    assert error.value.code == code
    db.session.rollback()
    return error.value


def version(c) -> int:
    found = sign_off.get_sign_off(c.college, DAY)
    return found.version_id if found else 0


def test_the_stage_after_the_reports_approves_them(chain, college):
    c = chain
    assert can_sign_off_reports(c.league) and not can_sign_off_reports(c.deputy)
    assert not can_sign_off_reports(c.secretary)
    # A college without the merge stage: the deputy approves them, as before.
    assert can_sign_off_reports(college.deputy)
    assert all(takes_part_in_sign_off(u) for u in (c.league, c.deputy, c.secretary))
    assert not takes_part_in_sign_off(c.counsellors[0])
    refused("not-deputy", lambda: reports.review_report(
        db.session.scalars(select(reports.DailyReport)).first(), c.deputy, at(11), approve=True))


def test_the_whole_chain_with_a_return(chain, app):
    c = chain
    app.config["UNIVERSITY_OFFICE_RECIPIENTS"] = ["office@example.edu.cn"]
    mail.outbox.clear()
    # Nothing is passed on before every counsellor's report is approved.
    refused("not-ready", lambda: sign_off.pass_on(c.league, DAY, at(11), version=0))
    approve_reports(c, c.league)
    # Only the stage whose turn it is acts.
    for user in (c.deputy, c.secretary, c.counsellors[0]):
        refused("sign-off-not-your-stage", lambda u=user: sign_off.pass_on(u, DAY, at(11),
                                                                          version=0))
    refused("sign-off-first-stage", lambda: sign_off.return_to_previous(
        c.league, DAY, at(11), version=0, comment="x"))
    sign_off.pass_on(c.league, DAY, at(11, 20), version=0)
    db.session.commit()
    # Passed on: the merge is locked, the counsellors' reports too.
    refused("sign-off-not-your-stage", lambda: sign_off.pass_on(c.league, DAY, at(11, 21),
                                                                version=version(c)))
    assert sign_off.locks_reports(c.college, DAY)
    snapshot = sign_off.chain(c.college, DAY, at(11, 30)).snapshot
    assert snapshot["totals"]["students"] == 2 and snapshot["totals"]["unconfirmed"] == 1
    assert [s["name"] for s in snapshot["unconfirmed"]] == ["学生1"]
    assert db.session.scalar(select(Notification.user_id).where(
        Notification.kind == "sign_off.turn")) == c.deputy.id

    # The deputy returns it, with a comment: the merge is open again and told.
    refused("comment-required", lambda: sign_off.return_to_previous(
        c.deputy, DAY, at(11, 40), version=version(c), comment=" "))
    sign_off.return_to_previous(c.deputy, DAY, at(11, 40), version=version(c),
                                comment="请核对未确认的学生")
    db.session.commit()
    now = sign_off.chain(c.college, DAY, at(11, 41))
    assert now.current == Stage.MERGE and now.returned().comment == "请核对未确认的学生"
    assert [s.state for s in now.stages] == ["open", "waiting", "waiting"]
    assert now.stages[0].late  # re-opened after its 11:30 deadline
    assert c.league.id in set(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "sign_off.returned")))
    assert not sign_off.locks_reports(c.college, DAY)

    # Passed on again (late), checked in time, approved late: sent to the office at once.
    sign_off.pass_on(c.league, DAY, at(11, 45), version=version(c))
    sign_off.pass_on(c.deputy, DAY, at(11, 55), version=version(c), comment="已核对")
    db.session.commit()
    passed_to_secretary = sign_off.chain(c.college, DAY, at(12)).snapshot
    assert passed_to_secretary == snapshot  # exactly what the merge passed on
    sign_off.pass_on(c.secretary, DAY, at(13, 5), version=version(c))
    db.session.commit()
    done = sign_off.chain(c.college, DAY, at(13, 6))
    assert done.done and done.sign_off.sent_at == at(13, 5)
    assert [(s.stage, s.passed.late) for s in done.stages] == [
        ("merge", True), ("check", False), ("approve", True)]
    steps = db.session.scalars(select(SignOffStep).order_by(SignOffStep.id)).all()
    assert [(s.stage, s.action) for s in steps] == [
        ("merge", "pass"), ("check", "return"), ("merge", "pass"), ("check", "pass"),
        ("approve", "pass")]
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("sign_off.%")).order_by(AuditEvent.id)).all()
    assert actions == ["sign_off.pass", "sign_off.return", "sign_off.pass", "sign_off.pass",
                       "sign_off.pass"]
    assert [m["To"] for m in mail.outbox] == ["office@example.edu.cn"]
    assert "经管学院" in mail.outbox[0]["Subject"]
    # Done: nobody steps again.
    for user in (c.league, c.deputy, c.secretary):
        refused("sign-off-not-your-stage", lambda u=user: sign_off.pass_on(
            u, DAY, at(14), version=version(c)))


def test_a_college_without_the_merge_stage(college):
    c = college
    reports.submit_report(c.counsellor, DAY, at(10))
    reports.submit_report(c.other_counsellor, DAY, at(10))
    for report in db.session.scalars(select(reports.DailyReport)):
        reports.review_report(report, c.deputy, at(11), approve=True)
    secretary = factories.SecretaryFactory(college=c.counsellor.college)
    db.session.commit()
    sign_off.pass_on(c.deputy, DAY, at(11, 50), version=0)
    sign_off.pass_on(secretary, DAY, at(12, 30), version=version_of(c))
    db.session.commit()
    assert sign_off.chain(c.counsellor.college, DAY, at(13)).done


def version_of(c) -> int:
    return db.session.scalar(select(CollegeSignOff.version_id))


def test_a_stale_step_is_a_409_and_the_page_shows_the_chain(chain, client, auth, monkeypatch):
    c = chain
    monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: at(11, 50))
    approve_reports(c, c.league)
    auth.login(c.league)
    page = client.get(f"/reports/sign-off/?date={DAY.isoformat()}")
    assert page.status_code == 200 and "data-pass" in page.get_data(as_text=True)
    form = {"day": DAY.isoformat(), "version": "0"}
    assert client.post("/reports/sign-off/pass", data=form).status_code == 302
    # The same form again (two people, or an old page): 409, nothing written.
    assert client.post("/reports/sign-off/pass", data=form).status_code == 409
    assert db.session.scalar(select(CollegeSignOff.stage)) == "check"
    assert len(db.session.scalars(select(SignOffStep)).all()) == 1
    auth.logout()
    auth.login(c.deputy)
    body = text_of(client.get(f"/reports/sign-off/?date={DAY.isoformat()}"))
    assert "学生1" in body and "团委书记" in body  # the unconfirmed student, who passed it on
    stale = {"day": DAY.isoformat(), "version": "0", "comment": "退回"}
    assert client.post("/reports/sign-off/return", data=stale).status_code == 409
    assert db.session.scalar(select(CollegeSignOff.stage)) == "check"


def test_the_league_secretary_reads_the_reports_but_no_timeline(chain, client, auth,
                                                                 monkeypatch):
    c = chain
    monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: at(11, 5))
    auth.login(c.league)
    # Their landing is the board: they keep no caseload of their own.
    landing = client.get("/", follow_redirects=True)
    assert landing.request.path == "/reports/board/"
    assert c.counsellors[0].display_name in text_of(landing)
    board = text_of(client.get(f"/reports/board/?date={DAY.isoformat()}"))
    assert c.counsellors[0].display_name in board
    missing = client.get(f"/reports/board/students?date={DAY.isoformat()}&what=missing")
    assert "学生1" in text_of(missing) and "/students/" not in missing.get_data(as_text=True)
    day = client.get(f"/reports/board/counsellors/{c.counsellors[1].id}/?date={DAY.isoformat()}")
    assert "学生1" in text_of(day) and f"/students/{c.students[1].id}" not in day.get_data(
        as_text=True)
    for path in (f"/students/{c.students[0].id}", "/students/", "/dashboard", "/review/"):
        assert client.get(path).status_code == 404, path
    report = db.session.scalars(select(reports.DailyReport).where(
        reports.DailyReport.counsellor_id == c.counsellors[0].id)).one()
    assert client.post(f"/reports/{report.id}/approve", data={"confirm": "1"}).status_code == 302
    assert db.session.get(reports.DailyReport, report.id).state == "approved"
    # The deputy of a college with the merge stage no longer signs the counsellors' reports:
    # they read the board (as the secretary does), without its approve and return buttons.
    auth.logout()
    auth.login(c.deputy)
    board = client.get(f"/reports/board/?date={DAY.isoformat()}").get_data(as_text=True)
    assert c.counsellors[0].display_name in board and "/approve" not in board
    other = db.session.scalars(select(reports.DailyReport).where(
        reports.DailyReport.counsellor_id == c.counsellors[1].id)).first()
    if other is not None:
        assert client.post(f"/reports/{other.id}/approve",
                           data={"confirm": "1"}).status_code == 404
    assert client.get("/reports/sign-off/").status_code == 200
