"""Class group robots (企业微信, DingTalk) against a local server that answers as the services
document: delivered, rate-limited (tried again after a wait), a bad key (failed at once), no
answer in time (tried again, then failed); DingTalk's signature; the address kept encrypted."""

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.jobs import submit
from caretrack.models import ClassGroup, MessageLog, MessageState, now_utc
from caretrack.services import channels
from caretrack.services.channels import queue_group_message, set_group, unseal
from caretrack.services.errors import RuleError
from tests.fake_robot import FakeRobot
from tests.helpers import text_of

CLASS = "2017级会计学1班"


@pytest.fixture
def robot(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    monkeypatch.setattr(channels, "TIMEOUT", 0.3)
    with FakeRobot() as fake:
        fake.delay = 1.0
        monkeypatch.setitem(app.config, "GROUP_WEBHOOK_PREFIXES", fake.prefixes())
        yield fake


def group(college, robot, service="wecom", secret=""):
    set_group(CLASS, service, robot.prefixes()[service] + "KEY-0001", secret, college.counsellor,
              now_utc())
    db.session.commit()


def send(college, text="【通知】明天上午十点前完成打卡", now=None):
    now = now or now_utc()
    log = queue_group_message(college.counsellor.college_id, CLASS, "notice", text,
                              students=[college.own_student],
                              sent_by=college.counsellor, counsellor_id=college.counsellor.id,
                              now=now)
    db.session.commit()
    submit("messages.send", college.counsellor, {"ids": [log.id]}, now=now)
    db.session.expire_all()
    return db.session.get(MessageLog, log.id)


def test_a_wecom_robot_gets_the_documented_text_message(college, robot):
    group(college, robot)
    log = send(college)
    assert robot.posts[0]["json"] == {"msgtype": "text",
                                      "text": {"content": "【通知】明天上午十点前完成打卡"}}
    assert robot.posts[0]["query"]["key"] == ["KEY-0001"]
    assert (log.state, log.attempts, log.channel, log.answer) == (
        MessageState.DELIVERED, 1, "wecom", "ok")
    assert log.student_ids == [college.own_student.id] and log.sent_by_id == college.counsellor.id
    stored = db.session.scalars(select(ClassGroup)).one()
    assert "KEY-0001" not in stored.webhook_encrypted
    assert unseal(stored.webhook_encrypted).endswith("KEY-0001") and stored.hint == "0001"


def test_rate_limited_is_tried_again_after_a_wait(college, robot):
    from caretrack.services.schedule import tick

    group(college, robot)
    robot.answer = "rate-limited"
    now = now_utc()
    log = send(college, now=now)
    assert (log.state, log.error, log.answer) == (
        MessageState.PENDING, "rate-limited", "45009 api freq out of limit")
    assert log.next_attempt_at >= now + timedelta(minutes=1)
    robot.answer = "ok"
    assert [j.kind for j in tick(now + timedelta(seconds=30)) if j.kind == "messages.send"] == []
    tick(now + timedelta(minutes=2))
    db.session.expire_all()
    log = db.session.get(MessageLog, log.id)
    assert (log.state, log.attempts) == (MessageState.DELIVERED, 2)


def test_a_bad_key_fails_at_once(college, robot):
    group(college, robot)
    robot.answer = "bad-key"
    log = send(college)
    assert (log.state, log.error, log.attempts, log.next_attempt_at) == (
        MessageState.FAILED, "bad-key", 1, None)


def test_no_answer_in_time_is_tried_again_then_fails(college, robot):
    group(college, robot)
    robot.answer = "timeout"
    now = now_utc()
    log = send(college, now=now)
    assert (log.state, log.error) == (MessageState.PENDING, "timeout")
    for wait in channels.BACKOFF:
        now += wait
        channels.deliver(db.session.get(MessageLog, log.id), now)
        db.session.commit()
    log = db.session.get(MessageLog, log.id)
    assert (log.state, log.error, log.attempts) == (MessageState.FAILED, "timeout", 4)


def test_a_signing_dingtalk_robot_gets_the_signature(college, robot):
    group(college, robot, "dingtalk", secret="SECabc123")
    log = send(college)
    assert log.state == MessageState.DELIVERED
    query = robot.posts[0]["query"]
    timestamp, sign = query["timestamp"][0], query["sign"][0]
    expected = base64.b64encode(hmac.new(b"SECabc123", f"{timestamp}\nSECabc123".encode(),
                                         hashlib.sha256).digest()).decode()
    assert sign == expected and query["access_token"] == ["KEY-0001"]
    robot.answer = "refused"
    log = send(college)
    assert (log.state, log.error, log.answer) == (
        MessageState.FAILED, "refused", "310000 sign not match")


def test_twenty_a_minute_per_robot(college, robot):
    group(college, robot)
    now = now_utc()
    for _ in range(channels.PER_MINUTE):
        db.session.add(MessageLog(channel="wecom", kind="notice", recipient=CLASS, body="x",
                                  college_id=college.counsellor.college_id,
                                  state=MessageState.DELIVERED, delivered_at=now))
    db.session.commit()
    log = send(college, now=now)
    assert (log.state, log.attempts, robot.posts) == (MessageState.PENDING, 0, [])


def test_only_the_services_webhook_addresses_are_stored(college, robot):
    for address in ("http://127.0.0.1:1/internal", robot.prefixes()["wecom"],
                    robot.prefixes()["wecom"] + "a b"):
        with pytest.raises(RuleError) as refused:
            set_group(CLASS, "wecom", address, "", college.counsellor, now_utc())
        assert refused.value.code == "webhook-address"


def test_the_checkin_reminder_names_only_the_students_who_have_not_checked_in(college, robot):
    from caretrack.services.daily.statuses import record_status
    from caretrack.services.daily.values import StatusValues
    from caretrack.services.schedule import tick
    from tests.test_schedule import DAY, at

    college.graduate.class_name = CLASS
    college.own_student.class_name = CLASS
    db.session.commit()
    group(college, robot)
    tick(at(DAY, 8, 0))  # the days before
    robot.posts.clear()
    record_status(college.graduate, college.counsellor, StatusValues("北京", "北京", False,
                                                                     "normal"), at(DAY, 8, 30))
    db.session.commit()
    tick(at(DAY, 9, 5))
    posts = [p["json"]["text"]["content"] for p in robot.posts]
    assert len(posts) == 1 and posts[0].startswith(f"打卡提醒，{CLASS}：")
    log = db.session.scalars(select(MessageLog).where(
        MessageLog.kind == "checkin.reminder:2020-03-03")).one()
    assert (log.state, log.channel, log.sent_by_id, log.counsellor_id) == (
        MessageState.DELIVERED, "wecom", None, college.counsellor.id)
    # the class's students without a status today, whoever their counsellor; not the one with
    assert sorted(log.student_ids) == sorted([college.own_student.id, college.other_student.id])
    assert college.own_student.name in posts[0] and college.graduate.name not in posts[0]
    assert "/checkin/c/" in posts[0]


# -- the pages ----------------------------------------------------------------------------------


def test_the_counsellor_sets_a_robot_and_never_sees_its_address_again(client, auth, college,
                                                                        robot):
    auth.login(college.counsellor)
    address = robot.prefixes()["dingtalk"] + "TOKEN-abcd9876"
    response = client.post("/groups/robot", data={
        "class_name": CLASS, "service": "dingtalk", "webhook": address, "secret": "SECxyz"})
    assert response.status_code == 302
    assert "的群机器人已保存" in text_of(client.get(response.headers["Location"]))
    page = client.get("/groups/").get_data(as_text=True)
    assert "…9876" in page and "TOKEN-abcd" not in page and "SECxyz" not in page
    stored = db.session.scalars(select(ClassGroup)).one()
    assert (stored.service, stored.set_by_id) == ("dingtalk", college.counsellor.id)
    assert unseal(stored.secret_encrypted) == "SECxyz"
    refused = client.post("/groups/robot", data={
        "class_name": CLASS, "service": "wecom", "webhook": "https://example.com/hook"})
    assert refused.status_code == 422
    assert "请粘贴群设置中显示的机器人 Webhook 地址" in text_of(refused)
    client.post("/groups/robot/remove", data={"class_name": CLASS})
    assert db.session.scalars(select(ClassGroup)).all() == []


def test_only_the_classs_own_counsellor_sets_its_robot(client, auth, college, robot):
    from tests import factories

    factories.StudentFactory(counsellor=college.other_counsellor, class_name="2018级金融学1班")
    db.session.commit()
    auth.login(college.counsellor)
    response = client.post("/groups/robot", data={
        "class_name": "2018级金融学1班", "service": "wecom",
        "webhook": robot.prefixes()["wecom"] + "KEY"})
    assert response.status_code == 404
    assert db.session.scalars(select(ClassGroup)).all() == []
    assert "2018级金融学1班" not in text_of(client.get("/groups/"))


def test_a_failed_message_is_shown_to_the_counsellor(client, auth, college, robot):
    group(college, robot)
    robot.answer = "bad-key"
    send(college)
    auth.login(college.counsellor)
    page = text_of(client.get("/groups/"))
    assert "未送达" in page and "Webhook 地址无效" in page
    assert "有 1 条发往班级群的消息未能送达" in text_of(client.get("/"))


def test_a_notice_and_its_coverage_are_posted_to_the_class_group(client, auth, college, robot):
    from datetime import UTC, datetime, timedelta

    from caretrack.services import notices
    from caretrack.services.notices import NoticeDraft

    group(college, robot)
    notice = notices.publish(college.counsellor, NoticeDraft(
        title="返校须知", body="请阅读", audience="caseload",
        deadline=datetime.now(UTC) + timedelta(days=1)), now=datetime.now(UTC))
    db.session.commit()
    auth.login(college.counsellor)
    response = client.post(f"/notices/{notice.id}/groups", data={"what": "notice"})
    assert "已发送到 1 个班级群中的 1 个" in text_of(client.get(response.headers["Location"]))
    assert "返校须知" in robot.posts[-1]["json"]["text"]["content"]
    assert "/checkin/c/" in robot.posts[-1]["json"]["text"]["content"]
    client.post(f"/notices/{notice.id}/groups", data={"what": "coverage"})
    coverage = robot.posts[-1]["json"]["text"]["content"]
    assert coverage.startswith(f"《返校须知》{CLASS}：2 人中已有 0 人确认。")
    assert college.own_student.name in coverage and college.other_student.name not in coverage
    logs = db.session.scalars(select(MessageLog).order_by(MessageLog.id)).all()
    assert [(m.kind, m.state, m.sent_by_id) for m in logs] == [
        ("notice", "delivered", college.counsellor.id),
        ("notice.coverage", "delivered", college.counsellor.id)]
    assert sorted(logs[1].student_ids) == sorted([college.own_student.id, college.graduate.id])
