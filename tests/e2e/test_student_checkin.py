"""In the browser, on a phone, in Chinese: a student opens the class link, says who they are,
reports a fever of 37.8; then counsellor1 sees them as self-reported with the fever."""

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, tuple_

from caretrack.models import DailyStatus, Student, User, now_utc
from caretrack.services import checkin
from caretrack.services.clock import local_today
from tests.e2e.conftest import watch_console

SHOTS = Path(os.environ.get("CARETRACK_SCREENSHOTS",
                            Path(tempfile.gettempdir()) / "caretrack-screenshots"))


@pytest.fixture
def phone(browser, console_errors):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    watch_console(page, console_errors)
    yield page
    context.close()


def _unconfirmed_student(db):
    """A student of counsellor1 with no status yet today, and their class link."""
    counsellor = db.session.scalars(select(User).where(User.username == "counsellor1")).one()
    confirmed = select(DailyStatus.student_id).where(DailyStatus.day == local_today(now_utc()))
    student = db.session.scalars(
        select(Student).where(Student.counsellor_id == counsellor.id, Student.phone != "",
                              Student.id.not_in(confirmed)).order_by(Student.id)
    ).first()
    url = f"/checkin/c/{checkin.class_token(student.college_id, student.class_name, now_utc())}"
    db.session.commit()
    return student, url


def test_a_student_reports_a_fever_and_the_counsellor_sees_it(phone, sign_in, base_url, app_db):
    student, url = _unconfirmed_student(app_db)
    transferred = []
    phone.on("response", lambda r: transferred.append(len(r.body()) if r.ok else 0))
    phone.goto(base_url + url)
    expect(phone.get_by_role("heading", name="每日健康打卡")).to_be_visible()
    phone.get_by_label("学号").fill(student.student_number)
    phone.get_by_label("手机号后四位").fill(student.phone[-4:])
    phone.get_by_role("button", name="继续").click()
    expect(phone.locator(".ck-hello")).to_have_text(f"{student.name[0]}同学，你好")
    assert sum(transferred) < 100 * 1024, f"first visit transferred {sum(transferred)} bytes"
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "checkin-phone-zh.png"), full_page=True)

    phone.locator("#province").select_option("湖北")
    phone.locator("#city").select_option("武汉")
    phone.get_by_label("发热").check()
    phone.get_by_label("体温（°C）").fill("37.8")
    phone.get_by_role("button", name="提交打卡").click()
    done = phone.locator("#done")
    expect(done).to_contain_text("已于")
    expect(done).to_contain_text("发热 37.8℃")
    phone.screenshot(path=str(SHOTS / "checkin-phone-zh-done.png"), full_page=True)

    # The list of the students who answered themselves, in class and number order, 50 a page:
    # by the afternoon the demo's class has many, so the page that holds the student.
    app_db.session.expire_all()
    before = app_db.session.scalar(select(func.count(Student.id)).where(
        Student.counsellor_id == student.counsellor_id,
        tuple_(Student.class_name, Student.student_number)
        < tuple_(student.class_name, student.student_number),
        Student.id.in_(select(DailyStatus.student_id).where(
            DailyStatus.day == local_today(now_utc()), DailyStatus.source == "self"))))
    page = sign_in("counsellor1")
    page.goto(f"{base_url}/reports/daily/?show=self&page={before // 50 + 1}")
    row = page.locator(f'tr[data-student-id="{student.id}"]')
    expect(row).to_contain_text(student.name)
    expect(row.locator('[data-source="self"]')).to_have_text("学生自报")
    expect(row).to_contain_text("发热")
    expect(row).to_contain_text("37.8℃")
    page.screenshot(path=str(SHOTS / "checkin-counsellor-daily.png"), full_page=False)
