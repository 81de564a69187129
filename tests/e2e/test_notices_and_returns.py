"""In the browser, in Chinese: the deputy publishes a notice to two classes; a student, on a
phone, acknowledges it from the check-in page and asks to return early for an internship;
counsellor1 sees the coverage and the request and recommends; the deputy approves; the
student sees the decision."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from caretrack.models import Notice, NoticeRecipient, ReturnRequest, Student, now_utc
from caretrack.services import checkin
from tests.e2e.conftest import watch_console
from tests.e2e.steps import flash, nav_link, reread, today, user

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


def _student_and_classes(db):
    """A student of counsellor1 with no early-return request and no notice left unread, their
    class and another class of counsellor1, and the student's personal link."""
    counsellor = user(db, "counsellor1")
    asked = select(ReturnRequest.student_id)
    # the demo's pledge has stragglers: the student has read every notice of the season
    unread = select(NoticeRecipient.student_id).where(NoticeRecipient.acknowledged_at.is_(None))
    student = db.session.scalars(select(Student).where(
        Student.counsellor_id == counsellor.id, Student.id.not_in(asked),
        Student.id.not_in(unread),
        Student.programme == "undergraduate").order_by(Student.id)).first()
    other = db.session.scalars(select(Student.class_name).where(
        Student.counsellor_id == counsellor.id, Student.class_name != student.class_name)
        .order_by(Student.class_name)).first()
    url = f"/checkin/p/{checkin.personal_token(student, now_utc())}"
    db.session.commit()
    return student.id, student.name, [student.class_name, other], url


def test_notice_acknowledged_request_recommended_approved(phone, sign_in, base_url, app_db):
    student_id, name, classes, url = _student_and_classes(app_db)
    title = "关于网上选课的通知"

    deputy = sign_in("deputy")
    nav_link(deputy, "通知").click()
    deputy.get_by_role("link", name="写通知").click()
    deputy.get_by_label("标题").fill(title)
    deputy.get_by_label("正文").fill("请于本周内完成网上选课。\n选课系统：https://www.example.edu.cn/xk")
    deputy.get_by_label("部分班级").check()
    deputy.get_by_label("班级", exact=True).select_option(classes)
    deputy.get_by_role("button", name="发布").click()
    expect(flash(deputy)).to_contain_text("通知已发布")
    expect(deputy.locator("tr[data-class]")).to_have_count(2)

    phone.goto(base_url + url)
    notice = phone.locator(".ck-notice-todo").first
    expect(notice.get_by_role("heading")).to_have_text(title)
    expect(notice.get_by_role("link", name="https://www.example.edu.cn/xk")).to_be_visible()
    assert phone.locator(".ck-notice-todo").first.bounding_box()["y"] < phone.locator(
        ".ck-form").bounding_box()["y"], "the notice comes before the check-in form"
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "notice-phone-zh.png"), full_page=True)
    notice.get_by_role("button", name="我已阅读").click()
    expect(phone.locator(".ck-notice-todo")).to_have_count(0)

    phone.get_by_text("申请提前返校", exact=True).click()
    phone.get_by_label("实习").check()
    phone.get_by_label("希望哪天返校？").fill((today() + timedelta(days=10)).isoformat())
    phone.get_by_label("从哪里出发？").fill("河南 郑州")
    phone.get_by_label("详细说明（为什么返校、到校后住在哪里）").fill("实习单位要求下月初到岗")
    phone.get_by_role("button", name="提交申请").click()
    expect(phone.locator("#return")).to_contain_text("待辅导员谈话")
    phone.screenshot(path=str(SHOTS / "return-phone-zh.png"), full_page=True)

    counsellor = sign_in("counsellor1")
    reread(app_db)
    notice_id = app_db.session.scalars(select(Notice.id).where(Notice.title == title)).one()
    counsellor.goto(f"{base_url}/notices/{notice_id}")
    row = counsellor.locator(f'tr[data-class="{classes[0]}"]')
    expect(row.locator("td").nth(2)).to_have_text("1")
    expect(counsellor.locator("[data-straggler]").first).to_be_visible()
    expect(counsellor.locator(f'[data-straggler="{student_id}"]')).to_have_count(0)
    nav_link(counsellor, "提前返校").click()
    counsellor.locator("tr", has_text=name).get_by_role("link", name=name).click()
    counsellor.get_by_label("建议同意").check()
    counsellor.get_by_label("给副书记的说明").fill("已电话沟通两次，实习确有必要")
    counsellor.get_by_role("button", name="提交意见").click()
    expect(flash(counsellor)).to_be_visible()
    expect(counsellor.locator("[data-state]").first).to_have_text("待学院审批")

    reread(app_db)
    request_id = app_db.session.scalars(select(ReturnRequest.id).where(
        ReturnRequest.student_id == student_id)).one()
    deputy.goto(f"{base_url}/returns/{request_id}")
    arrival = today() + timedelta(days=12)
    deputy.get_by_label("准许到校日期").fill(arrival.isoformat())
    deputy.get_by_role("button", name="通过").click()
    expect(deputy.locator("[data-state]").first).to_have_text("已批准")

    phone.reload()
    decision = phone.locator(".ck-decision-yes")
    expect(decision).to_contain_text(arrival.isoformat())
    expect(phone.locator("#return")).to_contain_text("到校后在校内隔离 14 天")
    phone.screenshot(path=str(SHOTS / "return-decided-phone-zh.png"), full_page=True)
