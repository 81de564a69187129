"""Early-return requests: the student asks from the check-in page, the counsellor recommends,
the deputy decides, the counsellor records the arrival; each step allowed or refused as the
rules say."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from caretrack.access import in_college
from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    CategoryAssignment,
    EntryKind,
    Notification,
    Recheck,
    ReturnRequest,
    TimelineEntry,
)
from caretrack.services import checkin
from caretrack.services import return_requests as service
from caretrack.services.errors import RuleError
from caretrack.services.return_requests import ReturnAsk
from tests import factories

NOW = datetime.now(UTC)
#: Today in the college's timezone (the testing default).
TODAY = NOW.astimezone(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def categories(college):
    return {code: factories.CategoryFactory(code=code, cadence_days=3)
            for code in ("return_early", "isolated_on_campus")}


def ask(student, **changes):
    values = dict(reason="internship", wanted_on=TODAY + timedelta(days=7),
                  travel_from="河南 郑州", details="实习单位要求3月1日到岗")
    values.update(changes)
    return service.ask(student, ReturnAsk(**values), now=NOW)


def open_assignment(student, code):
    return db.session.scalars(select(CategoryAssignment).join(CategoryAssignment.category).where(
        CategoryAssignment.student_id == student.id, CategoryAssignment.ended_on.is_(None),
        CategoryAssignment.category.has(code=code))).one_or_none()


def personal_url(student):
    url = f"/checkin/p/{checkin.personal_token(student, NOW)}"
    db.session.commit()
    return url


def test_the_student_asks_from_the_check_in_page(client, college, categories):
    student = college.own_student
    url = personal_url(student)
    response = client.post(f"{url}/return", data={
        "return-reason": "internship", "return-wanted_on": (TODAY + timedelta(days=5)).isoformat(),
        "return-travel_from": "河南 郑州", "return-details": "实习单位要求到岗"})
    assert response.status_code == 302
    request = db.session.scalars(select(ReturnRequest)).one()
    assert (request.state, request.reason, request.travel_from) == ("pending", "internship",
                                                                    "河南 郑州")
    assignment = open_assignment(student, "return_early")
    assert assignment is not None and f"#{request.id}" in assignment.reason
    assert db.session.scalars(select(Recheck.due_on).where(
        Recheck.student_id == student.id, Recheck.origin == "return_request")).all() == [
        TODAY + timedelta(days=1)]
    assert db.session.scalars(select(Notification.kind).where(
        Notification.user_id == college.counsellor.id)).all() == ["return.new"]
    entry = db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.kind == EntryKind.RETURN_REQUEST)).one()
    assert entry.details["action"] == "asked" and entry.details["by"] == "student"
    page = client.get(url).text
    assert "待辅导员谈话" in page and "撤回我的申请" in page and "申请提前返校</summary>" not in page
    # a second request while one is open is refused
    again = client.post(f"{url}/return", data={
        "return-reason": "exam", "return-wanted_on": TODAY.isoformat(),
        "return-travel_from": "北京"})
    assert again.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(ReturnRequest)) == 1


def test_a_bad_request_names_the_field_and_keeps_what_was_typed(client, college):
    url = personal_url(college.own_student)
    response = client.post(f"{url}/return", data={
        "return-reason": "job", "return-wanted_on": (TODAY - timedelta(days=1)).isoformat(),
        "return-travel_from": "", "return-details": "面试需要"})
    assert response.status_code == 400
    assert "请选择今天或之后的日期" in response.text or "今天" in response.text
    assert "面试需要" in response.text and 'value="job" checked' in response.text
    assert db.session.scalar(select(func.count()).select_from(ReturnRequest)) == 0


def test_a_student_cannot_see_or_withdraw_another_students_request(client, college):
    theirs = ask(college.other_student, travel_from="湖北 武汉")
    db.session.commit()
    url = personal_url(college.own_student)
    assert "湖北 武汉" not in client.get(url).text
    assert client.post(f"{url}/return/{theirs.id}/withdraw").status_code == 404
    db.session.refresh(theirs)
    assert theirs.state == "pending"


def test_the_student_withdraws_and_the_category_ends(client, college, categories):
    student = college.own_student
    request = ask(student)
    db.session.commit()
    url = personal_url(student)
    assert client.post(f"{url}/return/{request.id}/withdraw").status_code == 302
    db.session.refresh(request)
    assert request.state == "withdrawn"
    assert open_assignment(student, "return_early") is None
    assert "已撤回" in client.get(url).text


def test_the_whole_way_to_the_arrival(college, categories):
    student = college.own_student
    request = ask(student)
    service.recommend(request, college.counsellor, approve=True, note="实习确有必要", now=NOW)
    assert request.state == "recommended"
    assert open_assignment(student, "return_early") is not None
    service.approve(request, college.deputy, arrival_on=TODAY, plan="到校后校内隔离14天",
                    isolation_days=14, now=NOW)
    assert request.state == "approved" and open_assignment(student, "return_early") is None
    service.record_arrival(request, college.counsellor, arrived_on=TODAY, now=NOW)
    assert request.state == "arrived" and student.on_campus
    assert open_assignment(student, "isolated_on_campus") is not None
    assert TODAY + timedelta(days=14) in db.session.scalars(select(Recheck.due_on).where(
        Recheck.student_id == student.id, Recheck.origin == "isolation")).all()
    actions = [e.details["action"] for e in db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.kind == EntryKind.RETURN_REQUEST)
        .order_by(TimelineEntry.id))]
    assert actions == ["asked", "recommended", "approved", "arrived"]
    assert {e.action for e in db.session.scalars(select(AuditEvent))} >= {
        "return.asked", "return.recommended", "return.approved", "return.arrived"}


def _recommended(college):
    request = ask(college.own_student)
    service.recommend(request, college.counsellor, approve=False, note="劝导暂缓", now=NOW)
    return request


def _approved(college):
    request = _recommended(college)
    service.approve(request, college.deputy, arrival_on=TODAY, plan="隔离14天",
                    isolation_days=14, now=NOW)
    return request


STEPS = {
    "recommend": lambda c, r: service.recommend(r, c.counsellor, approve=True, note="同意",
                                                now=NOW),
    "approve": lambda c, r: service.approve(r, c.deputy, arrival_on=TODAY, plan="隔离",
                                            isolation_days=14, now=NOW),
    "decline": lambda c, r: service.decline(r, c.deputy, reason="疫情期间不返校", now=NOW),
    "withdraw": lambda c, r: service.withdraw(r, now=NOW),
    "arrival": lambda c, r: service.record_arrival(r, c.counsellor, arrived_on=TODAY, now=NOW),
}
STATES = {"pending": lambda c: ask(c.own_student),
          "recommended": _recommended, "approved": _approved}
ALLOWED = {("pending", "recommend"), ("pending", "withdraw"), ("recommended", "approve"),
           ("recommended", "decline"), ("recommended", "withdraw"), ("approved", "arrival")}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_is_allowed_or_refused_by_state(college, state, step):
    request = STATES[state](college)
    if (state, step) in ALLOWED:
        STEPS[step](college, request)
        assert request.state != state
    else:
        with pytest.raises(RuleError) as refused:
            STEPS[step](college, request)
        assert refused.value.conflict and request.state == state


@pytest.mark.parametrize("who, step", [
    ("other_counsellor", "recommend"), ("deputy", "recommend"), ("counsellor", "approve"),
    ("counsellor", "decline"), ("supervisor", "approve"),
])
def test_only_the_counsellor_recommends_and_only_the_deputy_decides(college, who, step):
    request = ask(college.own_student) if step == "recommend" else _recommended(college)
    user = getattr(college, who)
    calls = {
        "recommend": lambda: service.recommend(request, user, approve=True, note="x", now=NOW),
        "approve": lambda: service.approve(request, user, arrival_on=TODAY, plan="x",
                                           isolation_days=None, now=NOW),
        "decline": lambda: service.decline(request, user, reason="x", now=NOW),
    }
    with pytest.raises(RuleError) as refused:
        calls[step]()
    assert refused.value.code == "not-allowed"


def test_a_stale_step_is_a_409_and_changes_nothing(client, auth, college):
    request = _recommended(college)
    db.session.commit()
    shown = request.version_id
    service.decline(request, college.deputy, reason="暂不返校", now=NOW)
    db.session.commit()
    auth.login(college.deputy)
    response = client.post(f"/returns/{request.id}/approve", data={
        "approve-version": str(shown), "approve-arrival_on": TODAY.isoformat(),
        "approve-plan": "隔离14天", "approve-isolation_days": "14"})
    assert response.status_code == 409
    db.session.refresh(request)
    assert request.state == "declined" and request.arrival_on is None


def test_counsellor_recommends_deputy_approves_the_student_reads_it(client, auth, college):
    request = ask(college.own_student)
    db.session.commit()
    auth.login(college.other_counsellor)
    assert client.get(f"/returns/{request.id}").status_code == 404
    assert "河南 郑州" not in client.get("/returns/").text
    auth.logout()
    auth.login(college.counsellor)
    listing = client.get("/returns/").text
    assert college.own_student.name in listing and college.other_student.name not in listing
    page = client.get(f"/returns/{request.id}").text
    assert "提出意见" in page
    response = client.post(f"/returns/{request.id}/recommend", data={
        "recommend-version": str(request.version_id), "recommend-recommendation": "approve",
        "recommend-note": "多次谈话，实习确有必要"})
    assert response.status_code == 302
    auth.logout()
    auth.login(college.deputy)
    db.session.refresh(request)
    assert "多次谈话" in client.get(f"/returns/{request.id}").text
    arrival = TODAY + timedelta(days=3)
    response = client.post(f"/returns/{request.id}/approve", data={
        "approve-version": str(request.version_id), "approve-arrival_on": arrival.isoformat(),
        "approve-plan": "到校后在会议中心隔离14天", "approve-isolation_days": "14"})
    assert response.status_code == 302
    page = client.get(personal_url(college.own_student)).text
    assert "已批准" in page and arrival.isoformat() in page and "会议中心隔离14天" in page


def test_the_dashboard_counts_requests_by_state(client, auth, college):
    ask(college.own_student)
    ask(college.other_student, reason="exam")
    db.session.commit()
    auth.login(college.deputy)
    page = client.get("/dashboard").text
    assert 'data-state="pending">2<' in page
    listing = client.get("/returns/?state=pending&reason=exam").text
    assert college.other_student.name in listing and college.own_student.name not in listing


def test_the_date_of_the_arrival_is_checked(college):
    request = _approved(college)
    with pytest.raises(RuleError) as refused:
        service.record_arrival(request, college.counsellor, arrived_on=TODAY + timedelta(days=1),
                               now=NOW)
    assert (refused.value.code, refused.value.field) == ("in-future", "arrived_on")
    assert request.state == "approved" and not college.own_student.on_campus
    assert isinstance(request.arrival_on, date)


def test_on_campus_without_an_approved_request_asks_the_counsellor_to_confirm(client, auth,
                                                                              college):
    from caretrack.models import DailyStatus

    student = college.own_student
    auth.login(college.counsellor)
    url = f"/reports/daily/students/{student.id}/status"
    data = {"province": "", "city": "", "on_campus": "y", "health": "normal", "note": "已到校"}
    asked = client.post(url, data=data)
    assert asked.status_code == 200 and "没有获批的提前返校申请" in asked.text
    assert "已到校" in asked.text and "data-campus-confirm" in asked.text
    assert db.session.scalar(select(func.count()).select_from(DailyStatus)) == 0
    assert client.post(url, data={**data, "campus_confirmed": "y"}).status_code == 302
    assert db.session.scalars(select(DailyStatus.on_campus)).all() == [True]


def test_on_campus_with_an_approved_request_needs_no_confirmation(client, auth, college):
    from caretrack.models import DailyStatus

    _approved(college)
    db.session.commit()
    auth.login(college.counsellor)
    response = client.post(f"/reports/daily/students/{college.own_student.id}/status", data={
        "province": "", "city": "", "on_campus": "y", "health": "normal"})
    assert response.status_code == 302
    assert db.session.scalars(select(DailyStatus.on_campus)).all() == [True]


def test_the_college_report_lists_approved_arrivals_and_arrivals_due(college):
    due = _approved(college)
    arrived = ask(college.other_student)
    service.recommend(arrived, college.other_counsellor, approve=True, note="同意", now=NOW)
    service.approve(arrived, college.deputy, arrival_on=TODAY, plan="隔离14天",
                    isolation_days=14, now=NOW)
    service.record_arrival(arrived, college.other_counsellor, arrived_on=TODAY, now=NOW)
    ask(college.graduate)  # pending: not listed
    # by allowed arrival day, then student number (the own student's is the smaller)
    assert [r.id for r, _ in service.arrivals(TODAY, in_college(college.deputy))] == [due.id, arrived.id]
    assert [r.id for r, _ in service.arrivals(TODAY - timedelta(days=1), in_college(college.deputy))] == [due.id]
