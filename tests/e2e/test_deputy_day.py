"""Journey 3, the deputy secretary, in the browser and in Chinese: review a high-concern student
and ask the counsellor to act by a date (the counsellor then sees the re-check); a day's
four-stage sign-off of 经管学院 - the league secretary approves the reports, downloads the
college report and merges them, the deputy checks the merged report, the secretary sends it,
and the university office sees the college done."""

from datetime import UTC, time, timedelta

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import func, select

from caretrack.access import signing_stages
from caretrack.extensions import db
from caretrack.models import (
    STAGE_ROLES,
    College,
    CollegeSignOff,
    DailyReport,
    Recheck,
    Role,
    Stage,
    Student,
    TimelineEntry,
    User,
)
from caretrack.services import daily
from caretrack.services.clock import local_datetime
from caretrack.services.daily import sign_off
from caretrack.services.review import queue_query
from tests.e2e.steps import StudentRef, flash, nav_link, open_student, reread, today, user

DEPUTY = "deputy"
#: Journeys 1 and 2 work with counsellor1's and counsellor2's students.
OTHER_COUNSELLORS = ("counsellor3", "counsellor4", "counsellor5")


def test_review_asks_the_counsellor_to_act_by_a_date(sign_in, app_db):
    deputy = user(app_db, DEPUTY)
    queue = app_db.session.scalars(queue_query(deputy).limit(20)).all()
    found = next((s for s in queue if s.concern_level == "high"
                  and s.counsellor.username in OTHER_COUNSELLORS), None)
    assert found is not None, "the first page of the queue should hold such a student"
    student, counsellor = StudentRef.of(found), found.counsellor
    act_by = today() + timedelta(days=3)
    note = "情绪波动较大，家人在湖北。请辅导员三天内电话回访，并联系心理中心预约咨询。"
    reread(app_db)

    page = sign_in(DEPUTY)
    nav_link(page, "审阅队列").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("审阅队列")
    item = page.locator(f'.list-group-item[data-student-id="{student.id}"]')
    expect(item).to_contain_text("高")
    expect(item).to_contain_text(counsellor.display_name)
    item.get_by_role("link", name="审阅", exact=True).click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("审阅")
    expect(heading).to_contain_text(student.name)
    page.get_by_label("审阅意见").fill(note)
    page.get_by_label("要求辅导员在指定日期前跟进").check()
    page.get_by_label("完成期限").fill(act_by.isoformat())
    # Beside the control, the date in year-month-day order whatever the browser's order.
    expect(page.locator("#act_by + .date-echo")).to_have_text(act_by.isoformat())
    page.get_by_role("button", name="保存审阅").click()
    expect(flash(page)).to_contain_text(f"已记录对 {student.name} 的审阅。")
    expect(page.get_by_role("heading", level=1)).to_contain_text("审阅队列")

    reread(app_db)
    recheck = app_db.session.scalars(select(Recheck).where(
        Recheck.student_id == student.id, Recheck.origin == "review", Recheck.state == "open",
    )).one()
    assert (recheck.due_on, recheck.owner_id, recheck.reason) == (act_by, counsellor.id, note)
    review = app_db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.student_id == student.id, TimelineEntry.kind == "review",
    ).order_by(TimelineEntry.id.desc())).first()
    assert (review.author_id, review.body, review.details["decision"]) == (
        deputy.id, note, "ask_counsellor")

    # The counsellor finds the request among the student's open re-checks, and the review
    # on the timeline.
    page = sign_in(counsellor.username)
    open_student(page, student)
    asked = page.locator(f'#rechecks [data-recheck-id="{recheck.id}"]')
    expect(asked).to_contain_text(act_by.isoformat())
    expect(asked).to_contain_text("审阅要求")
    expect(asked).to_contain_text(note)
    expect(asked.get_by_role("link", name="记录跟进")).to_be_visible()
    entry = page.locator(f"#entry-{review.id}")
    expect(entry).to_contain_text(f"要求辅导员在指定日期前跟进 · 期限 {act_by.isoformat()}")
    expect(entry).to_contain_text(deputy.display_name)


def _submit_every_report(app_db, day):
    """Every counsellor's report of ``day`` in 经管学院 is in (through the services):
    counsellor3 recorded one student's move that morning, the others report no change."""
    counsellors = app_db.session.scalars(
        select(User).where(User.role == Role.COUNSELLOR, User.college_id == _sem(app_db).id)
        .order_by(User.username)).all()
    assert not app_db.session.scalars(select(DailyReport).where(DailyReport.day == day)).first()
    checkin = local_datetime(day, time(9, 10)).astimezone(UTC)
    mover = None
    for counsellor in counsellors:
        if counsellor.username == "counsellor3":
            mover = app_db.session.scalars(
                select(Student).where(Student.counsellor_id == counsellor.id,
                                      Student.on_campus.is_(False))
                .order_by(Student.student_number)).first()
            city = "黄冈" if mover.city != "黄冈" else "武汉"
            daily.apply_statuses(counsellor, [daily.StatusInput(
                mover.id, daily.StatusValues("湖北", city, False, "isolated_home"),
                note="返回湖北家中，居家隔离")], checkin)
        daily.submit_report(counsellor, day, checkin + timedelta(hours=1, minutes=20))
    db.session.commit()
    return [c.display_name for c in counsellors], StudentRef.of(mover)


def _sign_off_the_other_colleges(app_db, day) -> dict[str, int]:
    """The demo's two other colleges sign ``day`` off through the services, every stage in
    turn (each counsellor reports no change); return each college's students by code."""
    checkin = local_datetime(day, time(9, 30)).astimezone(UTC)
    students = {}
    for college in app_db.session.scalars(select(College).where(College.code != "sem")):
        people = {role: app_db.session.scalars(select(User).where(
            User.college_id == college.id, User.role == role).order_by(User.id)).first()
            for role in STAGE_ROLES.values()}
        stages = signing_stages(college)
        for counsellor in app_db.session.scalars(select(User).where(
                User.college_id == college.id, User.role == Role.COUNSELLOR)):
            report = daily.submit_report(counsellor, day, checkin)
            daily.review_report(report, people[STAGE_ROLES[Stage(stages[0])]], checkin,
                                approve=True)
        version = 0
        for n, stage in enumerate(stages):
            version = sign_off.pass_on(people[STAGE_ROLES[Stage(stage)]], day,
                                       checkin + timedelta(minutes=10 + n),
                                       version=version).version_id
        students[college.code] = app_db.session.scalar(select(func.count(Student.id)).where(
            Student.college_id == college.id))
    db.session.commit()
    return students


def _sem(app_db) -> College:
    return app_db.session.scalars(select(College).where(College.code == "sem")).one()


def _show_day(page, day) -> None:
    page.get_by_label("日期", exact=True).fill(day.isoformat())
    page.get_by_role("button", name="查看", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(day.isoformat())


def test_the_days_four_stages_then_the_office_sees_the_college_done(sign_in, app_db, tmp_path):
    """The league secretary approves the reports, downloads the college report and passes it
    on; the deputy checks what was passed on and passes it on; the secretary approves and
    sends it; the university office's board shows the college done."""
    day = today() - timedelta(days=40)  # before the demo's weeks of reports
    names, mover = _submit_every_report(app_db, day)
    sem = _sem(app_db)
    students = app_db.session.scalar(select(func.count(Student.id)).where(
        Student.college_id == sem.id))
    league = user(app_db, "league")
    reread(app_db)

    # 1. The league secretary approves each report from the board.
    page = sign_in("league")
    nav_link(page, "每日上报汇总").click()
    _show_day(page, day)
    rows = page.locator("table.board-table tbody tr")
    expect(rows).to_have_count(len(names))
    expect(rows.locator('[data-report-state="submitted"]')).to_have_count(len(names))
    expect(page.locator("[data-export-waiting]")).to_be_visible()
    expect(page.locator('[data-total="students"]')).to_have_text(str(students))
    expect(page.locator('[data-total="changes"]')).to_have_text("1")
    for name in names:
        row = rows.filter(has_text=name)
        row.get_by_role("button", name="通过").click()
        # Nobody checked in that day: the league secretary is asked once, with the number.
        expect(page.locator("[data-confirm-question]")).to_contain_text("名学生今日未确认状态")
        page.get_by_role("button", name="仍然通过").click()
        expect(flash(page)).to_contain_text(f"{name}的上报已通过。")
        expect(row.locator("[data-report-state]")).to_have_text("已通过")
    expect(page.locator("[data-export-waiting]")).to_have_count(0)

    # The college report, as the spreadsheet the prevention office receives.
    with page.expect_download() as download:
        page.get_by_role("link", name="学院汇总（XLSX）").click()
    assert download.value.suggested_filename == f"college-report-{day.isoformat()}.xlsx"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    book = load_workbook(saved, read_only=True)
    assert book.sheetnames == ["汇总", "较昨日变化", "健康异常·湖北·风险地区", "审核记录",
                               "各辅导员未确认人数", "未确认的学生", "全部学生", "提前返校"]
    # the demo's approved early return is listed with its arrival day
    assert "已批准" in [r[4] for r in book["提前返校"].iter_rows(min_row=2, values_only=True)]
    summary = [list(r) for r in book["汇总"].iter_rows(values_only=True)]
    totals = {r[0]: r[1] for r in summary if r and r[0]}
    assert totals["日期"] == day.isoformat()
    assert totals["学生"] == students
    assert totals["较昨日变化"] == 1
    header = next(i for i, r in enumerate(summary) if r and r[0] == "辅导员")
    signed = {r[0]: r for r in summary[header + 1:] if r and r[0]}
    assert sorted(signed) == sorted(names)
    for row in signed.values():
        assert row[2] == "已通过" and row[7] == league.display_name
    changes = [r for r in book["较昨日变化"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert [(r[0], r[1]) for r in changes] == [(mover.number, mover.name)]
    assert changes[0][5].startswith("湖北")
    everyone = sum(1 for r in book["全部学生"].iter_rows(min_row=2, values_only=True) if r[0])
    assert everyone == students

    # 2. The league secretary merges them and passes the college's report on.
    nav_link(page, "日报签发").click()
    _show_day(page, day)
    expect(page.locator('[data-stage="merge"]')).to_have_attribute("data-state", "open")
    page.get_by_role("button", name="审核通过并上报").click()
    expect(flash(page)).to_contain_text("学院日报已上报。")
    expect(page.locator('[data-stage="merge"]')).to_have_attribute("data-state", "done")
    expect(page.locator('[data-stage="merge"]')).to_contain_text(league.display_name)
    expect(page.locator('[data-stage="check"]')).to_have_attribute("data-state", "open")

    # 3. The deputy checks exactly what was passed on: the totals and the one change.
    deputy = sign_in(DEPUTY)
    nav_link(deputy, "日报签发").click()
    _show_day(deputy, day)
    snapshot = deputy.locator("[data-snapshot]")
    expect(snapshot.locator('[data-total="students"]')).to_have_text(str(students))
    expect(snapshot.locator('[data-total="changes"]')).to_have_text("1")
    expect(snapshot.locator("[data-changes] tbody tr")).to_have_count(1)
    expect(snapshot.locator("[data-changes]")).to_contain_text(mover.name)
    deputy.get_by_role("button", name="审核通过并上报").click()
    expect(flash(deputy)).to_contain_text("学院日报已上报。")
    expect(deputy.locator('[data-stage="check"]')).to_have_attribute("data-state", "done")
    # Locked once passed on: no step of the deputy's on the page any more.
    expect(deputy.locator("[data-pass]")).to_have_count(0)

    # 4. The secretary approves it and sends it to the university office.
    secretary = sign_in("secretary")
    nav_link(secretary, "日报签发").click()
    _show_day(secretary, day)
    expect(secretary.locator("[data-snapshot]").locator('[data-total="students"]')).to_have_text(
        str(students))
    secretary.get_by_role("button", name="审批并报送学校防控办").click()
    expect(flash(secretary)).to_contain_text("学院日报已上报。")
    expect(secretary.locator("[data-done]")).to_be_visible()

    # 5. The university office's board shows 经管学院 done that day, with its numbers.
    office = sign_in("office")
    nav_link(office, "各学院日报").click()
    _show_day(office, day)
    row = office.locator('tr[data-college="sem"]')
    expect(row).to_have_attribute("data-stage", "done")
    expect(row.locator('[data-number="students"]')).to_have_text(f"{students:,}")

    # 6. Once the two other colleges have signed the day off too, every college is done and
    # the university report downloads, with each college's totals and the university's.
    others = _sign_off_the_other_colleges(app_db, day)
    _show_day(office, day)
    expect(office.locator('tr[data-college][data-stage="done"]')).to_have_count(3)
    with office.expect_download() as download:
        office.get_by_role("link", name="全校日报（XLSX）").click()
    assert download.value.suggested_filename == f"university-report-{day.isoformat()}.xlsx"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    book = load_workbook(saved, read_only=True)
    rows = [r for r in book[book.sheetnames[0]].iter_rows(min_row=2, values_only=True) if r[0]]
    by_code = {r[1]: r for r in rows if r[1]}
    assert {code: r[2] for code, r in by_code.items()} == {"sem": students, **others}
    assert by_code["sem"][10] == 1  # the one change of the day, as the deputy checked it
    university = next(r for r in rows if not r[1])
    assert university[2] == students + sum(others.values())
    assert university[10] == sum(r[10] for r in by_code.values())
    record = [r for r in book[book.sheetnames[2]].iter_rows(min_row=2, values_only=True)
              if r[0] == sem.name_zh]
    assert [r[3] for r in record] == [league.display_name, user(app_db, DEPUTY).display_name,
                                      user(app_db, "secretary").display_name]

    reread(app_db)
    states = app_db.session.scalars(select(DailyReport.state).where(
        DailyReport.day == day, DailyReport.counsellor_id.in_(select(User.id).where(
            User.college_id == sem.id)))).all()
    assert states == ["approved"] * len(names)
    sign_off = app_db.session.scalars(select(CollegeSignOff).where(
        CollegeSignOff.college_id == sem.id, CollegeSignOff.day == day)).one()
    assert sign_off.stage == "done" and sign_off.sent_at is not None
    assert [(s.stage, s.action) for s in sign_off.steps] == [
        ("merge", "pass"), ("check", "pass"), ("approve", "pass")]
