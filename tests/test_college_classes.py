"""Two colleges with a class of the same name: each has its own class link, its own group
robot and its own reminders, and a student of one college never checks in by the other's
link. The dashboard's kept days are each college's own."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import (
    ActivityDay,
    CheckinAttempt,
    CheckinLink,
    ClassGroup,
    EntryKind,
    LinkKind,
    MessageLog,
)
from caretrack.services import channels, checkin, dashboard
from caretrack.services.clock import local_today
from caretrack.services.reminders import post_checkin_reminders
from caretrack.services.timeline import add_entry
from tests import factories
from tests.fake_robot import FakeRobot
from tests.helpers import text_of

#: 08:00 in Beijing on a day of the epidemic: before the students' 10:00 cut-off.
MORNING = datetime(2020, 2, 10, 0, 0, tzinfo=UTC)
CLASS = "2019级1班"


@pytest.fixture
def robot(app, monkeypatch):
    monkeypatch.setattr(channels, "TIMEOUT", 0.3)
    with FakeRobot() as fake:
        monkeypatch.setitem(app.config, "GROUP_WEBHOOK_PREFIXES", fake.prefixes())
        yield fake


@pytest.fixture
def same_class(colleges):
    """A class of the same name in both colleges, each with one student with a phone."""
    c = colleges
    for student, phone in ((c.own_student, "13900001111"), (c.foreign_student, "13900002222")):
        student.class_name, student.phone = CLASS, phone
    db.session.commit()
    return c


def _class_url(student) -> str:
    url = f"/checkin/c/{checkin.class_token(student.college_id, student.class_name, MORNING)}"
    db.session.commit()
    return url


def _verify(client, url, student, digits=None):
    return client.post(url + "/verify", data={
        "student_number": student.student_number,
        "phone_digits": digits or student.phone[-4:]})


def test_each_college_has_its_own_link_for_a_class_of_the_same_name(client, same_class):
    c = same_class
    home_url, foreign_url = _class_url(c.own_student), _class_url(c.foreign_student)
    assert home_url != foreign_url
    links = db.session.scalars(select(CheckinLink).where(
        CheckinLink.kind == LinkKind.CLASS).order_by(CheckinLink.college_id)).all()
    assert [(link.college_id, link.class_name) for link in links] == [
        (c.home.id, CLASS), (c.elsewhere.id, CLASS)]
    # The other college's student proves who they are with the right digits, on the wrong
    # link: refused, like an unknown number; nothing is remembered.
    refused = _verify(client, home_url, c.foreign_student)
    assert "不一致" in refused.text
    assert checkin.DEVICE_COOKIE not in refused.headers.get("Set-Cookie", "")
    assert db.session.scalars(select(CheckinAttempt.key)).all().count(
        f"number:{c.foreign_student.student_number}") == 1
    assert _verify(client, foreign_url, c.foreign_student).status_code == 302
    assert c.foreign_student.name[0] in text_of(client.get(foreign_url))


def test_rotating_one_colleges_class_link_leaves_the_others(auth, client, same_class):
    c = same_class
    home_url, foreign_url = _class_url(c.own_student), _class_url(c.foreign_student)
    auth.login(c.counsellor)
    client.post("/checkin/links/classes/rotate", data={"class_name": CLASS})
    assert client.get(home_url).status_code == 404
    assert client.get(foreign_url).status_code == 200


def test_a_counsellor_lists_only_their_colleges_class_link(auth, client, same_class):
    c = same_class
    foreign_url = _class_url(c.foreign_student)
    auth.login(c.counsellor)
    page = client.get("/checkin/links/").text
    assert CLASS in page and foreign_url not in page
    assert _class_url(c.own_student) in page


def test_a_class_link_from_before_colleges_keeps_working_until_rotated(client, same_class):
    """A link issued before colleges was derived from the class name alone: the migration
    marks it so, and its token (posted in the group) still opens the class's page."""
    c = same_class
    old_token = checkin.links._token(LinkKind.CLASS, CLASS, 1)
    db.session.add(CheckinLink(kind=LinkKind.CLASS, college_id=c.home.id, class_name=CLASS,
                               unscoped=True, generation=1,
                               digest=checkin.links._digest(old_token), rotated_at=MORNING))
    db.session.commit()
    assert client.get(f"/checkin/c/{old_token}").status_code == 200
    assert _class_url(c.own_student) == f"/checkin/c/{old_token}"
    checkin.rotate_class(c.home.id, CLASS, c.counsellor, MORNING)
    db.session.commit()
    assert client.get(f"/checkin/c/{old_token}").status_code == 404
    link = db.session.scalars(select(CheckinLink).where(CheckinLink.college_id == c.home.id,
                                                        CheckinLink.kind == LinkKind.CLASS)).one()
    assert link.unscoped is False
    assert client.get(_class_url(c.own_student)).status_code == 200


def _robot(counsellor, key: str):
    prefix = channels.webhook_prefixes()["wecom"]
    channels.set_group(CLASS, "wecom", prefix + key, "", counsellor, MORNING)
    db.session.commit()


def test_each_college_sets_its_own_classs_robot(auth, client, same_class):
    c = same_class
    _robot(c.counsellor, "HOME-0001")
    _robot(c.foreign_counsellor, "AWAY-0002")
    groups = db.session.scalars(select(ClassGroup).order_by(ClassGroup.college_id)).all()
    assert [(g.college_id, g.class_name, g.hint) for g in groups] == [
        (c.home.id, CLASS, "0001"), (c.elsewhere.id, CLASS, "0002")]
    auth.login(c.counsellor)
    page = text_of(client.get("/groups/"))
    assert "0001" in page and "0002" not in page
    client.post("/groups/robot/remove", data={"class_name": CLASS})
    assert [g.college_id for g in db.session.scalars(select(ClassGroup))] == [c.elsewhere.id]


def test_the_reminder_to_a_classs_group_names_only_that_colleges_students(same_class,
                                                                            monkeypatch):
    c = same_class
    _robot(c.counsellor, "HOME-0001")
    _robot(c.foreign_counsellor, "AWAY-0002")
    monkeypatch.setattr(channels, "deliver", lambda log, now: log.state)
    post_checkin_reminders(local_today(MORNING), MORNING)
    logs = db.session.scalars(select(MessageLog).order_by(MessageLog.college_id)).all()
    assert [(log.college_id, log.recipient, log.student_ids) for log in logs] == [
        (c.home.id, CLASS, [c.own_student.id]),
        (c.elsewhere.id, CLASS, [c.foreign_student.id])]
    assert c.own_student.name in logs[0].body and c.foreign_student.name not in logs[0].body
    # Each link in the reminder is its own college's.
    assert checkin.class_token(c.home.id, CLASS, MORNING) in logs[0].body
    assert checkin.class_token(c.elsewhere.id, CLASS, MORNING) in logs[1].body
    # A second run posts nothing again, in either college.
    post_checkin_reminders(local_today(MORNING), MORNING)
    assert len(db.session.scalars(select(MessageLog)).all()) == 2


def test_a_message_goes_to_its_own_colleges_robot(same_class, robot):
    c = same_class
    prefix = robot.prefixes()["wecom"]
    channels.set_group(CLASS, "wecom", prefix + "HOME-0001", "", c.counsellor, MORNING)
    channels.set_group(CLASS, "wecom", prefix + "AWAY-0002", "", c.foreign_counsellor, MORNING)
    log = channels.queue_group_message(c.elsewhere.id, CLASS, "notice", "外院通知",
                                       sent_by=c.foreign_counsellor,
                                       counsellor_id=c.foreign_counsellor.id, now=MORNING)
    db.session.commit()
    assert channels.deliver(log, MORNING) == "delivered"
    assert [post["query"]["key"] for post in robot.posts] == [["AWAY-0002"]]
    assert robot.posts[0]["json"]["text"]["content"] == "外院通知"


# -- the dashboard's kept days ------------------------------------------------------------------


def test_the_kept_activity_days_are_each_colleges(colleges):
    c = colleges
    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)
    add_entry(c.own_student, EntryKind.FOLLOW_UP, c.counsellor, body="电话", now=yesterday,
              details={"channel": "phone", "reached": True, "health": "normal"})
    for _ in range(3):
        add_entry(c.foreign_student, EntryKind.FOLLOW_UP, c.foreign_counsellor, body="微信",
                  now=yesterday, details={"channel": "wechat", "reached": True,
                                          "health": "normal"})
    db.session.commit()
    dashboard.keep_past_activity(local_today(now))
    db.session.commit()
    day = local_today(yesterday)
    kept = {row.college_id: row.follow_ups for row in db.session.scalars(
        select(ActivityDay).where(ActivityDay.day == day))}
    assert kept == {c.home.id: 1, c.elsewhere.id: 3}
    assert dashboard.build(c.deputy, now).activity.follow_ups[-2] == 1
    assert dashboard.build(c.foreign_deputy, now).activity.follow_ups[-2] == 3
    # A third college with nothing has its own days, all naught.
    third = factories.CollegeFactory(code="third", name_zh="第三学院")
    deputy = factories.DeputyFactory(college=third)
    db.session.commit()
    assert sum(dashboard.build(deputy, now).activity.follow_ups) == 0
