"""flask rechecks digest: each counsellor gets their overdue and due-today re-checks, once a day."""

from datetime import date

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import SentMessage
from caretrack.services import digest, mail, rechecks
from tests import factories
from tests.helpers import count_queries

DAY = date(2020, 3, 3)


@pytest.fixture(autouse=True)
def empty_outbox():
    mail.outbox.clear()
    yield
    mail.outbox.clear()


def add(student, due_on, reason=""):
    return rechecks.schedule(student, due_on=due_on, reason=reason, origin="manual",
                             by=student.counsellor)


def body_of(message) -> str:
    return message.get_content()


@pytest.fixture
def due(college):
    c = college
    add(c.own_student, date(2020, 3, 1), "约好回电确认返京日期")  # overdue
    add(c.graduate, DAY, "论文进度")  # due today
    add(c.graduate, date(2020, 3, 4), "明天的")  # not yet
    done = add(factories.StudentFactory(counsellor=c.counsellor, name="孙已完成"), date(2020, 3, 1))
    done.state = "done"
    add(c.other_student, DAY, "张老师的学生")
    db.session.commit()


def test_each_counsellor_gets_their_own_students(runner, college, due):
    result = runner.invoke(args=["rechecks", "digest", "--date", "2020-03-03"])
    assert result.exit_code == 0, result.output
    by_recipient = {m["To"]: m for m in mail.outbox}
    assert set(by_recipient) == {college.counsellor.email, college.other_counsellor.email}

    mine = by_recipient[college.counsellor.email]
    assert mine["Subject"] == "CareTrack 2020-03-03：逾期 1 条，今天到期 1 条"
    body = body_of(mine)
    assert "李老师，您好" in body
    assert "陈小明" in body and "约好回电确认返京日期" in body
    assert "赵研究" in body and "论文进度" in body
    assert "明天的" not in body and "孙已完成" not in body and "刘小红" not in body
    assert body.index("陈小明") < body.index("赵研究")  # overdue first
    assert f"/students/{college.own_student.id}" in body

    theirs = body_of(by_recipient[college.other_counsellor.email])
    assert "刘小红" in theirs and "陈小明" not in theirs
    assert "2 sent" in result.output


def test_nothing_is_sent_twice_for_a_day(runner, college, due):
    runner.invoke(args=["rechecks", "digest", "--date", "2020-03-03"])
    assert len(mail.outbox) == 2
    again = runner.invoke(args=["rechecks", "digest", "--date", "2020-03-03"])
    assert again.exit_code == 0
    assert len(mail.outbox) == 2
    assert "0 sent, 2 sent before" in again.output
    assert db.session.scalar(select(func.count(SentMessage.id))) == 2
    # The next day is another digest.
    runner.invoke(args=["rechecks", "digest", "--date", "2020-03-04"])
    assert len(mail.outbox) == 4


def test_a_counsellor_with_nothing_due_gets_no_email(runner, college):
    add(college.own_student, date(2020, 3, 9))
    db.session.commit()
    result = runner.invoke(args=["rechecks", "digest", "--date", "2020-03-03"])
    assert result.exit_code == 0 and mail.outbox == []


def test_the_email_is_in_the_counsellors_language(runner, college, due):
    college.counsellor.locale = "en"
    db.session.commit()
    runner.invoke(args=["rechecks", "digest", "--date", "2020-03-03"])
    mine = next(m for m in mail.outbox if m["To"] == college.counsellor.email)
    assert mine["Subject"] == "CareTrack 2020-03-03: 1 overdue, 1 due today"
    assert "Hello 李老师," in body_of(mine) and "Added by hand" in body_of(mine)


def test_a_counsellor_without_email_is_skipped_and_named(runner, college, due):
    college.counsellor.email = None
    db.session.commit()
    result = runner.invoke(args=["rechecks", "digest", "--date", "2020-03-03"])
    assert result.exit_code == 0
    assert [m["To"] for m in mail.outbox] == [college.other_counsellor.email]
    assert f"{college.counsellor.username}: no email address" in result.output


def test_a_failed_delivery_is_retried_on_the_next_run(runner, college, due, monkeypatch):
    def broken(message):
        raise OSError("mail server down")

    monkeypatch.setattr(mail, "deliver", broken)
    result = runner.invoke(args=["rechecks", "digest", "--date", "2020-03-03"])
    assert result.exit_code == 1 and "mail server down" in result.output
    assert db.session.scalar(select(func.count(SentMessage.id))) == 0
    monkeypatch.undo()
    runner.invoke(args=["rechecks", "digest", "--date", "2020-03-03"])
    assert len(mail.outbox) == 2


def test_the_date_defaults_to_the_colleges_today(runner, college):
    from caretrack.models import now_utc
    from caretrack.services.clock import local_today

    add(college.own_student, local_today(now_utc()))
    db.session.commit()
    runner.invoke(args=["rechecks", "digest"])
    assert [m["To"] for m in mail.outbox] == [college.counsellor.email]


def test_a_bad_date_is_refused(runner, college):
    result = runner.invoke(args=["rechecks", "digest", "--date", "03/03/2020"])
    assert result.exit_code == 2 and mail.outbox == []


def test_the_digest_reads_everything_in_three_queries(app, college):
    for i in range(20):
        add(factories.StudentFactory(counsellor=college.counsellor), date(2020, 3, 1 + i % 3))
    db.session.commit()
    with count_queries() as counter:
        digests = digest.digests(DAY)
    assert counter.count == 3  # the counsellors, the re-checks, the covers of the day
    with count_queries() as counter:
        lines = [r.student.name for d in digests for r in d.overdue + d.due_today]
    assert counter.count == 0 and len(lines) == 20
