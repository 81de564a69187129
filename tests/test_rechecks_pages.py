"""The re-checks as the counsellor and the deputy secretary see them: the landing page, the
list with its filters, the student page, and moving, cancelling and adding one by hand."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import EntryKind, Recheck, TimelineEntry, now_utc
from caretrack.services import rechecks
from caretrack.services.cases import assign_category
from caretrack.services.clock import local_today
from tests import factories
from tests.helpers import count_queries, text_of


@pytest.fixture
def today(app):
    return local_today(now_utc())


@pytest.fixture
def thesis(app):
    category = factories.CategoryFactory(name_zh="论文或科研压力", name_en="Thesis pressure",
                                         cadence_days=7)
    db.session.flush()
    return category


def add(student, due_on, reason="", origin="manual", by=None):
    return rechecks.schedule(student, due_on=due_on, reason=reason, origin=origin,
                             by=by or student.counsellor)


def rows(response, table_id):
    """The student names in one table of the page, in order."""
    body = response.get_data(as_text=True)
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', body, flags=re.S)
    if match is None:
        return []
    return re.findall(r'href="/students/\d+">([^<]+)</a>', match.group(0))


# -- the counsellor's landing page ------------------------------------------------------------


def test_landing_shows_overdue_due_today_and_the_next_7_days(client, auth, college, today,
                                                             thesis):
    c = college
    assign_category(c.graduate, thesis, c.counsellor, started_on=today - timedelta(days=9))
    add(c.own_student, today - timedelta(days=2), "约好回电确认返京日期")
    add(c.graduate, today)
    add(factories.StudentFactory(counsellor=c.counsellor, name="王一周"), today + timedelta(7))
    add(factories.StudentFactory(counsellor=c.counsellor, name="王八天"), today + timedelta(8))
    add(c.other_student, today - timedelta(days=1))  # another counsellor's student
    auth.login(c.counsellor)

    response = client.get("/")
    assert rows(response, "overdue-table") == ["陈小明"]
    assert rows(response, "due-today-table") == ["赵研究"]
    # The next 7 days are summarised, day by day (the cadence's re-check and 王一周's fall on
    # the seventh); each day's list is one click away.
    body = response.get_data(as_text=True)
    days = re.findall(r'href="([^"]+)" data-upcoming-day="([\d-]+)">[^<]*'
                      r'<span class="badge text-bg-light">(\d+)</span>', body)
    assert [(day, count) for _, day, count in days] == [((today + timedelta(7)).isoformat(), "2")]
    assert rows(response, "upcoming-table") == []
    seventh = text_of(client.get(days[0][0].replace("&amp;", "&")))
    assert "王一周" in seventh and "赵研究" in seventh and "王八天" not in seventh
    page = text_of(response)
    assert "逾期复查" in page and "今天到期" in page and "未来 7 天" in page
    assert "约好回电确认返京日期" in page and "逾期 2 天" in page
    assert "论文或科研压力" in page
    assert "刘小红" not in page and "王八天" not in page
    # One click to log a follow-up, coming back to the landing page.
    body = response.get_data(as_text=True)
    assert f'href="/students/{c.own_student.id}/follow-ups/new?next=/"' in body
    english = text_of(client.get("/?lang=en"))
    assert "Overdue re-checks" in english and "2 days overdue" in english
    assert "Log follow-up" in english and "Thesis pressure" in english


def test_the_follow_up_link_completes_the_re_check_and_comes_back(client, auth, college, today):
    recheck = add(college.own_student, today - timedelta(days=1))
    auth.login(college.counsellor)
    body = client.get("/").get_data(as_text=True)
    link = re.search(rf'href="(/students/{college.own_student.id}/follow-ups/new[^"]*)"', body)
    form_page = client.get(link.group(1).replace("&amp;", "&"))
    assert form_page.status_code == 200
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', form_page.get_data(as_text=True))
    occurred = (now_utc() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(link.group(1).replace("&amp;", "&"), data={
        "occurred_at": occurred, "channel": "phone", "reached": "1", "health": "normal",
        "body": "学生情况正常", "check_again_in_days": "3", "next": "/",
        "submission_key": key.group(1) if key else "",
    })
    assert response.status_code == 302 and response.headers["Location"] == "/"
    db.session.refresh(recheck)
    assert recheck.state == "done"
    [following] = rechecks.open_rechecks(college.own_student)
    assert following.due_on == today + timedelta(days=3)
    page = client.get("/")
    assert rows(page, "overdue-table") == []


def test_landing_of_the_deputy_and_supervisor_has_no_re_check_lists(client, auth, college,
                                                                    today):
    add(college.own_student, today - timedelta(days=2), "约好回电")
    auth.login(college.deputy)
    page = text_of(client.get("/"))
    assert "学院数据看板" in page  # the deputy secretary lands on the college dashboard
    assert "约好回电" not in page and 'id="overdue-table"' not in client.get("/").get_data(
        as_text=True)
    auth.logout()
    auth.login(college.supervisor)
    response = client.get("/")
    assert response.headers["Location"] == "/referrals/"  # the supervisor lands on the inbox
    assert "约好回电" not in text_of(client.get("/referrals/"))


def test_the_navigation_counts_the_counsellors_overdue_re_checks(client, auth, college, today):
    add(college.own_student, today - timedelta(days=1))
    add(college.graduate, today - timedelta(days=3))
    add(college.graduate, today)
    auth.login(college.counsellor)
    body = client.get("/students/").get_data(as_text=True)
    assert re.search(r'href="/rechecks/">复查提醒 <span[^>]*data-badge="2"', body)


def test_landing_issues_a_constant_number_of_queries(client, auth, college, today, thesis):
    def grow(n):
        for i in range(n):
            student = factories.StudentFactory(counsellor=college.counsellor)
            assign_category(student, thesis, college.counsellor, started_on=today)
            add(student, today + timedelta(days=i % 10 - 3), f"第{i}个")
        db.session.commit()

    auth.login(college.counsellor)
    grow(3)
    with count_queries() as few:
        assert client.get("/").status_code == 200
    grow(40)
    with count_queries() as many:
        response = client.get("/")
    assert len(rows(response, "overdue-table")) > 3
    assert many.count == few.count, many.statements


# -- the list ---------------------------------------------------------------------------------


@pytest.fixture
def spread(college, today, thesis):
    """Re-checks of the counsellor's students in every state, and one of another counsellor."""
    c = college
    assign_category(c.graduate, thesis, c.counsellor, started_on=today)  # due in 7 days
    late = add(c.own_student, today - timedelta(days=3), "逾期的")
    add(c.own_student, today, "今天的")
    done = add(factories.StudentFactory(counsellor=c.counsellor, name="孙已完成"), today)
    done.state, done.closed_at = "done", now_utc()
    cancelled = add(factories.StudentFactory(counsellor=c.counsellor, name="钱已取消"), today)
    rechecks.cancel(cancelled, c.counsellor, reason="学生已返校")
    add(c.other_student, today - timedelta(days=1), "别人的")
    db.session.commit()
    return late


def test_the_counsellor_lists_their_own_open_re_checks(client, auth, college, spread):
    auth.login(college.counsellor)
    response = client.get("/rechecks/")
    assert rows(response, "recheck-list") == ["陈小明", "陈小明", "赵研究"]
    page = text_of(response)
    assert "逾期的" in page and "今天的" in page and "别人的" not in page
    assert "按辅导员统计" not in page  # the per-counsellor counts are the deputy's


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("state=overdue", ["陈小明"]),
        ("state=today", ["陈小明"]),
        ("state=done", ["孙已完成"]),
        ("state=cancelled", ["钱已取消"]),
        ("state=all", None),
        ("state=nonsense", ["陈小明", "陈小明", "赵研究"]),
    ],
)
def test_the_list_filters_by_state(client, auth, college, spread, query, names):
    auth.login(college.counsellor)
    response = client.get(f"/rechecks/?{query}")
    if names is None:
        assert sorted(rows(response, "recheck-list")) == sorted(
            ["陈小明", "陈小明", "赵研究", "孙已完成", "钱已取消"])
    else:
        assert rows(response, "recheck-list") == names


def test_the_cancelled_list_shows_the_reason(client, auth, college, spread):
    auth.login(college.counsellor)
    page = text_of(client.get("/rechecks/?state=cancelled&lang=en"))
    assert "Cancelled" in page and "学生已返校" in page


def test_the_list_filters_by_due_range_and_category(client, auth, college, spread, today,
                                                    thesis):
    auth.login(college.counsellor)
    start, end = today - timedelta(days=1), today + timedelta(days=30)
    in_range = client.get(f"/rechecks/?due_from={start}&due_to={end}")
    assert rows(in_range, "recheck-list") == ["陈小明", "赵研究"]
    by_category = client.get(f"/rechecks/?category={thesis.id}")
    assert rows(by_category, "recheck-list") == ["赵研究"]
    assert "没有符合条件的复查" in text_of(client.get(f"/rechecks/?due_from={end}"))


def test_the_deputy_sees_every_counsellors_with_overdue_counts(client, auth, college, spread):
    auth.login(college.deputy)
    response = client.get("/rechecks/")
    assert sorted(rows(response, "recheck-list")) == ["刘小红", "赵研究", "陈小明", "陈小明"]
    body = response.get_data(as_text=True)

    def overdue_of(counsellor):
        row = re.search(rf'<tr data-counsellor-id="{counsellor.id}".*?</tr>', body, flags=re.S)
        return int(re.search(r'data-overdue="(\d+)"', row.group(0)).group(1))

    assert overdue_of(college.counsellor) == 1 and overdue_of(college.other_counsellor) == 1
    assert "按辅导员统计的未完成复查" in text_of(response)
    only_one = client.get(f"/rechecks/?counsellor={college.other_counsellor.id}")
    assert rows(only_one, "recheck-list") == ["刘小红"]
    # The deputy reads, but the buttons to change are the counsellor's.
    assert "改期" not in text_of(only_one)


def test_a_counsellor_cannot_filter_to_another_counsellor(client, auth, college, spread):
    auth.login(college.counsellor)
    response = client.get(f"/rechecks/?counsellor={college.other_counsellor.id}")
    assert "刘小红" not in text_of(response)


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_the_list_is_not_there_for_supervisors_and_the_admin(client, auth, college, role):
    auth.login(getattr(college, role))
    assert client.get("/rechecks/").status_code == 404


@pytest.mark.parametrize("role", ["counsellor", "deputy"])
def test_the_list_issues_a_constant_number_of_queries(client, auth, college, today, thesis,
                                                      role):
    def grow(n):
        for i in range(n):
            counsellor = college.counsellor if i % 2 else college.other_counsellor
            student = factories.StudentFactory(counsellor=counsellor)
            assign_category(student, thesis, counsellor, started_on=today)
            add(student, today + timedelta(days=i % 9 - 4))
        db.session.commit()

    auth.login(getattr(college, role))
    grow(4)
    with count_queries() as few:
        assert client.get("/rechecks/?state=all").status_code == 200
    grow(60)
    with count_queries() as many:
        response = client.get("/rechecks/?state=all")
    assert len(rows(response, "recheck-list")) >= 30
    assert many.count == few.count, many.statements


# -- changing one -----------------------------------------------------------------------------


def test_rescheduling_from_the_list_moves_it_and_shows_on_the_timeline(client, auth, college,
                                                                      spread, today):
    auth.login(college.counsellor)
    page = client.get("/rechecks/?state=overdue").get_data(as_text=True)
    assert f'/rechecks/{spread.id}/reschedule?next=/rechecks/?state%3Doverdue' in page
    form = client.get(f"/rechecks/{spread.id}/reschedule?next=/rechecks/?state%3Doverdue")
    assert "改期" in text_of(form) and "逾期的" in text_of(form)
    new_day = today + timedelta(days=2)
    response = client.post(f"/rechecks/{spread.id}/reschedule", data={
        "due_on": new_day.isoformat(), "reason": "学生在外实习", "next": "/rechecks/?state=overdue",
    })
    assert response.status_code == 302
    assert response.headers["Location"] == "/rechecks/?state=overdue"
    db.session.refresh(spread)
    assert spread.due_on == new_day and spread.previous_due_on == today - timedelta(days=3)
    assert f"复查已改到 {new_day.isoformat()}" in text_of(client.get("/rechecks/"))
    entry = db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.kind == EntryKind.RECHECK_CHANGE)
        .order_by(TimelineEntry.id.desc())).first()
    assert entry.details["action"] == "rescheduled" and entry.body == "学生在外实习"
    timeline = text_of(client.get(f"/students/{college.own_student.id}"))
    assert "学生在外实习" in timeline


def test_a_reschedule_without_reason_or_in_the_past_keeps_what_was_typed(client, auth,
                                                                        college, spread, today):
    auth.login(college.counsellor)
    yesterday = (today - timedelta(days=1)).isoformat()
    response = client.post(f"/rechecks/{spread.id}/reschedule",
                           data={"due_on": yesterday, "reason": "晚点再说"})
    assert response.status_code == 200
    page = text_of(response)
    assert "请选择今天或以后的日期" in page
    assert yesterday in response.get_data(as_text=True) and "晚点再说" in page
    response = client.post(f"/rechecks/{spread.id}/reschedule",
                           data={"due_on": (today + timedelta(days=1)).isoformat(), "reason": ""})
    assert "请说明原因" in text_of(response)
    db.session.refresh(spread)
    assert spread.due_on == today - timedelta(days=3)


def test_posting_the_same_reschedule_twice_records_it_once(client, auth, college, spread, today):
    auth.login(college.counsellor)
    data = {"due_on": (today + timedelta(days=2)).isoformat(), "reason": "学生在外实习",
            "submission_key": "same-form-twice"}
    first = client.post(f"/rechecks/{spread.id}/reschedule", data=data)
    second = client.post(f"/rechecks/{spread.id}/reschedule", data=data)
    assert first.status_code == second.status_code == 302
    assert len(db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.details["action"].as_string() == "rescheduled")).all()) == 1


def test_cancelling_with_a_reason(client, auth, college, spread):
    auth.login(college.counsellor)
    assert "请说明原因" in text_of(client.post(f"/rechecks/{spread.id}/cancel",
                                               data={"reason": " "}))
    response = client.post(f"/rechecks/{spread.id}/cancel", data={"reason": "学生已返校"})
    assert response.headers["Location"] == f"/students/{college.own_student.id}"
    db.session.refresh(spread)
    assert spread.state == "cancelled" and spread.cancel_reason == "学生已返校"
    # Cancelling it again says it is closed, and changes nothing.
    again = client.post(f"/rechecks/{spread.id}/cancel", data={"reason": "再取消"},
                        follow_redirects=True)
    assert "这个复查已经结束" in text_of(again)
    assert db.session.get(Recheck, spread.id).cancel_reason == "学生已返校"


def test_a_redirect_after_a_change_stays_on_the_site(client, auth, college, spread):
    auth.login(college.counsellor)
    response = client.post(f"/rechecks/{spread.id}/cancel",
                           data={"reason": "学生已返校", "next": "https://evil.example/"})
    assert response.headers["Location"] == f"/students/{college.own_student.id}"


def test_adding_a_re_check_by_hand_from_the_student_page(client, auth, college, today):
    auth.login(college.counsellor)
    student = college.own_student
    page = client.get(f"/students/{student.id}").get_data(as_text=True)
    assert f"/rechecks/students/{student.id}/new" in page
    due = today + timedelta(days=4)
    response = client.post(f"/rechecks/students/{student.id}/new",
                           data={"due_on": due.isoformat(), "reason": "约好视频通话"})
    assert response.headers["Location"] == f"/students/{student.id}"
    [recheck] = rechecks.open_rechecks(student)
    assert (recheck.due_on, recheck.origin, recheck.owner_id) == (
        due, "manual", college.counsellor.id)
    panel = text_of(client.get(f"/students/{student.id}"))
    assert "未完成的复查" in panel and "约好视频通话" in panel and "手动添加" in panel


def test_only_the_students_counsellor_changes_its_re_checks(client, auth, college, spread):
    auth.login(college.counsellor)
    theirs = db.session.scalars(select(Recheck).where(
        Recheck.student_id == college.other_student.id)).one()
    assert client.post(f"/rechecks/{theirs.id}/cancel", data={"reason": "x"}).status_code == 404
    assert client.get(f"/rechecks/{theirs.id}/reschedule").status_code == 404
    assert client.get("/rechecks/999999/cancel").status_code == 404
    auth.logout()
    auth.login(college.deputy)
    assert client.get(f"/rechecks/{spread.id}/cancel").status_code == 404
    assert client.get(f"/rechecks/students/{college.own_student.id}/new").status_code == 404


# -- the student page and the caseload --------------------------------------------------------


def test_the_student_page_shows_the_open_re_checks_at_the_top(client, auth, college, spread,
                                                            today):
    auth.login(college.counsellor)
    body = client.get(f"/students/{college.own_student.id}").get_data(as_text=True)
    panel = re.search(r'<section class="card mb-3 recheck-panel".*?</section>', body, re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", panel.group(0)))
    assert "逾期的" in text and "今天的" in text and "逾期 3 天" in text
    assert f"/rechecks/{spread.id}/cancel" in panel.group(0)
    # The deputy sees them, without the buttons.
    auth.logout()
    auth.login(college.deputy)
    deputy_page = client.get(f"/students/{college.own_student.id}").get_data(as_text=True)
    assert "逾期的" in deputy_page and f"/rechecks/{spread.id}/cancel" not in deputy_page


def test_the_caseload_can_be_filtered_to_overdue_re_checks(client, auth, college, spread):
    auth.login(college.counsellor)
    response = client.get("/students/?recheck=overdue")
    page = text_of(response)
    assert "陈小明" in page and "赵研究" not in page
    assert 'value="overdue" selected' in response.get_data(as_text=True)
    assert "Re-check overdue" in text_of(client.get("/students/?recheck=overdue&lang=en"))


def test_a_follow_up_link_carries_the_page_as_next(client, auth, college, spread):
    auth.login(college.counsellor)
    body = client.get("/rechecks/?state=overdue").get_data(as_text=True)
    href = re.search(r'href="(/students/\d+/follow-ups/new\?[^"]+)"', body).group(1)
    query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
    assert query["next"] == ["/rechecks/?state=overdue"]
