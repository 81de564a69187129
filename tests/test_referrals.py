"""The referral lifecycle as a service: every allowed step, every refused one."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from caretrack.access import can_revoke_referral
from caretrack.extensions import db
from caretrack.models import AuditEvent, EntryKind, Notification, Referral, TimelineEntry
from caretrack.services import referrals
from caretrack.services.errors import RuleError
from caretrack.services.timeline import DuplicateSubmission
from tests import factories
from tests.helpers import text_of

NOW = datetime(2020, 2, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def referral(college):
    made = referrals.refer(college.graduate, college.supervisor, college.counsellor,
                           reason="论文开题受疫情影响", urgency="urgent", now=NOW)
    db.session.commit()
    return made


def steps_of(referral) -> list[TimelineEntry]:
    return list(db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.referral_id == referral.id)
        .order_by(TimelineEntry.id)
    ))


def rows() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (TimelineEntry, Notification, AuditEvent))


def test_refer_opens_a_referral_with_its_entry_notice_and_audit(college, referral):
    assert (referral.state, referral.urgency, referral.supervisor_id, referral.referred_by_id) == (
        "open", "urgent", college.supervisor.id, college.counsellor.id)
    (entry,) = steps_of(referral)
    assert entry.kind == EntryKind.REFERRAL and entry.student_id == college.graduate.id
    assert entry.body == "论文开题受疫情影响" and entry.occurred_at == NOW
    notice = db.session.scalars(select(Notification)).one()
    assert (notice.user_id, notice.kind) == (college.supervisor.id, "referral.new")
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.detail) == ("referral.create", f"referral:{referral.id}")
    assert "论文" not in event.detail


def test_any_supervisor_may_be_chosen(college):
    other = factories.SupervisorFactory()
    made = referrals.refer(college.own_student, other, college.counsellor, reason="考研压力")
    assert made.supervisor_id == other.id and made.state == "open"


@pytest.mark.parametrize("case", ["other counsellor", "deputy", "not a supervisor", "inactive",
                                  "no reason", "already referred"])
def test_refer_refusals_write_nothing(college, referral, case):
    by, supervisor, reason = college.counsellor, college.supervisor, "论文"
    student = college.graduate
    expected = "already-referred"
    if case == "other counsellor":
        by, expected = college.other_counsellor, "not-allowed"
    elif case == "deputy":
        by, expected = college.deputy, "not-allowed"
    elif case == "not a supervisor":
        supervisor, expected = college.other_counsellor, "not-a-supervisor"
    elif case == "inactive":
        supervisor = factories.SupervisorFactory(active=False)
        expected = "not-a-supervisor"
    elif case == "no reason":
        student, reason, expected = college.own_student, "  ", "no-reason"
    before = rows()
    with pytest.raises(RuleError) as error:
        referrals.refer(student, supervisor, by, reason=reason)
    assert error.value.code == expected
    assert rows() == before
    assert db.session.scalar(select(func.count(Referral.id))) == 1


def test_accept_respond_often_then_done(college, referral):
    later = NOW + timedelta(days=1)
    referrals.accept(referral, college.supervisor, note="好的", now=later)
    assert referral.state == "accepted" and referral.closed_at is None
    for n in range(3):
        referrals.respond(referral, college.supervisor, body=f"线上指导第{n + 1}次",
                          now=later + timedelta(days=n))
    referrals.mark_done(referral, college.supervisor, now=later + timedelta(days=5))
    assert referral.state == "done" and referral.closed_at == later + timedelta(days=5)
    kinds = [(e.kind, e.details.get("action")) for e in steps_of(referral)]
    assert kinds == [("referral", None), ("referral_step", "accepted")] + [
        ("referral_step", "responded")] * 3 + [("referral_step", "done")]
    assert all(e.referral_id == referral.id for e in steps_of(referral))
    notices = db.session.scalars(select(Notification).where(
        Notification.user_id == college.counsellor.id)).all()
    assert len(notices) == 5 and {n.kind for n in notices} == {"referral.response"}


def test_decline_needs_a_reason_and_closes(college, referral):
    with pytest.raises(RuleError) as error:
        referrals.decline(referral, college.supervisor, reason="")
    assert error.value.code == "no-reason"
    referrals.decline(referral, college.supervisor, reason="方向不符", now=NOW)
    assert referral.state == "declined" and referral.closed_at == NOW
    assert steps_of(referral)[-1].body == "方向不符"


@pytest.mark.parametrize("state, step, code", [
    ("declined", "mark_done", "referral-not-accepted"),
    ("declined", "accept", "referral-not-open"),
    ("declined", "respond", "referral-not-accepted"),
    ("declined", "revoke", "referral-not-open"),
    ("open", "mark_done", "referral-not-accepted"),
    ("open", "respond", "referral-not-accepted"),
    ("accepted", "accept", "referral-not-open"),
    ("accepted", "decline", "referral-not-open"),
    ("accepted", "revoke", "referral-not-open"),
    ("done", "respond", "referral-not-accepted"),
    ("done", "mark_done", "referral-not-accepted"),
    ("done", "revoke", "referral-not-open"),
    ("revoked", "accept", "referral-not-open"),
    ("revoked", "mark_done", "referral-not-accepted"),
    ("revoked", "revoke", "referral-not-open"),
])
def test_refused_transitions_change_nothing(college, referral, state, step, code):
    if state in ("accepted", "done"):
        referrals.accept(referral, college.supervisor)
    if state == "done":
        referrals.mark_done(referral, college.supervisor)
    if state == "declined":
        referrals.decline(referral, college.supervisor, reason="方向不符")
    if state == "revoked":
        referrals.revoke(referral, college.counsellor)
    db.session.commit()
    before = rows()
    actor = college.counsellor if step == "revoke" else college.supervisor
    kwargs = {"revoke": {}, "accept": {}, "mark_done": {}, "respond": {"body": "回复"},
              "decline": {"reason": "不合适"}}[step]
    with pytest.raises(RuleError) as error:
        getattr(referrals, step)(referral, actor, **kwargs)
    assert error.value.code == code
    assert referral.state == state and rows() == before


def test_only_its_supervisor_takes_the_supervisor_steps(college, referral):
    other = factories.SupervisorFactory()
    for actor in (other, college.counsellor, college.deputy):
        for step, kwargs in (("accept", {}), ("decline", {"reason": "x"})):
            with pytest.raises(RuleError) as error:
                getattr(referrals, step)(referral, actor, **kwargs)
            assert error.value.code == "not-the-supervisor"
    referrals.accept(referral, college.supervisor)
    with pytest.raises(RuleError):
        referrals.respond(referral, other, body="x")
    with pytest.raises(RuleError):
        referrals.mark_done(referral, college.deputy)
    assert referral.state == "accepted"


def test_revoke_only_by_the_referring_counsellor_or_the_deputy(college, referral):
    for actor in (college.supervisor, college.other_counsellor, college.admin):
        with pytest.raises(RuleError) as error:
            referrals.revoke(referral, actor)
        assert error.value.code == "not-allowed"
    assert can_revoke_referral(college.counsellor, referral)
    assert can_revoke_referral(college.deputy, referral)
    assert not can_revoke_referral(college.supervisor, referral)
    referrals.revoke(referral, college.deputy, reason="重复转介", now=NOW)
    assert referral.state == "revoked" and referral.closed_at == NOW
    assert not can_revoke_referral(college.counsellor, referral)
    revoked = db.session.scalars(select(Notification).where(
        Notification.kind == "referral.revoked")).one()
    assert revoked.user_id == college.supervisor.id


def test_the_same_step_posted_twice_is_recorded_once(college, referral):
    referrals.accept(referral, college.supervisor, submission_key="accept-1")
    before = rows()
    with pytest.raises(DuplicateSubmission):
        referrals.accept(referral, college.supervisor, submission_key="accept-1")
    with pytest.raises(DuplicateSubmission):
        referrals.respond(referral, college.supervisor, body="x", submission_key="accept-1")
    assert rows() == before


def test_every_step_is_on_the_students_timeline(client, auth, college, referral):
    referrals.accept(referral, college.supervisor, note="好的，我来跟进")
    referrals.respond(referral, college.supervisor, body="已开展线上论文指导")
    referrals.mark_done(referral, college.supervisor, note="进度恢复")
    db.session.commit()
    auth.login(college.counsellor)
    zh = text_of(client.get(f"/students/{college.graduate.id}?lang=zh_CN"))
    assert "接受了转介" in zh and "已开展线上论文指导" in zh and "将转介标记为完成" in zh
    assert "转介给王教授" in zh and "当前：已完成" in zh
    en = text_of(client.get(f"/students/{college.graduate.id}?lang=en"))
    assert "Accepted the referral" in en and "Responded" in en
    assert "Marked the referral done" in en and "Now Done" in en


# -- the revoke form on the student page --------------------------------------------------------


def test_counsellor_revokes_from_the_student_page(client, auth, college, referral):
    auth.login(college.counsellor)
    page = client.get(f"/students/{college.graduate.id}").get_data(as_text=True)
    url = f"/students/{college.graduate.id}/referrals/{referral.id}/revoke"
    assert f'href="{url}"' in page
    assert client.post(url, data={"reason": "学生已自行联系导师"}).status_code == 302
    assert db.session.get(Referral, referral.id).state == "revoked"
    page = text_of(client.get(f"/students/{college.graduate.id}"))
    assert "撤回了转介" in page and "学生已自行联系导师" in page
    assert url not in client.get(f"/students/{college.graduate.id}").get_data(as_text=True)
    # Revoking again: a conflict (409), the referral is no longer open, said next to the
    # field, which keeps what was typed.
    again = client.post(url, data={"reason": "再撤一次"})
    assert again.status_code == 409 and "这条转介已不再是待处理状态" in text_of(again)
    assert "再撤一次" in again.get_data(as_text=True)


def test_deputy_revokes_from_the_student_page(client, auth, college, referral):
    auth.login(college.deputy)
    url = f"/students/{college.graduate.id}/referrals/{referral.id}/revoke"
    assert url in client.get(f"/students/{college.graduate.id}").get_data(as_text=True)
    assert client.post(url, data={"reason": "重复转介"}).status_code == 302
    assert db.session.get(Referral, referral.id).state == "revoked"


def test_a_counsellor_who_did_not_refer_cannot_revoke(client, auth, college, referral):
    college.graduate.counsellor = college.other_counsellor
    db.session.commit()
    auth.login(college.other_counsellor)
    url = f"/students/{college.graduate.id}/referrals/{referral.id}/revoke"
    assert url not in client.get(f"/students/{college.graduate.id}").get_data(as_text=True)
    response = client.post(url + "?lang=zh_CN", data={"reason": "撤回"})
    assert "你不能为该学生进行此操作" in text_of(response)
    assert db.session.get(Referral, referral.id).state == "open"


def test_the_supervisor_cannot_use_the_revoke_form(client, auth, college, referral):
    auth.login(college.supervisor)
    url = f"/students/{college.graduate.id}/referrals/{referral.id}/revoke"
    assert client.post(url, data={"reason": "x"}).status_code == 404
    assert db.session.get(Referral, referral.id).state == "open"


def test_the_referral_form_says_at_once_that_one_is_open_and_links_to_it(
        client, auth, college, referral):
    auth.login(college.counsellor)
    url = f"/students/{college.graduate.id}/referrals/new"
    page = client.get(url)
    body, shown = page.get_data(as_text=True), text_of(page)
    assert "赵研究 已有进行中的转介：" in shown
    assert f'<a href="/referrals/{referral.id}">转介给 王教授</a>' in body
    assert "同一导师有进行中的转介时不能再次转介" in shown
    # A student without an open referral: no such notice.
    assert "进行中的转介" not in text_of(client.get(
        f"/students/{college.own_student.id}/referrals/new"))
