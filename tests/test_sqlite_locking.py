"""Reads take no write lock, writes take it at once (tests/test_app.py checks how SQLite
connections begin): pages under threads never answer "database is locked"."""

import threading

from flask.testing import FlaskClient
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import AuditEvent, TimelineEntry
from tests import factories

FOLLOW_UP = {
    "occurred_at": "2020-02-10T10:30", "channel": "phone", "reached": "1", "health": "normal",
    "body": "电话联系，情况正常", "check_again_in_days": "3", "next": "",
}


def test_student_pages_and_follow_ups_under_threads_all_answer(app, college, make_app):
    students = [college.own_student] + [
        factories.StudentFactory(counsellor=college.counsellor) for _ in range(3)]
    db.session.commit()
    username, student_ids = college.counsellor.username, [s.id for s in students]
    served = make_app()
    served.test_client_class = FlaskClient  # each thread its own client, no shared session
    outcomes: list[tuple[str, int]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        client = served.test_client()
        client.post("/login", data={"username": username, "password": factories.PASSWORD,
                                    "next": ""})
        student_id = student_ids[n % len(student_ids)]
        for k in range(8):
            try:
                if n % 3 == 0:
                    response = client.post(f"/students/{student_id}/follow-ups/new",
                                           data=FOLLOW_UP | {"submission_key": f"t{n}-{k}"})
                    outcome = ("post", response.status_code)
                else:
                    response = client.get(f"/students/{student_id}")
                    outcome = ("view", response.status_code)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                with lock:
                    failures.append(repr(exc))
                continue
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert sorted(set(outcomes)) == [("post", 302), ("view", 200)]
    views = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "student.view", AuditEvent.user_id == college.counsellor.id))
    follow_ups = db.session.scalar(select(func.count(TimelineEntry.id)).where(
        TimelineEntry.kind == "follow_up"))
    assert views == sum(1 for what, _ in outcomes if what == "view") == 4 * 8
    assert follow_ups == 2 * 8
