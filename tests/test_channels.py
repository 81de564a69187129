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
    log = queue_group_message(CLASS, "notice", text, students=[college.own_student],
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
