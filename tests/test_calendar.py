"""The personal calendar feed: a secret URL per user listing their open re-checks."""

from datetime import date, timedelta

from icalendar import Calendar
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import AuditEvent, User
from caretrack.services import rechecks
from tests import factories
from tests.helpers import text_of


def add(student, due_on, reason="", by=None):
    return rechecks.schedule(student, due_on=due_on, reason=reason, origin="manual",
                             by=by or student.counsellor)


def events_of(response) -> dict[str, object]:
    calendar = Calendar.from_ical(response.data)
    return {str(e["summary"]): e for e in calendar.walk("VEVENT")}


def test_the_feed_lists_exactly_the_owners_open_re_checks(client, college):
    c = college
    add(c.own_student, date(2020, 3, 3), "约好回电")
    add(c.graduate, date(2020, 3, 5))
    done = add(factories.StudentFactory(counsellor=c.counsellor, name="孙已完成"), date(2020, 3, 3))
    done.state = "done"
    cancelled = add(factories.StudentFactory(counsellor=c.counsellor, name="钱已取消"),
                    date(2020, 3, 3))
    rechecks.cancel(cancelled, c.counsellor, reason="不需要")
    add(c.other_student, date(2020, 3, 3))  # another counsellor's student
    db.session.commit()

    response = client.get(f"/calendar/{c.counsellor.calendar_token}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    events = events_of(response)
    own, grad = c.own_student, c.graduate
    assert set(events) == {
        f"复查：陈小明（{own.student_number}）", f"复查：赵研究（{grad.student_number}）",
    }
    event = events[f"复查：陈小明（{own.student_number}）"]
    # An all-day event on the due date.
    assert event.decoded("dtstart") == date(2020, 3, 3)
    assert event.decoded("dtend") == date(2020, 3, 4)
    assert "约好回电" in str(event["description"]) and "手动添加" in str(event["description"])
    assert str(event["url"]).endswith(f"/students/{own.id}")
    assert len({str(e["uid"]) for e in events.values()}) == 2


def test_the_feed_speaks_the_owners_language(client, college):
    college.counsellor.locale = "en"
    add(college.own_student, date(2020, 3, 3))
    db.session.commit()
    events = events_of(client.get(f"/calendar/{college.counsellor.calendar_token}.ics"))
    assert list(events) == [f"Re-check: 陈小明 ({college.own_student.student_number})"]


def test_an_empty_feed_still_parses(client, college):
    response = client.get(f"/calendar/{college.supervisor.calendar_token}.ics")
    assert response.status_code == 200
    assert events_of(response) == {}


def test_a_wrong_token_is_404(client, college):
    add(college.own_student, date(2020, 3, 3))
    db.session.commit()
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    assert client.get(f"/calendar/{college.counsellor.calendar_token}x.ics").status_code == 404
    assert client.get(f"/calendar/{college.counsellor.calendar_token}").status_code == 404


def test_a_deactivated_users_feed_is_404(client, college):
    college.counsellor.active = False
    db.session.commit()
    assert client.get(f"/calendar/{college.counsellor.calendar_token}.ics").status_code == 404


def test_a_student_moved_to_another_counsellor_leaves_the_old_feed(client, college):
    add(college.own_student, date(2020, 3, 3))
    college.own_student.counsellor_id = college.other_counsellor.id
    db.session.commit()
    assert events_of(client.get(f"/calendar/{college.counsellor.calendar_token}.ics")) == {}
    moved = events_of(client.get(f"/calendar/{college.other_counsellor.calendar_token}.ics"))
    assert len(moved) == 1


def test_each_fetch_is_audited_without_student_names(client, college):
    add(college.own_student, date(2020, 3, 3))
    db.session.commit()
    client.get(f"/calendar/{college.counsellor.calendar_token}.ics")
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "calendar.feed")).one()
    assert event.user_id == college.counsellor.id and event.detail == ""


def test_the_account_page_shows_the_feed_and_regenerates_it(client, auth, college):
    auth.login(college.counsellor)
    old = college.counsellor.calendar_token
    page = client.get("/account")
    assert f"/calendar/{old}.ics" in page.get_data(as_text=True)
    assert "日历订阅" in text_of(page)
    assert "Calendar feed" in text_of(client.get("/account?lang=en"))

    response = client.post("/calendar/token", follow_redirects=True)
    new = db.session.get(User, college.counsellor.id).calendar_token
    assert new != old
    assert f"/calendar/{new}.ics" in response.get_data(as_text=True)
    assert "Your calendar feed has a new address" in text_of(response)
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200


def test_regenerating_needs_sign_in(client, college):
    old = college.counsellor.calendar_token
    response = client.post("/calendar/token")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.get(User, college.counsellor.id).calendar_token == old


def test_regenerating_needs_the_csrf_token(make_app, college):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    old = college.counsellor.calendar_token
    client.post("/login", data={"username": college.counsellor.username,
                                "password": factories.PASSWORD})
    assert client.post("/calendar/token").status_code == 400
    assert db.session.get(User, college.counsellor.id).calendar_token == old


def test_the_feed_of_a_growing_caseload_is_one_page(client, college):
    for i in range(30):
        add(factories.StudentFactory(counsellor=college.counsellor), date(2020, 3, 3)
            + timedelta(days=i % 7))
    db.session.commit()
    events = events_of(client.get(f"/calendar/{college.counsellor.calendar_token}.ics"))
    assert len(events) == 30
