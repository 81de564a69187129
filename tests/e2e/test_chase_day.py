"""Journey: counsellor1 chases the students who did not check in, at 10:30, in Chinese - three
reached by phone and confirmed in one action, a fourth with a fever - then the league
secretary, who approves the reports, sees the change on the board and the deputy secretary
finds the student in the review queue.

It runs on a copy of the demo college of its own (counsellor1's report of today is still
missing there, and the counsellor's-day journey needs it missing too), with the reports'
clock pinned at 10:30 of the demo's today: past the students' cut-off (10:00), before the
report deadline (11:00).
"""

import re
from datetime import UTC, time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from caretrack.models import DailyReport, DailyStatus, EntryKind, Student, TimelineEntry
from caretrack.services.clock import local_datetime
from tests.e2e.conftest import serve_demo_copy
from tests.e2e.steps import StudentRef, flash, nav_link, reread, today, user

COUNSELLOR = "counsellor1"
LEAGUE = "league"
DEPUTY = "deputy"


@pytest.fixture(scope="module")
def live_server(demo_template):
    """A copy of the demo college of this journey's own, served on a free local port."""
    with serve_demo_copy(demo_template, "e2e_chase") as server:
        yield server


@pytest.fixture(scope="module")
def base_url(live_server):
    return f"http://127.0.0.1:{live_server.server_port}"


@pytest.fixture
def half_past_ten(monkeypatch, app_db):
    """The reports' pages think it is 10:30 of the demo's today."""
    now = local_datetime(today(), time(10, 30)).astimezone(UTC)
    monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: now)
    return now


def _status_today(app_db, student_id):
    return app_db.session.scalars(select(DailyStatus).where(
        DailyStatus.student_id == student_id, DailyStatus.day == today())).one_or_none()


def test_chase_at_half_past_ten_then_the_league_and_the_deputy_see_the_change(
        sign_in, app_db, half_past_ten):
    counsellor = user(app_db, COUNSELLOR)
    day = today()
    assert app_db.session.scalars(select(DailyReport).where(
        DailyReport.counsellor_id == counsellor.id, DailyReport.day == day)).first() is None
    page = sign_in(COUNSELLOR)

    # 1. From the daily page, past the cut-off, the link to the chase list stands out.
    nav_link(page, "每日上报").click()
    link = page.locator("[data-chase-link]")
    expect(link).to_have_attribute("data-chase-link", "urgent")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("催报名单")
    expect(page.locator('[data-chase-state="past"]')).to_contain_text("已过学生打卡截止时间（10:00）")
    rows = page.locator("table.chase-table tbody tr")
    assert rows.count() >= 4, "the demo college leaves counsellor1 some students unconfirmed"
    first = rows.first
    expect(first.locator("a[href^='tel:']")).to_be_visible()
    expect(first.locator("[data-days]")).to_contain_text("天")
    ids = [int(rows.nth(i).get_attribute("data-student-id")) for i in range(4)]
    three, fourth = ids[:3], ids[3]

    # 2. Three students reached by phone, confirmed in one action.
    for student_id in three:
        page.locator(f'tr[data-student-id="{student_id}"]').get_by_role("checkbox").check()
    page.locator("#bulk-channel").select_option(label="电话")
    page.get_by_role("button", name="所选学生：已联系，确认无变化").click()
    expect(flash(page)).to_contain_text("3 名学生已在联系后确认今日状态")
    for student_id in three:
        expect(page.locator(f'tr[data-student-id="{student_id}"]')).to_have_count(0)
    reread(app_db)
    for student_id in three:
        status = _status_today(app_db, student_id)
        assert status is not None and status.source == "counsellor"
        follow_ups = app_db.session.scalars(select(TimelineEntry).where(
            TimelineEntry.student_id == student_id, TimelineEntry.kind == EntryKind.FOLLOW_UP,
            TimelineEntry.created_at >= half_past_ten)).all()
        assert [(f.details["channel"], f.details["reached"]) for f in follow_ups] == [
            ("phone", True)]

    # 3. The report goes in, with students still unconfirmed: asked once, with the number.
    # (a zero report when the demo's day holds no change for counsellor1 yet)
    nav_link(page, "每日上报").click()
    page.get_by_role("button", name=re.compile("^(提交上报|零报告)")).click()
    expect(page.locator("[data-confirm-question]")).to_contain_text("名学生今日未确认")
    page.locator("[data-confirm-answer]").click()
    expect(flash(page)).to_contain_text(re.compile("已提交(上报|零报告)"))
    reread(app_db)
    report = app_db.session.scalars(select(DailyReport).where(
        DailyReport.counsellor_id == counsellor.id, DailyReport.day == day)).one()
    assert report.unconfirmed_count and report.unconfirmed_count > 0

    # 4. After the report, a fourth has a fever: "changed" opens the status form, which comes
    # back to the chase list.
    page.locator("[data-chase-link]").click()
    student = StudentRef.of(app_db.session.get(Student, fourth))
    row = page.locator(f'tr[data-student-id="{fourth}"]')
    row.get_by_label("联系方式").select_option(label="微信")
    row.get_by_role("button", name="有变化…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{student.name}今日状态")
    page.get_by_label("健康状况").select_option("fever")
    page.get_by_label("备注").fill("微信联系：体温 38.1℃")
    page.get_by_role("button", name="保存为今日状态").click()
    expect(flash(page)).to_contain_text(f"已记录{student.name}的变化。")
    expect(page.get_by_role("heading", level=1)).to_contain_text("催报名单")
    reread(app_db)
    assert _status_today(app_db, fourth).health == "fever"

    # 5. The league secretary, whose board the reports go to, sees "1 change since
    # submission" and opens the fever list from the board; the deputy secretary finds the
    # student in the review queue.
    league = sign_in(LEAGUE)
    nav_link(league, "每日上报汇总").click()
    board_row = league.locator("table.board-table tbody tr").filter(
        has_text=counsellor.display_name)
    expect(board_row.locator("[data-report-state]")).to_have_text("已提交")
    expect(board_row.locator("[data-after-submission]")).to_contain_text("提交后有 1 项变化")
    league.locator('a[data-list="fever"]').first.click()
    expect(league.locator(f'tr[data-student-id="{fourth}"]')).to_contain_text(student.name)
    deputy = sign_in(DEPUTY)
    nav_link(deputy, "审阅队列").click()
    for _page in range(20):  # the queue is oldest review first: page on until the student
        if deputy.locator(f'[data-student-id="{fourth}"]').count():
            break
        deputy.locator(".pagination").get_by_role("link", name="下一页").click()
    queued = deputy.locator(f'[data-student-id="{fourth}"]').first
    expect(queued).to_contain_text(student.name)
    expect(queued).to_contain_text("发热")
