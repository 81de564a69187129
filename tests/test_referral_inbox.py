"""The supervisor's inbox and the referral thread, seen from both sides."""

import pytest
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import EntryKind, Referral, TimelineEntry
from caretrack.services import referrals as lifecycle
from caretrack.services.timeline import add_entry
from tests import factories
from tests.helpers import count_queries, text_of


@pytest.fixture
def referral(college):
    made = lifecycle.refer(college.graduate, college.supervisor, college.counsellor,
                           reason="论文开题受疫情影响，非常焦虑", urgency="urgent")
    db.session.commit()
    return made


def test_supervisor_inbox_lists_exactly_their_referrals(client, auth, college, referral):
    other_supervisor = factories.SupervisorFactory()
    stranger = factories.StudentFactory(counsellor=college.counsellor, name="别人的学生",
                                        programme="phd")
    lifecycle.refer(stranger, other_supervisor, college.counsellor, reason="实验无法开展")
    db.session.commit()
    auth.login(college.supervisor)
    page = text_of(client.get("/referrals/"))
    assert "赵研究" in page and "紧急" in page and "别人的学生" not in page


def test_new_referral_badge_clears_when_seen(client, auth, college, referral):
    auth.login(college.supervisor)
    body = client.get("/referrals/").get_data(as_text=True)
    assert 'data-badge="1"' in body
    client.get(f"/referrals/{referral.id}")
    assert "data-badge" not in client.get("/referrals/").get_data(as_text=True)


def test_accept_respond_done_lands_on_the_timeline_and_the_counsellor_sees_it(
        client, auth, college, referral):
    auth.login(college.supervisor)
    assert client.post(f"/referrals/{referral.id}/accept",
                       data={"accept-note": "", "accept-submission_key": "a1"}).status_code == 302
    client.post(f"/referrals/{referral.id}/respond",
                data={"respond-body": "已进行线上论文指导，调整了开题计划",
                      "respond-submission_key": "r1"})
    client.post(f"/referrals/{referral.id}/done",
                data={"done-note": "学生情绪平稳", "done-submission_key": "d1"})
    db.session.refresh(referral)
    assert referral.state == "done"
    steps = db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.referral_id == referral.id).order_by(TimelineEntry.id)).all()
    assert [s.details.get("action") for s in steps[1:]] == ["accepted", "responded", "done"]
    assert all(s.student_id == college.graduate.id for s in steps)
    auth.logout()
    auth.login(college.counsellor)
    page = text_of(client.get(f"/referrals/{referral.id}"))
    assert "已进行线上论文指导，调整了开题计划" in page and "学生情绪平稳" in page
    assert "已完成" in page
    english = text_of(client.get(f"/referrals/{referral.id}?lang=en"))
    assert "accepted the referral" in english and "marked the referral done" in english


def test_counsellor_sees_the_response_badge(client, auth, college, referral):
    lifecycle.accept(referral, college.supervisor)
    db.session.commit()
    auth.login(college.counsellor)
    assert 'data-badge="1"' in client.get("/").get_data(as_text=True)


def test_decline_needs_a_reason_and_keeps_nothing(client, auth, college, referral):
    auth.login(college.supervisor)
    response = client.post(f"/referrals/{referral.id}/decline",
                           data={"decline-reason": "", "decline-submission_key": "x"})
    assert response.status_code == 400
    db.session.refresh(referral)
    assert referral.state == "open"


@pytest.mark.parametrize("close", ["decline", "revoke"])
def test_declined_or_revoked_ends_supervisor_access_to_the_student(
        client, auth, college, referral, close):
    auth.login(college.supervisor)
    assert client.get(f"/students/{college.graduate.id}").status_code == 200
    if close == "decline":
        lifecycle.decline(referral, college.supervisor, reason="研究方向不符")
    else:
        lifecycle.revoke(referral, college.counsellor, reason="学生已恢复")
    db.session.commit()
    assert client.get(f"/students/{college.graduate.id}").status_code == 404
    assert "赵研究" in text_of(client.get("/referrals/"))  # the inbox keeps the history
    assert client.get(f"/referrals/{referral.id}").status_code == 200


def test_supervisor_never_sees_other_timeline_entries(client, auth, college, referral):
    add_entry(college.graduate, EntryKind.NOTE, college.counsellor, body="家庭经济困难的私密记录")
    db.session.commit()
    auth.login(college.supervisor)
    for url in (f"/referrals/{referral.id}", "/referrals/"):
        assert "家庭经济困难的私密记录" not in client.get(url).get_data(as_text=True)


def test_supervisor_cannot_revoke_and_a_step_out_of_order_is_a_conflict(
        client, auth, college, referral):
    auth.login(college.supervisor)
    assert client.post(f"/referrals/{referral.id}/revoke",
                       data={"revoke-reason": "x"}).status_code == 404
    assert client.post(f"/referrals/{referral.id}/done",
                       data={"done-note": ""}).status_code == 409
    db.session.refresh(referral)
    assert referral.state == "open"


def test_deputy_can_revoke_an_open_referral(client, auth, college, referral):
    auth.login(college.deputy)
    response = client.post(f"/referrals/{referral.id}/revoke",
                           data={"revoke-reason": "重复转介", "revoke-submission_key": "k"})
    assert response.status_code == 302
    assert db.session.get(Referral, referral.id).state == "revoked"


def test_inbox_queries_do_not_grow(client, auth, college):
    auth.login(college.supervisor)

    def measure(n):
        for student in factories.StudentFactory.create_batch(n, counsellor=college.counsellor,
                                                             programme="master"):
            lifecycle.refer(student, college.supervisor, college.counsellor, reason="论文")
        db.session.commit()
        with count_queries() as counter:
            assert client.get("/referrals/").status_code == 200
        return counter.count

    assert measure(2) == measure(25)
