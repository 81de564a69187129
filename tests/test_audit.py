"""The admin's audit log: browse with filters, never change."""

from datetime import UTC, datetime, timedelta

import pytest

from caretrack.extensions import db
from caretrack.models import AuditEvent
from tests import factories
from tests.helpers import count_queries, text_of


def event(action, user, student=None, at=datetime(2020, 2, 10, 2, 0, tzinfo=UTC), detail=""):
    made = AuditEvent(action=action, user_id=user.id if user else None,
                      student_id=student.id if student else None, occurred_at=at,
                      ip="10.0.0.8", detail=detail)
    db.session.add(made)
    return made


@pytest.fixture
def log(college):
    event("login", college.counsellor, at=datetime(2020, 2, 9, 1, 0, tzinfo=UTC))
    event("student.view", college.counsellor, college.own_student)
    event("follow_up.create", college.counsellor, college.own_student, detail="entry:7",
          at=datetime(2020, 2, 10, 17, 0, tzinfo=UTC))  # 2020-02-11 01:00 in Beijing
    event("student.view", college.deputy, college.other_student,
          at=datetime(2020, 2, 12, 3, 0, tzinfo=UTC))
    db.session.commit()


def rows_of(response) -> list[str]:
    body = response.get_data(as_text=True)
    return [part.split("</tr>")[0] for part in body.split('<tr data-event-id="')[1:]]


def test_the_admin_reads_who_did_what_to_whom(client, auth, college, log):
    auth.login(college.admin)
    page = text_of(client.get("/admin/audit"))
    assert "审计日志" in page and "5 条日志" in page  # the admin's own sign-in is the 5th
    assert "记录跟进 follow_up.create" in page and "李老师" in page
    assert college.own_student.student_number + " 陈小明" in page and "entry:7" in page
    assert "10.0.0.8" in page and "2020-02-11 01:00:00" in page
    en = text_of(client.get("/admin/audit?lang=en"))
    assert "Audit log" in en and "Logged a follow-up follow_up.create" in en


def test_filters_by_user_action_student_and_dates(client, auth, college, log):
    auth.login(college.admin)
    by_user = rows_of(client.get(f"/admin/audit?user={college.deputy.id}"))
    assert len(by_user) == 1 and "刘小红" in by_user[0]
    by_action = rows_of(client.get("/admin/audit?action=student.view"))
    assert len(by_action) == 2
    number = college.own_student.student_number
    assert number.startswith("0")  # leading zeros are kept when filtering
    by_student = rows_of(client.get(f"/admin/audit?student_number={number}"))
    assert len(by_student) == 2 and all("陈小明" in r for r in by_student)
    assert rows_of(client.get(f"/admin/audit?student_number={number.lstrip('0')}")) == []
    # Dates are the college's days: 17:00 UTC on the 10th is the 11th in Beijing.
    day = rows_of(client.get("/admin/audit?date_from=2020-02-11&date_to=2020-02-11"))
    assert len(day) == 1 and "follow_up.create" in day[0]
    span = rows_of(client.get("/admin/audit?date_from=2020-02-10&date_to=2020-02-12"))
    assert len(span) == 3
    combined = rows_of(client.get(
        f"/admin/audit?user={college.counsellor.id}&action=student.view&date_to=2020-02-10"))
    assert len(combined) == 1


def test_a_bad_date_is_named_and_ignored(client, auth, college, log):
    auth.login(college.admin)
    response = client.get("/admin/audit?date_from=2020-13-45")
    assert response.status_code == 200
    assert "日期格式不正确" in text_of(response) and len(rows_of(response)) == 5


def test_the_log_is_paginated_in_sql_with_constant_queries(client, auth, college):
    auth.login(college.admin)

    def measure(n):
        start = datetime(2020, 2, 1, tzinfo=UTC)
        for i in range(n):
            student = factories.StudentFactory(counsellor=college.counsellor)
            event("student.view", college.counsellor, student, at=start + timedelta(minutes=i))
        db.session.commit()
        with count_queries() as counter:
            response = client.get("/admin/audit")
        assert response.status_code == 200
        return counter.count, response

    small, _ = measure(5)
    large, response = measure(120)
    assert small == large
    assert len(rows_of(response)) == 50
    assert "下一页" in text_of(response)
    assert len(rows_of(client.get("/admin/audit?page=3"))) == 126 - 100


def test_nobody_changes_the_log(app, client, auth, college, log):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin/audit")]
    assert rules and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules
                         if not r.endpoint.startswith("admin.audit_export"))
    auth.login(college.admin)
    assert client.post("/admin/audit", data={"action": "x"}).status_code == 405
    for user in (college.counsellor, college.deputy, college.supervisor):
        auth.logout()
        auth.login(user)
        assert client.get("/admin/audit").status_code == 404


def test_markup_in_a_detail_is_shown_literally(client, auth, college):
    event("login.failed", None, detail="<img src=x onerror=alert(1)>")
    db.session.commit()
    auth.login(college.admin)
    body = client.get("/admin/audit").get_data(as_text=True)
    assert "<img src=x onerror=alert(1)>" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def _actions_the_code_records() -> set[str]:
    """Every action code the app writes: the literal ones passed to the audit, and those it
    builds (a referral's steps, a report's decision, a rule suggestion's answer)."""
    import re
    from pathlib import Path

    from caretrack.services.bulk import Action
    from caretrack.services.referrals import ReferralStep
    from caretrack.services.return_requests import ReturnStep

    source = "\n".join(p.read_text(encoding="utf-8")
                       for p in Path("caretrack").rglob("*.py"))
    literal = set(re.findall(r'(?:record_event|_audit)\(\s*"([a-z_.]+)"', source))
    literal |= set(re.findall(r'action(?: =|=)\s*"([a-z_]+\.[a-z_.]+)"', source))
    built = {f"referral.{step}" for step in ReferralStep}
    built |= {f"return.{step}" for step in ReturnStep}
    # A bulk action's one event (the export is audited as "export", the transfer as
    # "student.transfer").
    built |= {f"bulk.{action}" for action in Action
              if action not in (Action.EXPORT, Action.TRANSFER)}
    built |= {"daily_report.approve", "daily_report.return", "status_suggestion.apply",
              "status_suggestion.dismiss"}
    assert "daily_report.approve" in source and "status_suggestion.dismiss" in source
    return literal | built


def test_every_recorded_action_has_a_name_in_both_languages(app):
    from flask_babel import force_locale

    from caretrack.admin.audit import ACTION_LABELS

    actions = _actions_the_code_records()
    assert len(actions) > 40
    assert actions - set(ACTION_LABELS) == set()
    with app.test_request_context(), force_locale("zh_CN"):
        chinese = {a: str(ACTION_LABELS[a]) for a in actions}
    with app.test_request_context(), force_locale("en"):
        english = {a: str(ACTION_LABELS[a]) for a in actions}
    untranslated = [a for a in actions if chinese[a] == english[a]]
    assert untranslated == []
    assert chinese["daily_report.approve"] == "批准日报"


def test_the_filter_and_the_rows_name_actions_in_chinese(client, auth, college):
    event("review.create", college.deputy, college.own_student)
    event("daily_status.record", college.counsellor, college.own_student)
    db.session.commit()
    auth.login(college.admin)
    page = text_of(client.get("/admin/audit"))
    assert "审阅学生 · review.create" in page
    assert "记录每日状态" in page
