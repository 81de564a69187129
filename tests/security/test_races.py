"""Finding 6: concurrent changes never give a 5xx; a stale write is a 409 that shows what
changed and keeps what was typed; a stale referral step is a 409, not a 400."""

import threading
import uuid

from flask.testing import FlaskClient
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import ConcernChange
from caretrack.services.errors import RuleError
from tests import factories


def signed_in_client(app, user):
    client = FlaskClient(app, use_cookies=True)
    response = client.post("/login", data={"username": user.username,
                                           "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def test_five_concurrent_concern_changes_give_no_5xx(app, college):
    student_id = college.own_student.id
    user = college.counsellor
    barrier = threading.Barrier(5)
    answers: list[tuple[int, str]] = []

    def change(n):
        # in the thread, each request has an app context of its own, as in production
        client = signed_in_client(app, user)
        barrier.wait()
        response = client.post(f"/students/{student_id}/concern", data={
            "level": ("elevated", "high")[n % 2], "reason": f"理由 {n}",
            "submission_key": uuid.uuid4().hex})
        answers.append((response.status_code, response.get_data(as_text=True)
                        + response.headers.get("Location", "")))

    for _ in range(3):  # 15 changes in all, five at a time
        threads = [threading.Thread(target=change, args=(n,)) for n in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    statuses = sorted(status for status, _ in answers)
    print("concurrent concern changes:", statuses)
    assert len(statuses) == 15
    assert all(status < 500 for status in statuses), statuses
    assert set(statuses) <= {200, 302, 409}
    assert 302 in statuses
    for status, body in answers:
        if status == 409:  # the form again: what happened, and the typed reason kept
            assert "有人同时改动了这里" in body
            assert "理由 " in body
    db.session.rollback()  # end the test's own read, to see what the requests committed
    saved = db.session.scalars(select(ConcernChange)).all()
    assert len(saved) == statuses.count(302), [b[-80:] for s, b in answers if s != 409]


def test_a_stale_rule_error_is_a_conflict_whatever_raises_it():
    assert RuleError("referral-stale").conflict
    assert RuleError("stale").conflict
    assert not RuleError("referral-not-open").conflict


def test_a_stale_referral_step_answers_409_and_keeps_the_text(client, auth, college):
    from caretrack.services import referrals

    referral = referrals.refer(college.graduate, college.supervisor, college.counsellor,
                               reason="需要导师关注")
    db.session.commit()
    auth.login(college.supervisor)
    page = client.get(f"/referrals/{referral.id}")
    assert page.status_code == 200
    referrals.decline(referral, college.supervisor, reason="另一个窗口里拒绝了")  # meanwhile
    db.session.commit()
    response = client.post(f"/referrals/{referral.id}/accept",
                           data={"note": "我来跟进", "submission_key": uuid.uuid4().hex})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "已拒绝" in body or "不再" in body  # the referral as it is now, and why
