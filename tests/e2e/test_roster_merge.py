"""In the browser, as the admin: a student stored twice (an old import lost the leading zero)
is merged from the roster pages, the duplicate's link opens the record that stays, and the
merge is undone; the pages fit a phone screen."""

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import DEMO_PASSWORD, serve_demo_copy, watch_console

SHOTS = os.environ.get("CARETRACK_SHOTS")  # a folder: save screenshots of the pages there


@pytest.fixture(scope="module")
def merge_server(demo_template):
    """A copy of the demo college of its own: the journey adds a student."""
    with serve_demo_copy(demo_template, "merge") as server:
        yield server


@pytest.fixture
def twin(merge_server):
    """A part-time MBA student (number with a leading zero) and the duplicate an old import
    made of them, with a note on its timeline."""
    from caretrack.extensions import db
    from caretrack.models import Programme, Student
    from caretrack.services.entries import record_note

    with merge_server.app_for_tests.app_context():
        keep = db.session.scalars(select(Student).where(
            Student.programme == Programme.MBA_PART_TIME).order_by(Student.id)).first()
        duplicate = Student(
            student_number=keep.student_number.lstrip("0"), name=keep.name, gender=keep.gender,
            programme=keep.programme, cohort=keep.cohort, class_name=keep.class_name,
            counsellor_id=keep.counsellor_id, college_id=keep.college_id, phone=keep.phone)
        db.session.add(duplicate)
        db.session.flush()
        record_note(duplicate, keep.counsellor, body="旧导入建立的重复记录上的记录")
        db.session.commit()
        yield (keep.student_number, duplicate.student_number, duplicate.id, keep.id,
               keep.counsellor.username)
        db.session.remove()


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _fits(page):
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def _open(browser, base, username, width, height, console_errors):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    watch_console(page, console_errors)
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_attached()
    return context, page


def test_the_admin_merges_a_duplicate_and_undoes_it(browser, merge_server, twin, console_errors):
    keep, duplicate, duplicate_id, keep_id, counsellor_name = twin
    base = f"http://127.0.0.1:{merge_server.server_port}"
    context, page = _open(browser, base, "admin", 1280, 900, console_errors)
    page.goto(f"{base}/admin/roster")
    page.get_by_role("link", name="合并两条记录").click()
    page.get_by_label("保留的记录（学号）").fill(keep)
    page.get_by_label("并入其中的重复记录（学号）").fill(duplicate)
    page.get_by_role("button", name="比较").click()
    plan = page.locator("#merge-plan")
    expect(plan.locator("[data-moves=timeline_entries]")).to_have_text("时间线记录：1")
    expect(plan.locator("[data-merged=student_number]")).to_have_text(duplicate)
    _shot(page, "merge-plan-1280-zh")
    plan.get_by_role("button", name=f"将 {duplicate} 并入 {keep}").click()
    expect(page.locator(".alert-success")).to_contain_text(f"已合并：{duplicate} 现指向 {keep}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{duplicate} 已合并到 {keep}")
    _shot(page, "merge-done-1280-zh")
    # the duplicate is gone from the roster; the record that stays is there
    page.goto(f"{base}/admin/roster?q={duplicate}")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator('tbody tr td[data-label="学号"]')).to_have_text(keep)

    # the counsellor's old link to the duplicate opens the record that stays, with its note
    other, counsellor = _open(browser, base, counsellor_name, 1280, 900, console_errors)
    counsellor.goto(f"{base}/students/{duplicate_id}")
    assert counsellor.url.endswith(f"/students/{keep_id}")
    expect(counsellor.get_by_text("旧导入建立的重复记录上的记录")).to_be_visible()
    other.close()

    # undo, at phone width
    phone = context.new_page()
    watch_console(phone, console_errors)
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(f"{base}/admin/roster/merge")
    phone.locator("#recent-merges a").first.click()
    undo = phone.get_by_role("button", name="撤销合并")
    expect(undo).to_be_visible()  # the merge's page has loaded
    _fits(phone)
    _shot(phone, "merge-done-390-zh")
    undo.click()
    expect(phone.locator(".alert-success")).to_contain_text("合并已撤销")
    expect(phone.locator("#merge-undone")).to_be_visible()
    phone.goto(f"{base}/admin/roster?q={duplicate}")
    expect(phone.locator("tbody tr")).to_have_count(2)
    context.close()
