"""Students check in for themselves: by personal link or class link, and it becomes the day's
status with the source "self-reported"."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from caretrack.access import caseload_filter
from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    CheckIn,
    DailyStatus,
    EntryKind,
    StatusSource,
    TimelineEntry,
)
from caretrack.services import checkin
from tests import factories

#: 08:00 in Beijing on a day of the epidemic: before the students' 10:00 cut-off.
MORNING = datetime(2020, 2, 10, 0, 0, tzinfo=UTC)
FEVER = {"province": "湖北", "city": "武汉", "on_campus": "no", "health": "fever",
         "temperature": "37.8", "risk_contact": "no", "note": "头有点疼"}


@pytest.fixture
def student(college):
    s = college.own_student
    s.phone, s.province, s.city = "13912345678", "湖北", "武汉"
    db.session.commit()
    return s


def personal_url(student):
    url = f"/checkin/p/{checkin.personal_token(student, MORNING)}"
    db.session.commit()
    return url


def class_url(student):
    url = f"/checkin/c/{checkin.class_token(student.college_id, student.class_name, MORNING)}"
    db.session.commit()
    return url


def verify(client, url, number, digits):
    return client.post(url + "/verify", data={"student_number": number, "phone_digits": digits})


def test_personal_link_checks_in_and_feeds_the_daily_status(client, student):
    url = personal_url(student)
    page = client.get(url)
    assert page.status_code == 200
    assert "陈同学" in page.text and student.name not in page.text  # surname only
    assert "个人信息" in page.text or "数据" in page.text  # the privacy notice, first visit
    response = client.post(url, data=FEVER)
    assert response.status_code == 302
    status = db.session.scalars(select(DailyStatus)).one()
    assert (status.source, status.health, status.province, status.city) == (
        StatusSource.SELF_REPORTED, "fever", "湖北", "武汉")
    assert "37.8" in status.note and status.recorded_by_id is None
    entry = db.session.scalars(select(TimelineEntry).where(  # the fever's rules add more
        TimelineEntry.kind == EntryKind.STATUS_CHANGE)).one()
    assert entry.details["source"] == "self"
    again = client.get(url)
    assert "37.8" in again.text and "打卡" in again.text


def test_class_link_verifies_then_remembers_the_phone(client, student):
    url = class_url(student)
    assert "学号" in client.get(url).text
    response = verify(client, url, student.student_number, "5678")
    assert response.status_code == 302
    page = client.get(url)
    assert "陈同学" in page.text
    assert client.post(url, data=FEVER).status_code == 302
    assert db.session.scalars(select(CheckIn)).one().via == "class"


def test_every_refusal_of_the_identity_check_answers_the_same(client, student, college):
    url = class_url(student)
    wrong_digits = verify(client, url, student.student_number, "0000")
    unknown = verify(client, url, "9999999999", "5678")
    other_number = verify(client, url, college.other_student.student_number, "1111")

    def answer(response):  # the page without its per-request CSRF token and typed values
        return re.sub(r'(value|content)="[^"]*"', "", response.text)

    assert answer(wrong_digits) == answer(unknown) == answer(other_number)
    assert "不一致" in wrong_digits.text or "do not match" in wrong_digits.text


def test_five_failures_for_a_number_make_it_wait(client, student):
    url = class_url(student)
    for _ in range(5):
        verify(client, url, student.student_number, "0000")
    waiting = verify(client, url, student.student_number, "5678")  # even the right answer
    assert waiting.status_code == 200
    assert "caretrack_checkin" not in waiting.headers.get("Set-Cookie", "")
    assert "一小时" in waiting.text or "Wait an hour" in waiting.text


def test_twenty_failures_from_one_address_make_it_wait(app, student):
    link = checkin.find_link("class", class_url(student).rsplit("/", 1)[1])
    for n in range(20):
        checkin.verify_identity(link, f"00{n}", "0000", MORNING, ip="10.0.0.1")
    assert checkin.verify_identity(link, student.student_number, "5678", MORNING,
                                   ip="10.0.0.1").code == "checkin-wait"
    assert checkin.verify_identity(link, student.student_number, "5678", MORNING,
                                   ip="10.0.0.2").student == student
    later = MORNING + timedelta(hours=1, minutes=1)
    assert checkin.verify_identity(link, student.student_number, "5678", later,
                                   ip="10.0.0.1").student == student


def test_rotation_kills_old_links_and_remembered_phones(client, auth, student, college):
    old_personal, old_class = personal_url(student), class_url(student)
    verify(client, old_class, student.student_number, "5678")
    auth.login(college.counsellor)
    assert client.post("/checkin/links/rotate").status_code == 302
    auth.logout()
    assert client.get(old_personal).status_code == 404
    assert client.get(old_class).status_code == 404
    new_class = class_url(student)
    assert "学号" in client.get(new_class).text  # the cookie of the old link no longer counts
    assert client.get(personal_url(student)).status_code == 200


def test_unknown_wrong_and_rotated_links_answer_alike(client, student, college):
    old = personal_url(student)
    checkin.rotate_student(student, college.counsellor, MORNING)
    db.session.commit()
    answers = [client.get(u) for u in (old, "/checkin/p/nonsense", "/checkin/p/" + "A" * 24,
                                      old.replace("/p/", "/c/"))]
    assert {r.status_code for r in answers} == {404}
    # Alike but for the CSRF token and the language switch, which links to the path itself.
    texts = {re.sub(r'(content|href)="[^"]*"', "", r.text) for r in answers}
    assert len(texts) == 1


def test_a_revoked_link_answers_like_an_unknown_one_until_a_new_one_is_issued(
        client, auth, runner, student, college):
    old = personal_url(student)
    assert client.get(old).status_code == 200
    auth.login(college.counsellor)
    response = client.post(f"/checkin/links/students/{student.id}/revoke",
                           data={"next": "/checkin/links/qr"})
    assert response.status_code == 302 and response.headers["Location"] == "/checkin/links/qr"
    qr = client.get("/checkin/links/qr")
    assert re.search(rf'data-student-id="{student.id}" data-revoked', qr.text)
    assert "链接已停用" in qr.text and "重新发放链接" in qr.text
    auth.logout()
    client.get("/checkin/p/nonsense")  # shows, and so clears, the "signed out" message
    # The old link, and the link's current token while revoked, answer like an unknown one.
    current = personal_url(student)
    answers = [client.get(old), client.get(current), client.post(old, data=FEVER),
               client.get("/checkin/p/" + "A" * 24)]
    assert {r.status_code for r in answers} == {404}
    assert len({re.sub(r'(content|href)="[^"]*"', "", r.text) for r in answers}) == 1
    assert not db.session.scalars(select(CheckIn)).all()
    # No link is handed out meanwhile (the class link still works for the student).
    result = runner.invoke(args=["checkin", "links", "--counsellor", college.counsellor.username])
    row = next(line for line in result.output.splitlines()
               if line.startswith(student.student_number))
    assert row.endswith(",") and "/checkin/p/" not in row
    verify(client, class_url(student), student.student_number, "5678")
    assert "陈同学" in client.get(class_url(student)).text
    # Replacing the whole caseload's links keeps it revoked.
    checkin.rotate_caseload(caseload_filter(college.counsellor), college.counsellor, MORNING)
    db.session.commit()
    assert client.get(personal_url(student)).status_code == 404
    # The counsellor issues a new one: it works; the revoked ones never again.
    auth.login(college.counsellor)
    client.post(f"/checkin/links/students/{student.id}/rotate")
    auth.logout()
    assert client.get(personal_url(student)).status_code == 200
    assert {client.get(u).status_code for u in (old, current)} == {404}
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.student_id == student.id, AuditEvent.action.like("checkin.r%"))))
    assert actions == ["checkin.revoke_student", "checkin.rotate_student"]


def test_revoking_needs_the_students_counsellor(client, auth, student, college):
    url = personal_url(student)
    auth.login(college.other_counsellor)
    assert client.post(f"/checkin/links/students/{student.id}/revoke").status_code == 404
    auth.logout()
    assert client.get(url).status_code == 200


def test_a_student_never_reaches_another_students_status(client, student, college):
    other = factories.StudentFactory(counsellor=college.counsellor, name="周同学",
                                     class_name=student.class_name, phone="13700001111")
    db.session.commit()
    url = class_url(student)
    verify(client, url, student.student_number, "5678")
    # With my cookie, every route of the class link is mine: the form posts my status only.
    client.post(url, data=FEVER | {"student_id": other.id, "student_number":
                                   other.student_number})
    rows = db.session.scalars(select(CheckIn)).all()
    assert [r.student_id for r in rows] == [student.id]
    # My cookie on another class's link is no one.
    other_class = factories.StudentFactory(counsellor=college.counsellor, class_name="别的班")
    db.session.commit()
    assert "学号" in client.get(class_url(other_class)).text
    assert client.post(class_url(other_class), data=FEVER).status_code == 404
    # A forged cookie is no one.
    client.set_cookie("caretrack_checkin", f"[{other.id}, 1, 1]", path=url)
    assert "学号" in client.get(url).text
    # Another student's personal page shows their own name only.
    assert "周同学" in client.get(personal_url(other)).text


def test_bad_input_gets_a_message_beside_the_field_and_keeps_what_was_typed(client, student):
    url = personal_url(student)
    page = client.post(url, data=FEVER | {"city": "广州"})
    assert 'id="city-error"' in page.text and "湖北省" in page.text
    assert "头有点疼" in page.text
    page = client.post(url, data=FEVER | {"temperature": "60"})
    assert 'id="temperature-error"' in page.text
    page = client.post(url, data=FEVER | {"health": ""})
    assert 'id="health-error"' in page.text
    assert not db.session.scalars(select(CheckIn)).all()


def test_abroad_needs_a_country(client, student):
    url = personal_url(student)
    page = client.post(url, data={"abroad": "y", "health": "normal"})
    assert 'id="country-error"' in page.text
    client.post(url, data={"abroad": "y", "country": "日本", "health": "normal"})
    status = db.session.scalars(select(DailyStatus)).one()
    assert (status.province, status.city) == ("境外", "日本")


def test_a_counsellors_later_status_wins_and_the_timeline_shows_both(client, auth, student,
                                                                      college):
    client.post(personal_url(student), data=FEVER)
    auth.login(college.counsellor)
    client.post(f"/reports/daily/students/{student.id}/status",
                data={"province": "湖北", "city": "武汉", "health": "normal", "note": "已电话"})
    auth.logout()
    status = db.session.scalars(select(DailyStatus)).one()
    assert (status.source, status.health) == ("counsellor", "normal")
    assert len(db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.kind == EntryKind.STATUS_CHANGE)).all()) == 2
    client.post(personal_url(student), data=FEVER)  # the counsellor's status stands
    assert db.session.scalars(select(DailyStatus)).one().health == "normal"
    assert [c.applied for c in db.session.scalars(select(CheckIn).order_by(CheckIn.id))] == [
        True, False]


def test_every_submission_is_kept_and_the_last_counts(client, student):
    url = personal_url(student)
    client.post(url, data=FEVER)
    client.post(url, data=FEVER | {"health": "normal", "temperature": ""})
    assert len(db.session.scalars(select(CheckIn)).all()) == 2
    assert db.session.scalars(select(DailyStatus)).one().health == "normal"


def test_late_check_in_counts_and_is_marked(app, student):
    after = datetime(2020, 2, 10, 3, 30, tzinfo=UTC)  # 11:30 in Beijing
    values = checkin.CheckinValues(province="湖北", city="武汉", health="normal")
    assert checkin.submit_checkin(student, values, "personal", after).late
    assert not checkin.submit_checkin(student, values, "personal", MORNING).late


def test_same_as_yesterday_is_one_tap(client, student):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    db.session.add(DailyStatus(student_id=student.id, day=yesterday.astimezone(
        checkin.cutoff(yesterday.date()).tzinfo).date(), province="湖北", city="武汉",
        health="normal", source="counsellor"))
    db.session.commit()
    url = personal_url(student)
    assert "和昨天一样" in client.get(url).text
    client.post(url, data={"same": "1"})
    status = db.session.scalars(select(DailyStatus).order_by(DailyStatus.day.desc())).first()
    assert (status.source, status.health, status.city) == ("self", "normal", "武汉")


def test_submission_is_audited_without_the_note(client, student):
    client.post(personal_url(student), data=FEVER)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "checkin.submit")).one()
    assert event.student_id == student.id and event.ip == "127.0.0.1"
    assert "头有点疼" not in event.detail


def test_the_form_needs_its_csrf_token(make_app, student):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    url = personal_url(student)
    assert client.post(url, data=FEVER).status_code == 400
    page = client.get(url)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    assert client.post(url, data=FEVER | {"csrf_token": token}).status_code == 302


def test_the_status_lands_in_the_counsellors_daily_page_with_its_source(client, auth, student,
                                                                          college):
    client.post(personal_url(student), data=FEVER)
    auth.login(college.counsellor)
    page = client.get("/reports/daily/?show=self")
    assert student.name in page.text and 'data-source="self"' in page.text
    assert re.search(r'data-count="self">[^<]*\b1\b', page.text)
    assert "37.8" in page.text
    assert student.name not in client.get("/reports/daily/?show=upload").text


def test_the_board_counts_confirmed_by_source(client, auth, student, college):
    client.post(personal_url(student), data=FEVER)
    auth.login(college.deputy)
    page = client.get("/reports/board/")
    assert re.search(r'data-count="self">(?:<a[^>]*>)?[^<]*\b1\b', page.text)


def test_the_counsellor_distributes_links(client, auth, student, college):
    auth.login(college.counsellor)
    page = client.get("/checkin/links/")
    assert student.class_name in page.text and "/checkin/c/" in page.text
    assert client.get("/checkin/links/students.xlsx").headers["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    assert "data:image/svg+xml" in client.get("/checkin/links/qr").text
    assert client.get("/checkin/links/qr?class=别的班").status_code == 404


def test_cli_prints_the_links(app, runner, student, college):
    result = runner.invoke(args=["checkin", "links", "--counsellor", college.counsellor.username])
    lines = result.output.strip().splitlines()
    assert lines[0] == "学号,姓名,班级,链接"
    assert any(line.startswith(student.student_number) and "http://127.0.0.1:5000/checkin/p/"
               in line for line in lines[1:])
    assert college.other_student.student_number not in result.output
    token = lines[1].rsplit("/", 1)[1]
    assert app.test_client().get(f"/checkin/p/{token}").status_code == 200
    result = runner.invoke(args=["checkin", "class-links"])
    assert result.output.splitlines()[0] == "班级,链接"
    assert "/checkin/c/" in result.output


def test_tokens_are_long_and_not_stored(app, student):
    token = checkin.personal_token(student, MORNING)
    assert len(token) >= 22  # 144 bits in base64
    from caretrack.models import CheckinLink
    assert token not in {link.digest for link in db.session.scalars(select(CheckinLink))}


def test_wtforms_own_messages_follow_the_language_of_each_request(client, student):
    url = class_url(student)
    empty = {"student_number": "", "phone_digits": "1234"}
    chinese = client.post(url + "/verify", data=empty)
    english = client.post(url + "/verify?lang=en", data=empty)
    chinese_again = client.post(url + "/verify?lang=zh_CN", data=empty)
    assert chinese.status_code == english.status_code == 200
    assert "该字段是必填字段" in chinese.text and "This field is required" not in chinese.text
    assert "This field is required" in english.text and "该字段是必填字段" not in english.text
    assert "该字段是必填字段" in chinese_again.text
