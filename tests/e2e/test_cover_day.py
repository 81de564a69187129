"""Journey: counsellor1 is away for 14 days, covered by counsellor2, who clears counsellor1's
overdue re-checks in one bulk action (a follow-up each, from the re-check list) and submits
counsellor1's daily report; then counsellor1 comes back and finds the "while you were away"
summary.

It runs on a copy of the demo college of its own: it records an absence and a daily report.
"""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from caretrack.models import (
    Absence,
    DailyReport,
    Recheck,
    RecheckState,
    Student,
    TimelineEntry,
)
from tests.e2e.conftest import serve_demo_copy
from tests.e2e.steps import flash, nav_link, reread, today, user

AWAY, COVER = "counsellor1", "counsellor2"


@pytest.fixture(scope="module")
def live_server(demo_template):
    """A copy of the demo college of this journey's own, served on a free local port."""
    with serve_demo_copy(demo_template, "e2e_cover") as server:
        yield server


@pytest.fixture(scope="module")
def base_url(live_server):
    return f"http://127.0.0.1:{live_server.server_port}"


def overdue_of(app_db, counsellor, day) -> list[Recheck]:
    """The open re-checks due before ``day`` of the counsellor's students."""
    return list(app_db.session.scalars(
        select(Recheck).join(Student, Student.id == Recheck.student_id).where(
            Student.counsellor_id == counsellor.id, Recheck.state == RecheckState.OPEN,
            Recheck.due_on < day)))


def answer_unconfirmed(page):
    """Submit anyway when asked how many students are unconfirmed."""
    page.wait_for_load_state()
    if page.locator("[data-confirm-question]").count():
        page.get_by_role("button", name="仍然提交").click()


def test_cover_for_fourteen_days_then_back(sign_in, app_db):
    away, cover = user(app_db, AWAY), user(app_db, COVER)
    day = today()

    # 1. counsellor1 fell ill yesterday: they record 14 days away, covered by counsellor2.
    me = sign_in(AWAY)
    nav_link(me, "离岗代管").click()
    me.get_by_role("link", name="登记我的离岗").click()
    me.get_by_label("离岗第一天").fill((day - timedelta(days=1)).isoformat())
    me.get_by_label("离岗最后一天").fill((day + timedelta(days=12)).isoformat())
    me.get_by_label("原因").fill("居家隔离14天")
    me.get_by_label("代管人").select_option(label=cover.display_name)
    me.get_by_role("button", name="登记离岗").click()
    expect(flash(me)).to_contain_text("离岗已登记")
    expect(me.locator("[data-cover]")).to_contain_text(cover.display_name)
    reread(app_db)
    absence = app_db.session.scalars(select(Absence).where(
        Absence.counsellor_id == away.id)).one()
    assert [(c.covering_id, c.class_name) for c in absence.covers] == [(cover.id, None)]

    # 2. counsellor2's landing: covering for counsellor1, their overdue re-checks marked.
    page = sign_in(COVER)
    banner = page.locator(f'[data-covering="{away.id}"]')
    expect(banner).to_contain_text(f"您正在代管{away.display_name}的学生")
    row = page.locator("#overdue").locator("tr[data-recheck-id]", has=page.locator(
        f'[data-covering-for="{away.id}"]')).first
    expect(row).to_contain_text(f"代{away.display_name}")

    # ... which counsellor2 clears in one bulk action: the re-check list, overdue, of the
    # students covered for counsellor1, all of them (not only the page), one follow-up each.
    overdue_before = overdue_of(app_db, away, day)
    assert overdue_before, "the demo gives counsellor1 overdue re-checks"
    students = sorted({r.student_id for r in overdue_before})
    nav_link(page, "复查提醒").click()
    page.get_by_label("状态").select_option("overdue")
    page.get_by_label("学生归属").select_option(label=f"代{away.display_name}")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#recheck-list tr[data-recheck-id]").first).to_contain_text(
        f"代{away.display_name}")
    page.get_by_label("对勾选的学生").select_option(label="记录跟进（完成到期的复查提醒）")
    page.locator("[data-bulk-bar] input[name=all_matching]").check()
    page.locator("[data-bulk-start]").click()
    expect(page.locator("[data-bulk-count]")).to_contain_text(str(len(students)))
    page.get_by_label("电话", exact=True).check()
    page.get_by_label("联系上", exact=True).check()
    page.get_by_label("沟通内容").fill("代李老师电话回访，一切正常。")
    page.get_by_role("button", name="预览变更").click()
    expect(page.locator(".bulk-plan")).to_contain_text(f"将变更 {len(students)} 名学生")
    page.locator("[data-bulk-confirm]").click()
    expect(flash(page)).to_contain_text(f"{len(students)} 名已变更")
    reread(app_db)
    assert overdue_of(app_db, away, day) == []
    assert {app_db.session.get(Recheck, r.id).state for r in overdue_before} == {
        RecheckState.DONE}
    entries = app_db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.student_id.in_(students), TimelineEntry.kind == "follow_up",
        TimelineEntry.author_id == cover.id)).all()
    assert sorted(e.student_id for e in entries) == students
    assert {e.covering_for_id for e in entries} == {away.id}

    # 3. From the banner, counsellor1's daily report, submitted by counsellor2.
    nav_link(page, "今日").click()
    page.locator(f'[data-covering="{away.id}"]').get_by_role("link", name="其每日上报").click()
    expect(page.locator("[data-covering-note]")).to_contain_text(away.display_name)
    page.locator("[data-report-card] button[type=submit]").click()
    answer_unconfirmed(page)
    expect(page.locator("[data-submitted-by]")).to_have_text(
        f"由{cover.display_name}代{away.display_name}提交。")
    reread(app_db)
    report = app_db.session.scalars(select(DailyReport).where(
        DailyReport.counsellor_id == away.id, DailyReport.day == day)).one()
    assert report.submitted_by_id == cover.id

    # 4. counsellor1 is back today: the last day was yesterday.
    nav_link(me, "离岗代管").click()
    me.locator(f'[data-absence="{absence.id}"]').get_by_role("link").click()
    me.get_by_label("新的离岗最后一天").first.fill((day - timedelta(days=1)).isoformat())
    me.get_by_role("button", name="提前结束").click()
    expect(flash(me)).to_contain_text("离岗已提前结束")
    nav_link(me, "今日").click()
    summary = me.locator("[data-away-summary]")
    expect(summary).to_contain_text("您不在期间")
    expect(summary.locator('[data-away="follow_ups"]')).to_contain_text(str(len(students)))
    expect(summary).to_contain_text("代李老师电话回访")

    # 5. ... and counsellor2 no longer has counsellor1's students.
    page.reload()
    expect(page.locator("[data-covering]")).to_have_count(0)
    expect(page.locator(f'[data-covering-for="{away.id}"]')).to_have_count(0)
