"""Journey 1, a counsellor's morning (counsellor1), in the browser and in Chinese: the overdue
re-checks, a follow-up that moves the re-check, a supply delivery, a referral to the
supervisor, the daily report with a change, and a zero report of another day."""

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    DailyReport,
    DailyStatus,
    Notification,
    Recheck,
    Referral,
    Student,
    TimelineEntry,
    now_utc,
)
from caretrack.services import rechecks
from tests.e2e.steps import (
    StudentRef,
    flash,
    open_student,
    reread,
    timeline_entry,
    today,
    user,
)

COUNSELLOR = "counsellor1"


def test_overdue_recheck_follow_up_and_supply_delivery(sign_in, base_url, app_db):
    counsellor = user(app_db, COUNSELLOR)
    day = today()
    page = sign_in(COUNSELLOR)

    # The landing page leads with the overdue re-checks.
    overdue = page.locator("#overdue")
    expect(overdue.get_by_role("heading")).to_contain_text("逾期复查")
    shown = int(page.locator('[data-count="overdue"]').inner_text())
    assert shown > 0, "the demo college should give counsellor1 overdue re-checks"
    assert shown == rechecks.overdue_count(counsellor, now_utc())
    row = overdue.locator("tr[data-recheck-id]").first
    expect(row.locator("[data-overdue-days]")).to_contain_text("逾期")
    recheck_id = int(row.get_attribute("data-recheck-id"))
    student = StudentRef.of(app_db.session.get(Student, int(row.get_attribute("data-student-id"))))
    overdue_of_student = [r.id for r in rechecks.open_rechecks(app_db.session.get(
        Student, student.id)) if r.due_on < day]
    assert recheck_id in overdue_of_student

    # One click from the row opens the follow-up form; "check again in 2 days".
    row.get_by_role("link", name="记录跟进").click()
    expect(page.get_by_role("heading", name="记录跟进")).to_be_visible()
    page.get_by_label("电话", exact=True).check()
    page.get_by_label("联系上", exact=True).check()
    said = f"电话联系{student.name}，身体无异常，情绪稳定。"
    page.get_by_label("沟通内容").fill(said)
    page.get_by_label("几天后再次跟进（天）").fill("2")
    page.get_by_role("button", name="保存跟进记录").click()

    # Back on the landing page: the overdue re-check is gone from the list.
    expect(flash(page)).to_contain_text(f"已保存对{student.name}的跟进记录。")
    assert page.url == f"{base_url}/"
    expect(page.locator(f'#overdue tr[data-recheck-id="{recheck_id}"]')).to_have_count(0)
    expect(page.locator('[data-count="overdue"]')).to_have_text(
        str(shown - len(overdue_of_student)))

    # Stored: the overdue re-check is done by the follow-up, the next one is due in 2 days.
    reread(app_db)
    done = app_db.session.get(Recheck, recheck_id)
    assert done.state == "done"
    follow_up = app_db.session.get(TimelineEntry, done.completed_entry_id)
    assert (follow_up.kind, follow_up.body) == ("follow_up", said)
    assert follow_up.details["channel"] == "phone" and follow_up.details["reached"] is True
    following = app_db.session.scalars(select(Recheck).where(
        Recheck.student_id == student.id, Recheck.state == "open",
        Recheck.origin == "follow_up", Recheck.owner_id == counsellor.id,
    )).one()
    assert following.due_on == day + timedelta(days=2)

    # The student's page: the new re-check on top, the follow-up on the timeline.
    open_student(page, student)
    panel = page.locator(f'#rechecks [data-recheck-id="{following.id}"]')
    expect(panel).to_contain_text(following.due_on.isoformat())
    expect(panel).to_contain_text("跟进时约定")
    expect(page.locator(f'#rechecks [data-recheck-id="{recheck_id}"]')).to_have_count(0)
    entry = timeline_entry(page, "follow_up", said)
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("电话")
    expect(entry).to_contain_text("2 天")
    moved = app_db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.student_id == student.id, TimelineEntry.kind == "recheck_change",
    ).order_by(TimelineEntry.id.desc())).first()
    assert set(overdue_of_student) <= set(moved.details["recheck_ids"])
    # The follow-up and the re-check it completed are one row of the timeline.
    expect(page.locator(f"#entry-{moved.id}")).to_contain_text(
        f"到期的复查 · 下次 {following.due_on.isoformat()}")
    expect(page.locator(f"#entry-{moved.id}")).to_contain_text("已完成")

    # A supply delivery, from the same page.
    page.locator(".entry-actions").get_by_role("link", name="物资配送").click()
    expect(page.get_by_role("heading", name="物资配送")).to_be_visible()
    page.get_by_label("物资 1", exact=True).fill("医用口罩")
    page.get_by_label("数量 1", exact=True).fill("20")
    page.get_by_label("物资 2", exact=True).fill("体温计")
    page.get_by_label("数量 2", exact=True).fill("1")
    page.get_by_label("物资 3", exact=True).fill("方便面")
    page.get_by_label("数量 3", exact=True).fill("2")
    page.get_by_label("单位 3", exact=True).fill("箱")
    page.get_by_label("宿舍", exact=True).check()
    page.get_by_label("房间号或地址").fill("5号楼 302")
    page.get_by_label("已收到", exact=True).check()
    expect(page.get_by_label("配送人")).to_have_value(counsellor.display_name)
    page.get_by_role("button", name="保存配送记录").click()

    expect(flash(page)).to_contain_text("已保存物资配送记录。")
    expect(page.get_by_role("heading", level=1)).to_have_text(student.name)
    delivery = timeline_entry(page, "delivery", "医用口罩")
    expect(delivery).to_have_count(1)
    expect(delivery).to_contain_text("× 20")
    expect(delivery).to_contain_text("方便面 × 2箱")
    expect(delivery).to_contain_text("体温计")
    expect(delivery).to_contain_text("宿舍 · 5号楼 302")
    reread(app_db)
    stored = app_db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.student_id == student.id, TimelineEntry.kind == "delivery",
    ).order_by(TimelineEntry.id.desc())).first()
    assert stored.details["items"] == [{"name": "医用口罩", "quantity": "20", "unit": ""},
                                       {"name": "体温计", "quantity": "1", "unit": ""},
                                       {"name": "方便面", "quantity": "2", "unit": "箱"}]
    assert stored.details["received"] is True and stored.author_id == counsellor.id


def _thesis_student_with_supervisor(db, counsellor) -> Student:
    """A thesis-pressure student of the counsellor who has a supervisor and no open referral."""
    active = select(Referral.student_id).where(Referral.state.in_(("open", "accepted")))
    return db.session.scalars(
        select(Student)
        .join(CategoryAssignment, CategoryAssignment.student_id == Student.id)
        .join(CareCategory, CareCategory.id == CategoryAssignment.category_id)
        .where(
            CareCategory.code == "thesis_pressure", CategoryAssignment.ended_on.is_(None),
            Student.counsellor_id == counsellor.id, Student.supervisor_id.is_not(None),
            Student.id.not_in(active),
        )
        .order_by(Student.student_number.desc())
    ).first()


def test_refer_a_thesis_pressure_student_to_their_supervisor(sign_in, app_db):
    counsellor = user(app_db, COUNSELLOR)
    found = _thesis_student_with_supervisor(app_db, counsellor)
    assert found is not None, "the demo college should have such a student"
    student, supervisor = StudentRef.of(found), found.supervisor
    page = sign_in(COUNSELLOR)
    open_student(page, student)
    expect(page.locator(".badge.category-badge", has_text="论文或科研压力").first).to_be_visible()

    page.locator(".entry-actions").get_by_role("link", name="转介给导师").click()
    choice = page.get_by_label("导师")
    expect(choice).to_have_value(str(supervisor.id))  # the student's own, pre-selected
    expect(choice.locator("option:checked")).to_have_text(
        f"{supervisor.display_name} · 该生导师")
    reason = "毕业论文实验数据无法返校采集，学生焦虑，请导师在线指导调整研究计划。"
    page.get_by_label("转介原因").fill(reason)
    page.get_by_label("紧急", exact=True).check()
    page.get_by_role("button", name="转介", exact=True).click()

    expect(flash(page)).to_contain_text(f"已转介给{supervisor.display_name}。")
    entry = timeline_entry(page, "referral", reason)
    expect(entry).to_contain_text(supervisor.display_name)
    expect(entry).to_contain_text("紧急")
    expect(entry).to_contain_text("待处理")
    reread(app_db)
    referral = app_db.session.scalars(select(Referral).where(
        Referral.student_id == student.id, Referral.state == "open")).one()
    assert (referral.supervisor_id, referral.referred_by_id) == (supervisor.id, counsellor.id)
    assert (referral.reason, referral.urgency) == (reason, "urgent")
    assert app_db.session.scalars(select(Notification).where(
        Notification.user_id == supervisor.id, Notification.referral_id == referral.id,
        Notification.kind == "referral.new", Notification.seen_at.is_(None),
    )).one()


def answer_unconfirmed(page):
    """Submit anyway when asked how many students are unconfirmed (asked only while some are)."""
    page.wait_for_load_state()
    if page.locator("[data-confirm-question]").count():
        page.get_by_role("button", name="仍然提交").click()


def test_daily_report_with_a_change_then_a_zero_report_of_another_day(sign_in, app_db):
    counsellor = user(app_db, COUNSELLOR)
    day = today()
    other_day = day - timedelta(days=30)  # before the demo's three weeks of reports
    assert app_db.session.scalars(select(DailyReport).where(
        DailyReport.counsellor_id == counsellor.id, DailyReport.day.in_((day, other_day))
    )).first() is None, "counsellor1 has not reported today in the demo college"
    page = sign_in(COUNSELLOR)

    # The landing page's card says the report is not in; it leads to the daily page.
    card = page.locator("[data-daily-card]")
    expect(card.locator("[data-report-state]")).to_have_attribute("data-report-state", "missing")
    card.get_by_role("link", name="记录并上报").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("每日上报")
    expect(page.get_by_role("heading", level=1)).to_contain_text(day.isoformat())

    # One student moved (to a place no demo student is): change their place for today.
    page.locator(".show-tabs").get_by_role("link", name="全部学生").click()
    row = page.locator("table.daily-table tbody tr").first
    student = StudentRef.of(app_db.session.get(Student, int(row.get_attribute("data-student-id"))))
    row.locator("summary", has_text="修改").click()
    moved_to = "拉萨"
    row.get_by_label("所在省份").fill("西藏")
    row.get_by_label("所在城市").fill(moved_to)
    row.get_by_label("在校", exact=True).uncheck()
    row.get_by_label("备注", exact=True).fill("随家人前往拉萨")
    row.get_by_role("button", name="保存为今日状态").click()
    expect(flash(page)).to_contain_text(f"已记录{student.name}的变化。")

    changes = int(page.locator('[data-total="changes"]').inner_text())
    assert changes >= 1
    page.locator(".show-tabs").get_by_role("link", name="较昨日变化").click()
    expect(page.locator(f'table.daily-table tr[data-student-id="{student.id}"]')).to_contain_text(
        moved_to)
    page.get_by_role("button", name=f"提交上报（{changes} 项变化）").click()
    answer_unconfirmed(page)
    expect(flash(page)).to_contain_text(f"已提交上报，共 {changes} 项变化。")
    report_card = page.locator("[data-report-card]")
    expect(report_card.locator("[data-report-state]")).to_have_text("已提交")
    expect(report_card).to_contain_text("等待副书记审核。")

    reread(app_db)
    report = app_db.session.scalars(select(DailyReport).where(
        DailyReport.counsellor_id == counsellor.id, DailyReport.day == day)).one()
    assert (report.state, report.is_zero, report.changes_count) == ("submitted", False, changes)
    status = app_db.session.scalars(select(DailyStatus).where(
        DailyStatus.student_id == student.id, DailyStatus.day == day)).one()
    assert (status.province, status.city, status.note) == ("西藏", moved_to, "随家人前往拉萨")

    # Another day with nothing to report: a zero report, in one click.
    page.get_by_label("日期", exact=True).fill(other_day.isoformat())
    page.get_by_role("button", name="查看", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(other_day.isoformat())
    expect(page.locator('[data-total="changes"]')).to_have_text("0")
    page.get_by_role("button", name="零报告：无变化").click()
    # Nobody confirmed that day: asked once, with the number.
    expect(page.locator("[data-confirm-question]")).to_contain_text("名学生今日未确认状态")
    answer_unconfirmed(page)
    expect(flash(page)).to_contain_text("已提交零报告：无变化。")
    expect(page.get_by_role("heading", level=1)).to_contain_text(other_day.isoformat())
    report_card = page.locator("[data-report-card]")
    expect(report_card.locator("[data-report-state]")).to_have_text("已提交")
    expect(report_card.locator("[data-report-zero]")).to_have_text("零报告")
    expect(report_card.locator("[data-report-late]")).to_have_text("迟报")

    reread(app_db)
    zero = app_db.session.scalars(select(DailyReport).where(
        DailyReport.counsellor_id == counsellor.id, DailyReport.day == other_day)).one()
    assert (zero.state, zero.is_zero, zero.changes_count, zero.late) == (
        "submitted", True, 0, True)


