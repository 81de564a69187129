"""Notices students acknowledge: who they reach, whichever role wrote them; acknowledging from
the check-in page (once); coverage by class; corrections; the staff pages."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import AuditEvent, Notice, NoticeRecipient, Student
from caretrack.services import checkin, notices
from caretrack.services.errors import RuleError
from caretrack.services.notices import NoticeDraft
from tests import factories

NOW = datetime(2020, 2, 10, 1, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=1)


@pytest.fixture
def classes(college):
    """Two classes of counsellor 李老师, one of 张老师, a second programme and cohort."""
    c = college
    c.own_student.class_name = "2017级会计学1班"
    c.classmate = factories.StudentFactory(counsellor=c.counsellor, name="周同学",
                                           class_name="2017级会计学1班", phone="13700001111")
    c.second_class = factories.StudentFactory(counsellor=c.counsellor, name="吴同学",
                                              class_name="2017级金融学2班", cohort=2017)
    c.other_student.class_name = "2018级管理1班"
    c.other_student.cohort = 2018
    c.graduate.class_name = "2019级硕士1班"
    c.graduate.cohort = 2019
    db.session.commit()
    return c


def draft(audience, values=(), **changes):
    fields = dict(title="关于延期返校的通知", body="请同学们不要提前返校。\n详见 https://example.edu.cn/a",
                  audience=audience, values=tuple(values), deadline=DEADLINE)
    fields.update(changes)
    return NoticeDraft(**fields)


def recipients(notice) -> set[int]:
    return set(db.session.scalars(
        select(NoticeRecipient.student_id).where(NoticeRecipient.notice_id == notice.id)))


def ids(*students) -> set[int]:
    return {s.id for s in students}


# -- the audience ------------------------------------------------------------------------------


def test_counsellors_notice_to_the_caseload_reaches_exactly_their_students(classes):
    c = classes
    notice = notices.publish(c.counsellor, draft("caseload"), now=NOW)
    assert recipients(notice) == ids(c.own_student, c.classmate, c.second_class, c.graduate)


def test_counsellors_notice_to_a_class_reaches_only_their_students_in_it(classes):
    c = classes
    factories.StudentFactory(counsellor=c.other_counsellor, class_name="2017级会计学1班")
    notice = notices.publish(c.counsellor, draft("classes", ["2017级会计学1班"]), now=NOW)
    assert recipients(notice) == ids(c.own_student, c.classmate)


def test_a_counsellor_cannot_address_another_counsellors_class_or_the_college(classes):
    with pytest.raises(RuleError) as refused:
        notices.publish(classes.counsellor, draft("classes", ["2018级管理1班"]), now=NOW)
    assert refused.value.code == "notice-unknown-class" and refused.value.field == "values"
    with pytest.raises(RuleError) as refused:
        notices.publish(classes.counsellor, draft("college"), now=NOW)
    assert refused.value.code == "notice-audience"
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


@pytest.mark.parametrize("audience, values, expected", [
    ("college", [], ["own_student", "classmate", "second_class", "graduate", "other_student"]),
    ("classes", ["2017级会计学1班", "2018级管理1班"], ["own_student", "classmate",
                                                 "other_student"]),
    ("programme", ["master"], ["graduate"]),
    ("cohort", ["2018"], ["other_student"]),
])
def test_deputys_notice_reaches_exactly_its_audience(classes, audience, values, expected):
    notice = notices.publish(classes.deputy, draft(audience, values), now=NOW)
    assert recipients(notice) == {getattr(classes, name).id for name in expected}


def test_deputys_notice_to_a_care_category_reaches_the_students_holding_it(classes):
    category = factories.CategoryFactory(code="thesis")
    factories.AssignmentFactory(student=classes.graduate, category=category)
    ended = factories.AssignmentFactory(student=classes.own_student, category=category)
    ended.ended_on = ended.started_on
    notice = notices.publish(classes.deputy, draft("category", [str(category.id)]), now=NOW)
    assert recipients(notice) == ids(classes.graduate)


def test_a_notice_needs_a_future_deadline_a_title_and_students(classes):
    for changes, code, field in [({"deadline": NOW}, "notice-deadline-past", "deadline"),
                                 ({"title": " "}, "empty", "title")]:
        with pytest.raises(RuleError) as refused:
            notices.publish(classes.deputy, draft("college", **changes), now=NOW)
        assert (refused.value.code, refused.value.field) == (code, field)
    with pytest.raises(RuleError) as refused:
        notices.publish(classes.deputy, draft("cohort", ["1999"]), now=NOW)
    assert refused.value.code == "notice-no-students"


# -- acknowledging ------------------------------------------------------------------------------


def personal_url(student):
    url = f"/checkin/p/{checkin.personal_token(student, NOW)}"
    db.session.commit()
    return url


def test_the_student_sees_unacknowledged_notices_first_and_acknowledges_once(client, classes):
    c = classes
    old = notices.publish(c.counsellor, draft("caseload", title="旧通知"), now=NOW)
    notices.acknowledge(db.session.scalars(select(NoticeRecipient).where(
        NoticeRecipient.notice_id == old.id, NoticeRecipient.student_id == c.own_student.id)
    ).one(), pledged=False, now=NOW)
    new = notices.publish(c.deputy, draft("college", title="新的承诺书",
                                          pledge="我承诺不提前返校"), now=NOW)
    db.session.commit()
    url = personal_url(c.own_student)
    page = client.get(url).text
    assert page.index("新的承诺书") < page.index('class="ck-form"')  # before the check-in
    assert page.index("新的承诺书") < page.index("旧通知")
    assert '<a href="https://example.edu.cn/a"' in page  # links are links
    # the pledge must be ticked
    refused = client.post(f"{url}/notices/{new.id}/ack", data={})
    assert refused.status_code == 400 and "勾选" in refused.text
    for _ in range(2):
        assert client.post(f"{url}/notices/{new.id}/ack", data={"pledge": "y"}).status_code == 302
    row = db.session.scalars(select(NoticeRecipient).where(
        NoticeRecipient.notice_id == new.id, NoticeRecipient.student_id == c.own_student.id)
    ).one()
    assert row.acknowledged_at is not None and row.pledged
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "notice.acknowledge", AuditEvent.detail == f"notice:{new.id}")).all()
    assert [e.student_id for e in events] == [c.own_student.id]
    assert notices.notice_totals([new.id], c.counsellor)[new.id] == (4, 1)


def test_a_student_cannot_see_or_acknowledge_another_classs_notice(client, classes):
    c = classes
    theirs = notices.publish(c.counsellor, draft("classes", ["2017级金融学2班"],
                                                 title="金融学2班的通知"), now=NOW)
    db.session.commit()
    url = personal_url(c.own_student)
    assert "金融学2班的通知" not in client.get(url).text
    assert client.post(f"{url}/notices/{theirs.id}/ack").status_code == 404
    # nor with the class link's remembered phone of another student
    token = checkin.class_token(c.own_student.college_id, c.own_student.class_name, NOW)
    class_url = f"/checkin/c/{token}"
    db.session.commit()
    client.post(class_url + "/verify", data={"student_number": c.own_student.student_number,
                                             "phone_digits": c.own_student.phone[-4:]})
    assert "金融学2班的通知" not in client.get(class_url).text
    assert client.post(f"{class_url}/notices/{theirs.id}/ack").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(NoticeRecipient).where(
        NoticeRecipient.acknowledged_at.is_not(None))) == 0


def test_a_class_link_without_a_remembered_student_acknowledges_nothing(client, classes):
    notice = notices.publish(classes.deputy, draft("college"), now=NOW)
    token = checkin.class_token(classes.own_student.college_id, classes.own_student.class_name,
                                NOW)
    class_url = f"/checkin/c/{token}"
    db.session.commit()
    assert client.post(f"{class_url}/notices/{notice.id}/ack").status_code == 404


# -- coverage -----------------------------------------------------------------------------------


def test_coverage_by_class_equals_an_independent_count(classes):
    c = classes
    extra = [factories.StudentFactory(counsellor=c.counsellor, class_name="2017级金融学2班")
             for _ in range(4)]
    notice = notices.publish(c.deputy, draft("college"), now=NOW)
    for student in [c.classmate, extra[0], extra[2], c.other_student]:
        recipient = db.session.scalars(select(NoticeRecipient).where(
            NoticeRecipient.notice_id == notice.id, NoticeRecipient.student_id == student.id)
        ).one()
        notices.acknowledge(recipient, pledged=False, now=NOW)
    db.session.commit()
    acked = {c.classmate.id, extra[0].id, extra[2].id, c.other_student.id}
    for user in (c.deputy, c.counsellor):
        expected = {}
        for s in db.session.scalars(select(Student)):
            if user is c.counsellor and s.counsellor_id != c.counsellor.id:
                continue
            total, done = expected.get(s.class_name, (0, 0))
            expected[s.class_name] = (total + 1, done + (s.id in acked))
        got = {r.class_name: (r.students, r.acknowledged)
               for r in notices.coverage(notice, user)}
        assert got == expected
    assert {s.id for s in notices.stragglers(notice, c.counsellor)} == ids(
        c.own_student, c.second_class, c.graduate, extra[1], extra[3])


def test_a_correction_points_at_the_old_notice_and_both_show(client, classes):
    c = classes
    old = notices.publish(c.counsellor, draft("classes", ["2017级会计学1班"], title="返校时间"),
                          now=NOW)
    fixed = notices.publish(c.counsellor, draft("caseload", title="更正：返校时间"), now=NOW,
                            corrects=old)
    db.session.commit()
    assert fixed.corrects_id == old.id
    assert recipients(fixed) == recipients(old)  # the same students, not the new audience
    with pytest.raises(RuleError) as refused:
        notices.publish(c.counsellor, draft("caseload"), now=NOW, corrects=old)
    assert refused.value.code == "notice-corrected-already"
    with pytest.raises(RuleError):
        notices.publish(c.deputy, draft("college"), now=NOW, corrects=fixed)
    page = client.get(personal_url(c.own_student)).text
    assert "返校时间" in page and "更正：返校时间" in page
    assert f'href="#notice-{old.id}"' in page and f'href="#notice-{fixed.id}"' in page


# -- the staff pages ----------------------------------------------------------------------------


def test_counsellor_writes_a_notice_and_follows_its_coverage(client, auth, classes):
    c = classes
    auth.login(c.counsellor)
    form = client.get("/notices/new").text
    assert "2017级会计学1班" in form and "2018级管理1班" not in form
    response = client.post("/notices/new", data={
        "title": "请填写健康承诺", "body": "今天之内完成", "audience": "classes",
        "classes": ["2017级会计学1班", "2017级金融学2班"], "must_acknowledge": "y",
        "deadline": "2099-02-11T18:00", "submission_key": "k1"})
    assert response.status_code == 302
    notice = db.session.scalars(select(Notice)).one()
    assert recipients(notice) == ids(c.own_student, c.classmate, c.second_class)
    # a double submit publishes one notice
    client.post("/notices/new", data={
        "title": "请填写健康承诺", "body": "今天之内完成", "audience": "classes",
        "classes": ["2017级会计学1班"], "deadline": "2099-02-11T18:00", "submission_key": "k1"})
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1
    page = client.get(f"/notices/{notice.id}").text
    assert "0 %" in page and "周同学" in page and "13700001111" in page
    assert "/checkin/c/" in page  # the message for the class group with its link
    book = load_workbook(io.BytesIO(client.get(f"/notices/{notice.id}/coverage.xlsx").data))
    assert [row[0] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)] == [
        s.student_number for s in sorted([c.own_student, c.classmate, c.second_class],
                                         key=lambda s: (s.class_name, s.student_number))]
    assert "请填写健康承诺" in client.get("/notices/").text


def test_a_bad_notice_keeps_what_was_typed(client, auth, classes):
    auth.login(classes.counsellor)
    response = client.post("/notices/new", data={
        "title": "请阅读", "body": "正文内容", "audience": "classes", "classes": [],
        "deadline": "2099-02-11T18:00"})
    assert response.status_code == 400
    assert "请阅读" in response.text and "正文内容" in response.text
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_the_deputy_sees_numbers_not_names_and_other_counsellors_get_404(client, auth, classes):
    c = classes
    mine = notices.publish(c.counsellor, draft("caseload", title="李老师的通知"), now=NOW)
    college = notices.publish(c.deputy, draft("college", title="全院通知"), now=NOW)
    db.session.commit()
    auth.login(c.deputy)
    page = client.get(f"/notices/{college.id}").text
    assert 'data-overall="0"' in page and c.own_student.name not in page
    assert c.own_student.phone not in page
    auth.logout()
    auth.login(c.other_counsellor)
    assert client.get(f"/notices/{mine.id}").status_code == 404
    assert client.get(f"/notices/{mine.id}/coverage.xlsx").status_code == 404
    listing = client.get("/notices/").text
    assert "全院通知" in listing and "李老师的通知" not in listing
    page = client.get(f"/notices/{college.id}").text
    assert c.other_student.name in page and c.own_student.name not in page
    assert client.get(f"/notices/{college.id}/correct").status_code == 404


def test_the_counsellors_landing_shows_coverage_until_it_reaches_100(client, auth, classes):
    c = classes
    notice = notices.publish(c.counsellor, draft("classes", ["2017级金融学2班"],
                                                 title="只有一人的通知"), now=NOW)
    db.session.commit()
    auth.login(c.counsellor)
    assert "只有一人的通知" in client.get("/").text
    recipient = db.session.scalars(select(NoticeRecipient).where(
        NoticeRecipient.notice_id == notice.id)).one()
    notices.acknowledge(recipient, pledged=False, now=NOW)
    db.session.commit()
    assert "只有一人的通知" not in client.get("/").text


def test_a_refused_acknowledgement_keeps_the_check_in_form_on_the_page(client, classes):
    notice = notices.publish(classes.deputy, draft("college", pledge="我承诺不提前返校"), now=NOW)
    db.session.commit()
    url = personal_url(classes.own_student)
    refused = client.post(f"{url}/notices/{notice.id}/ack", data={})
    assert refused.status_code == 400
    assert f'<form method="post" action="{url}" class="ck-form"' in refused.text


# -- e-mailed to the students who have an address ------------------------------------------------


def test_a_notice_is_emailed_to_its_students_with_an_address_once_each(
        client, auth, classes, app, monkeypatch):
    from caretrack import jobs
    from caretrack.models import Job, MessageLog, SentMessage
    from caretrack.services import mail

    monkeypatch.setitem(app.config, "REDIS_URL", "")
    monkeypatch.setitem(app.config, "CARETRACK_BASE_URL", "https://care.example.edu.cn")
    mail.outbox.clear()
    c = classes
    c.own_student.email = "chen@stu.example.edu.cn"
    c.classmate.email = "zhou@stu.example.edu.cn"  # c.second_class has no address
    c.other_student.email = "liu@stu.example.edu.cn"  # another counsellor's class
    db.session.commit()
    auth.login(c.counsellor)
    client.post("/notices/new?lang=en", data={
        "title": "请填写健康承诺", "body": "今天之内完成", "audience": "classes",
        "classes": ["2017级会计学1班", "2017级金融学2班"], "must_acknowledge": "y",
        "deadline": "2099-02-11T18:00", "submission_key": "k1"})
    notice = db.session.scalars(select(Notice)).one()
    sent = {str(m["To"]): m for m in mail.outbox}
    assert sorted(sent) == ["chen@stu.example.edu.cn", "zhou@stu.example.edu.cn"]
    message = sent["chen@stu.example.edu.cn"]
    assert message["Subject"] == "通知：请填写健康承诺"  # in the college's language
    text = message.get_content()
    assert text.startswith("陈小明：") and "今天之内完成" in text
    assert "https://care.example.edu.cn/checkin/p/" in text  # the student's personal link
    link = text.split("https://care.example.edu.cn")[1].split()[0]
    assert "请填写健康承诺" in client.get(link.rstrip("，。")).text
    logged = db.session.scalars(select(MessageLog).where(
        MessageLog.kind == "notice.email").order_by(MessageLog.recipient)).all()
    assert [(m.channel, m.recipient, m.student_ids, m.state) for m in logged] == [
        ("email", "chen@stu.example.edu.cn", [c.own_student.id], "delivered"),
        ("email", "zhou@stu.example.edu.cn", [c.classmate.id], "delivered")]
    job = db.session.scalars(select(Job).where(Job.kind == "notices.email")).one()
    assert (job.state, job.result) == ("done", {"sent": 2, "skipped": 0})
    # run again (a retry): nothing is sent twice
    again = jobs.submit("notices.email", c.counsellor, {"notice_id": notice.id})
    assert again.result == {"sent": 0, "skipped": 2}
    assert len(mail.outbox) == 2
    assert db.session.scalar(select(func.count(SentMessage.id)).where(
        SentMessage.key.startswith(f"notice-email:{notice.id}:"))) == 2
    assert db.session.scalar(select(func.count(MessageLog.id)).where(
        MessageLog.kind == "notice.email")) == 2
    mail.outbox.clear()
