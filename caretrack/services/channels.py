"""Messages that leave CareTrack through pluggable channels: e-mail (``services.mail``) and a
class group's robot on 企业微信 (WeCom) or DingTalk.

The class's counsellor stores the group robot's webhook address (:func:`set_group`); it is
kept encrypted (Fernet, keyed from SECRET_KEY) and never shown again. A message to a group is
first written to the message log (:func:`queue_group_message`: who, which channel, which
students it names), then delivered by a job (``messages.send``): each try's outcome is
logged. A refusal the service may lift (its rate limit, a timeout) is tried again after
:data:`BACKOFF` (``flask jobs tick`` submits the due retries); a refusal it will not (a bad
key) or the last try fails the message, which the counsellor then sees on the class groups
page.

The services' request and answers, as they document them (both: POST JSON
``{"msgtype": "text", "text": {"content": ...}}``):

- WeCom ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY`` answers
  ``{"errcode": 0, "errmsg": "ok"}``; 45009: too many messages (20 a minute per robot);
  93000: the webhook key is not valid.
- DingTalk ``https://oapi.dingtalk.com/robot/send?access_token=TOKEN`` (with "加签", also
  ``&timestamp=MS&sign=…``: base64 of HMAC-SHA256 keyed by the secret over
  "timestamp\\nsecret", URL-encoded) answers ``{"errcode": 0}``; 130101: sent too fast (20 a
  minute); 310000: keywords, signature or IP address refused; 300001: the token is not valid.

CareTrack keeps to the 20 a minute itself: a message beyond it waits for the next minute.
"""

import base64
import hashlib
import hmac
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.jobs import Progress, task
from caretrack.models import ClassGroup, GroupService, Job, MessageLog, MessageState, User, now_utc
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError

#: Waits before the 2nd, 3rd and 4th try of a message; after the 4th it has failed.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
#: Messages a robot takes per minute (both services' documented limit).
PER_MINUTE = 20
#: Seconds to wait for a service's answer.
TIMEOUT = 5


# -- the address, kept encrypted ---------------------------------------------------------------


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode()
    key = hashlib.sha256(b"caretrack class group webhooks\0" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def unseal(token: str) -> str | None:
    """The text ``token`` was sealed from, or None when SECRET_KEY changed since."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def webhook_prefixes() -> dict[str, str]:
    """The address each service's robot webhook starts with (a setting, for tests)."""
    return current_app.config["GROUP_WEBHOOK_PREFIXES"]


def group_of(college_id: int | None, class_name: str) -> ClassGroup | None:
    """The robot of a college's class's group (another college's class of that name has its
    own)."""
    return db.session.scalars(select(ClassGroup).where(
        ClassGroup.college_id == college_id, ClassGroup.class_name == class_name)).one_or_none()


def set_group(class_name: str, service: str, webhook: str, secret: str, by: User,
              now: datetime, ip: str = "") -> ClassGroup:
    """Store (or replace) the robot of the group of ``class_name`` of ``by``'s college.

    :raise RuleError: "webhook-address" (not the service's webhook address).
    """
    webhook, secret = webhook.strip(), secret.strip()
    prefix = webhook_prefixes().get(service)
    if prefix is None or not webhook.startswith(prefix) or len(webhook) <= len(prefix) or (
            len(webhook) > 500 or any(c.isspace() for c in webhook)):
        raise RuleError("webhook-address", field="webhook")
    if service != GroupService.DINGTALK or len(secret) > 200:
        secret = ""
    group = group_of(by.college_id, class_name) or ClassGroup(college_id=by.college_id,
                                                               class_name=class_name)
    group.service, group.webhook_encrypted = service, seal(webhook)
    group.secret_encrypted = seal(secret) if secret else None
    group.hint, group.set_by_id, group.set_at = webhook[-4:], by.id, now
    db.session.add(group)
    record_event("class_group.set", by, detail=f"{class_name}:{service}"[:200], now=now, ip=ip)
    db.session.flush()
    return group


def remove_group(class_name: str, by: User, now: datetime, ip: str = "") -> None:
    """Forget the robot of the group of ``class_name`` of ``by``'s college."""
    group = group_of(by.college_id, class_name)
    if group is not None:
        db.session.delete(group)
        record_event("class_group.remove", by, detail=class_name[:200], now=now, ip=ip)
        db.session.flush()


# -- posting -----------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one try gave: delivered, or why not and whether trying again may help."""

    ok: bool
    error: str | None = None
    retry: bool = False
    answer: str = ""


#: errcode -> (error, worth a retry), per service.
ERROR_CODES = {
    GroupService.WECOM: {45009: ("rate-limited", True), 93000: ("bad-key", False)},
    GroupService.DINGTALK: {130101: ("rate-limited", True), 310000: ("refused", False),
                            300001: ("bad-key", False)},
}


def signed_url(webhook: str, secret: str, now_ms: int) -> str:
    """DingTalk's signed address: ``&timestamp=…&sign=…`` added."""
    digest = hmac.new(secret.encode(), f"{now_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{webhook}&timestamp={now_ms}&sign={sign}"


def post_text(service: str, webhook: str, secret: str, text: str) -> Delivery:
    """Post ``text`` to a group robot, as the service documents it; never raises."""
    url = signed_url(webhook, secret, int(time.time() * 1000)) if secret else webhook
    try:
        response = requests.post(url, json={"msgtype": "text", "text": {"content": text}},
                                 timeout=TIMEOUT)
    except requests.Timeout:
        return Delivery(False, "timeout", retry=True)
    except requests.RequestException as exc:
        return Delivery(False, "unreachable", retry=True, answer=type(exc).__name__)
    try:
        answer = response.json()
        code = int(answer.get("errcode", -1))
    except (ValueError, AttributeError, TypeError):
        return Delivery(False, f"http-{response.status_code}",
                        retry=response.status_code >= 500, answer=response.text[:200])
    if code == 0:
        return Delivery(True, answer=str(answer.get("errmsg", "ok"))[:200])
    error, retry = ERROR_CODES.get(service, {}).get(code, ("refused", False))
    return Delivery(False, error, retry=retry, answer=f"{code} {answer.get('errmsg', '')}"[:200])


def queue_group_message(college_id: int | None, class_name: str, kind: str, text: str, *,
                        students=(), sent_by: User | None, counsellor_id: int | None,
                        now: datetime) -> MessageLog | None:
    """Log a message to the group of a college's class, to be delivered by
    ``messages.send``; None when the class has no robot."""
    group = group_of(college_id, class_name)
    if group is None:
        return None
    log = MessageLog(sent_by_id=getattr(sent_by, "id", None), channel=group.service, kind=kind,
                     recipient=class_name, college_id=college_id,
                     counsellor_id=counsellor_id, body=text,
                     student_ids=[s.id for s in students], state=MessageState.PENDING,
                     created_at=now, next_attempt_at=now)
    db.session.add(log)
    db.session.flush()
    return log


def log_email(key_kind: str, to: str, body: str, *, sent_by: User | None,
              counsellor_id: int | None, now: datetime, students=()) -> MessageLog:
    """Log an e-mail that was handed to the mail backend."""
    log = MessageLog(sent_by_id=getattr(sent_by, "id", None), channel="email", kind=key_kind,
                     recipient=to, counsellor_id=counsellor_id, body=body,
                     student_ids=[s.id for s in students], state=MessageState.DELIVERED,
                     attempts=1, created_at=now, delivered_at=now)
    db.session.add(log)
    db.session.flush()
    return log


def _sent_last_minute(log: MessageLog, now: datetime) -> int:
    return db.session.scalar(select(func.count(MessageLog.id)).where(
        MessageLog.recipient == log.recipient, MessageLog.college_id == log.college_id,
        MessageLog.channel != "email",
        MessageLog.delivered_at > now - timedelta(minutes=1))) or 0


def deliver(log: MessageLog, now: datetime) -> str:
    """Try ``log``'s message once (unless its robot had its 20 this minute) and record the
    outcome; return its state."""
    group = group_of(log.college_id, log.recipient)
    webhook = unseal(group.webhook_encrypted) if group is not None else None
    if webhook is None:
        log.state, log.error, log.next_attempt_at = MessageState.FAILED, "no-robot", None
        db.session.flush()
        return log.state
    if _sent_last_minute(log, now) >= PER_MINUTE:
        log.next_attempt_at = now + timedelta(minutes=1)
        db.session.flush()
        return log.state
    secret = unseal(group.secret_encrypted) if group.secret_encrypted else ""
    outcome = post_text(group.service, webhook, secret or "", log.body)
    log.attempts += 1
    log.answer = outcome.answer
    if outcome.ok:
        log.state, log.error, log.delivered_at, log.next_attempt_at = (
            MessageState.DELIVERED, None, now, None)
    elif outcome.retry and log.attempts <= len(BACKOFF):
        log.error, log.next_attempt_at = outcome.error, now + BACKOFF[log.attempts - 1]
    else:
        log.state, log.error, log.next_attempt_at = MessageState.FAILED, outcome.error, None
    db.session.flush()
    return log.state


def due_messages(now: datetime) -> list[int]:
    """The ids of the messages waiting for a try that is due."""
    return list(db.session.scalars(select(MessageLog.id).where(
        MessageLog.state == MessageState.PENDING, MessageLog.next_attempt_at <= now)
        .order_by(MessageLog.id)))


@task("messages.send")
def send_messages_job(job: Job, params: dict, progress: Progress) -> dict:
    """Try each pending message of ``params["ids"]`` (without ids: those due at
    ``params["at"]``); each outcome is committed at once – a posted message cannot be taken
    back."""
    at = params.get("at")
    now = datetime.fromisoformat(at) if at else now_utc()
    ids = params.get("ids") or due_messages(now)
    progress.start(len(ids), stage="sending")
    states: dict[str, int] = {}
    for message_id in ids:
        log = db.session.get(MessageLog, message_id)
        if log is not None and log.state == MessageState.PENDING:
            state = deliver(log, now if at else now_utc())
            db.session.commit()
            states[state] = states.get(state, 0) + 1
        progress(1)
    return states


def send_soon(ids: list[int], by: User | None, now: datetime) -> Job | None:
    """Submit the delivery of the logged messages ``ids`` (commits)."""
    if not ids:
        return None
    from caretrack.jobs import submit

    return submit("messages.send", by, {"ids": ids}, total=len(ids), now=now)


# -- what the pages show -------------------------------------------------------------------------


def groups_of(college_id: int | None, class_names: list[str]) -> dict[str, ClassGroup]:
    """{class name: its robot} of a college's classes that have one."""
    if not class_names:
        return {}
    return {g.class_name: g for g in db.session.scalars(select(ClassGroup).where(
        ClassGroup.college_id == college_id, ClassGroup.class_name.in_(class_names)))}


def message_log(user: User, limit: int = 50) -> list[MessageLog]:
    """The latest messages ``user`` sent or is shown, the failed ones first."""
    from caretrack.access import message_log_filter

    return list(db.session.scalars(
        select(MessageLog).where(message_log_filter(user))
        .order_by((MessageLog.state == MessageState.FAILED).desc(), MessageLog.id.desc())
        .limit(limit)))


def failed_messages(user: User, since: datetime) -> int:
    """How many messages shown to ``user`` failed since ``since``."""
    from caretrack.access import message_log_filter

    return db.session.scalar(select(func.count(MessageLog.id)).where(
        message_log_filter(user), MessageLog.state == MessageState.FAILED,
        MessageLog.created_at >= since)) or 0


def post_to_groups(messages: dict[str, tuple[str, list]], kind: str, by: User,
                   now: datetime) -> list[int]:
    """Log ``messages`` ({class: (text, students named)}) to the groups of ``by``'s college's
    classes that have a robot; return the ids to deliver."""
    ids = []
    for class_name, (text, students) in messages.items():
        log = queue_group_message(by.college_id, class_name, kind, text, students=students,
                                  sent_by=by,
                                  counsellor_id=by.id, now=now)
        if log is not None:
            ids.append(log.id)
    return ids
