"""The deputy secretary's review queue: its order, each decision's effect, the timeline."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import EntryKind, Notification, Recheck, TimelineEntry
from caretrack.services.errors import RuleError
from caretrack.services.review import queue_query, review_student
from tests import factories
from tests.helpers import count_queries, text_of

NOW = datetime(2020, 2, 20, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


@pytest.fixture
def queue(college):
    """Three high-concern students of two counsellors, reviewed at different times."""
    never = factories.StudentFactory(counsellor=college.counsellor, name="从未审阅",
                                     concern_level="high")
    old = factories.StudentFactory(counsellor=college.other_counsellor, name="很久以前",
                                   concern_level="high",
                                   last_reviewed_at=NOW - timedelta(days=5))
    recent = factories.StudentFactory(counsellor=college.counsellor, name="昨天审阅",
                                      concern_level="high",
                                      last_reviewed_at=NOW - timedelta(days=1))
    db.session.commit()
    return never, old, recent


def test_queue_puts_the_longest_without_review_first(app, college, queue):
    never, old, recent = queue
    names = [s.name for s in db.session.scalars(queue_query(college.deputy))]
    assert names == ["从未审阅", "很久以前", "昨天审阅"]


def test_queue_page_shows_rows_with_their_latest_entries(client, auth, college, queue):
    never, old, recent = queue
    from caretrack.services.timeline import add_entry

    add_entry(never, EntryKind.NOTE, college.counsellor, body="电话未接通，明天再联系", now=NOW)
    db.session.commit()
    auth.login(college.deputy)
    page = text_of(client.get("/review/"))
    assert page.index("从未审阅") < page.index("很久以前") < page.index("昨天审阅")
    assert "电话未接通，明天再联系" in page
    assert "陈小明" not in page  # normal concern, not flagged


def test_counsellor_flag_puts_a_student_in_the_queue(client, auth, college):
    auth.login(college.counsellor)
    response = client.post(f"/review/flag/{college.own_student.id}",
                           data={"reason": "连续三天情绪低落"})
    assert response.status_code == 302
    db.session.refresh(college.own_student)
    assert college.own_student.flagged_for_review
    assert college.own_student.concern_level == "normal"
    auth.logout()
    auth.login(college.deputy)
    page = text_of(client.get("/review/"))
    assert "陈小明" in page and "待审阅标记" in page


def test_review_keep_records_an_entry_and_moves_the_student_back(client, auth, college, queue):
    never, old, recent = queue
    auth.login(college.deputy)
    response = client.post(f"/review/{never.id}", data={
        "note": "已与辅导员沟通，继续密切关注", "decision": "keep", "submission_key": "k1"})
    assert response.status_code == 302
    db.session.refresh(never)
    assert never.concern_level == "high" and never.last_reviewed_at is not None
    entry = db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.student_id == never.id, TimelineEntry.kind == EntryKind.REVIEW)).one()
    assert entry.body == "已与辅导员沟通，继续密切关注"
    assert entry.details["decision"] == "keep"
    names = [s.name for s in db.session.scalars(queue_query(college.deputy))]
    assert names[-1] == "从未审阅"


@pytest.mark.parametrize("decision, level", [("lower_elevated", "elevated"),
                                             ("lower_normal", "normal")])
def test_review_lowering_changes_the_level(app, college, queue, decision, level):
    never = queue[0]
    review_student(never, college.deputy, note="症状消失", decision=decision, now=NOW)
    db.session.commit()
    assert never.concern_level == level
    kinds = set(db.session.scalars(select(TimelineEntry.kind).where(
        TimelineEntry.student_id == never.id)))
    assert {EntryKind.REVIEW, EntryKind.CONCERN_CHANGE} <= kinds
    if level == "normal":
        assert never not in db.session.scalars(queue_query(college.deputy)).all()


def test_asking_the_counsellor_creates_their_recheck_and_badge(client, auth, college, queue):
    old = queue[1]  # a student of the other counsellor
    review_student(old, college.deputy, note="请本周内电话家访", decision="ask_counsellor",
                   act_by=date(2020, 2, 23), now=NOW)
    db.session.commit()
    recheck = db.session.scalars(select(Recheck).where(Recheck.student_id == old.id)).one()
    assert recheck.owner_id == college.other_counsellor.id
    assert recheck.due_on == date(2020, 2, 23)
    assert recheck.reason == "请本周内电话家访" and recheck.origin == "review"
    note = db.session.scalars(select(Notification)).one()
    assert note.user_id == college.other_counsellor.id and note.kind == "review.request"


def test_asking_without_a_date_is_refused_next_to_the_field(client, auth, college, queue):
    never = queue[0]
    auth.login(college.deputy)
    response = client.post(f"/review/{never.id}", data={
        "note": "请尽快跟进", "decision": "ask_counsellor", "submission_key": "k2"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "请填写辅导员需完成跟进的日期" in body
    assert "请尽快跟进" in body  # what was typed is kept
    assert not db.session.scalars(select(TimelineEntry)).all()


def test_a_past_date_is_refused(app, college, queue):
    with pytest.raises(RuleError):
        review_student(queue[0], college.deputy, note="x", decision="ask_counsellor",
                       act_by=date(2020, 2, 19), now=NOW)


def test_double_submit_records_one_review(client, auth, college, queue):
    never = queue[0]
    auth.login(college.deputy)
    data = {"note": "继续关注", "decision": "keep", "submission_key": "same-key"}
    client.post(f"/review/{never.id}", data=data)
    client.post(f"/review/{never.id}", data=data)
    entries = db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.kind == EntryKind.REVIEW)).all()
    assert len(entries) == 1


def test_review_queue_queries_do_not_grow(client, auth, college):
    auth.login(college.deputy)

    def measure(n):
        for student in factories.StudentFactory.create_batch(n, counsellor=college.counsellor,
                                                             concern_level="high"):
            from caretrack.services.timeline import add_entry

            add_entry(student, EntryKind.NOTE, college.counsellor, body="记录", now=NOW)
        db.session.commit()
        with count_queries() as counter:
            assert client.get("/review/").status_code == 200
        return counter.count

    assert measure(3) == measure(30)


def test_review_request_badge_clears_when_the_counsellor_opens_rechecks(client, auth, college,
                                                                         queue):
    review_student(queue[0], college.deputy, note="请三天内家访", decision="ask_counsellor",
                   act_by=date(2099, 1, 1))
    db.session.commit()
    auth.login(college.counsellor)
    home = client.get("/").get_data(as_text=True)
    assert 'data-badge="1"' in home
    page = text_of(client.get("/rechecks/"))
    assert "请三天内家访" in page
    assert "data-badge" not in client.get("/").get_data(as_text=True)
