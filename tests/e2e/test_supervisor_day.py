"""Journey 2, the supervisor, in the browser and in Chinese: a new referral shows as a badge,
the supervisor accepts it, responds and marks it done; the counsellor sees every step on the
student's timeline."""

from playwright.sync_api import expect
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    Referral,
    Student,
    TimelineEntry,
)
from caretrack.services import referrals
from caretrack.services.notifications import unseen_counts
from tests.e2e.steps import StudentRef, flash, nav_badge, open_student, reread, user

COUNSELLOR = "counsellor2"
REASON = "疫情期间无法返校做实验，毕业论文进度落后，学生压力很大，请导师在线指导。"
ACCEPT_NOTE = "收到，本周安排线上指导。"
RESPONSE = "已与学生进行两次线上论文指导，调整了实验方案，改用公开数据完成分析。"
DONE_NOTE = "学生已按新计划推进，转介结束。"


def _refer_a_thesis_student(app_db):
    """As counsellor2, refer a thesis-pressure student to their supervisor (through the
    service: the counsellor's side of the referral form is journey 1's)."""
    counsellor = user(app_db, COUNSELLOR)
    active = select(Referral.student_id).where(Referral.state.in_(("open", "accepted")))
    student = app_db.session.scalars(
        select(Student)
        .join(CategoryAssignment, CategoryAssignment.student_id == Student.id)
        .join(CareCategory, CareCategory.id == CategoryAssignment.category_id)
        .where(
            CareCategory.code == "thesis_pressure", CategoryAssignment.ended_on.is_(None),
            Student.counsellor_id == counsellor.id, Student.supervisor_id.is_not(None),
            Student.id.not_in(active),
        )
        .order_by(Student.student_number)
    ).first()
    assert student is not None, "the demo college should have such a student"
    referral = referrals.refer(student, student.supervisor, counsellor, reason=REASON,
                               urgency="urgent")
    db.session.commit()
    return referral.id, StudentRef.of(student), student.supervisor.username


def test_supervisor_accepts_responds_and_closes_a_referral(sign_in, app_db):
    referral_id, student, supervisor_name = _refer_a_thesis_student(app_db)
    supervisor = user(app_db, supervisor_name)
    unseen = unseen_counts(supervisor)["referrals.index"]
    reread(app_db)

    # The supervisor lands on the inbox; the new referral is counted and marked.
    page = sign_in(supervisor_name)
    expect(page.get_by_role("heading", level=1)).to_contain_text("转介给我的学生")
    expect(nav_badge(page, "导师转介")).to_have_text(str(unseen))
    row = page.locator(f'tr[data-referral-id="{referral_id}"]')
    expect(row).to_contain_text("新")
    expect(row).to_contain_text("紧急")
    expect(row).to_contain_text("待处理")
    expect(row).to_contain_text(REASON[:20])

    # Open it: the student and the counsellor's reason; the badge clears.
    row.get_by_role("link", name=student.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{student.name} 的导师转介")
    expect(page.locator("[data-state]")).to_have_text("待处理")
    expect(page.locator(".list-group-item", has_text="转介了该学生")).to_contain_text(REASON)
    if unseen > 1:
        expect(nav_badge(page, "导师转介")).to_have_text(str(unseen - 1))
    else:
        expect(nav_badge(page, "导师转介")).to_have_count(0)

    # Accept, respond, mark done.
    accept = page.locator("form", has=page.get_by_role("button", name="接受"))
    accept.get_by_label("备注（可选）").fill(ACCEPT_NOTE)
    accept.get_by_role("button", name="接受").click()
    expect(flash(page)).to_contain_text("已保存。")
    expect(page.locator("[data-state]")).to_have_text("已接受")

    page.get_by_label("您做了什么？").fill(RESPONSE)
    page.get_by_role("button", name="添加回复").click()
    expect(flash(page)).to_contain_text("已保存。")
    expect(page.locator(".list-group-item", has_text="作出回复")).to_contain_text(RESPONSE)

    done = page.locator("form", has=page.get_by_role("button", name="标记为已完成"))
    done.get_by_label("备注（可选）").fill(DONE_NOTE)
    done.get_by_role("button", name="标记为已完成").click()
    expect(flash(page)).to_contain_text("已保存。")
    expect(page.locator("[data-state]")).to_have_text("已完成")
    expect(page.get_by_role("button", name="添加回复")).to_have_count(0)
    thread = page.locator(".list-group-item", has_text=supervisor.display_name)
    expect(thread).to_have_count(3)

    reread(app_db)
    referral = app_db.session.get(Referral, referral_id)
    assert referral.state == "done" and referral.closed_at is not None
    steps = app_db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.referral_id == referral_id,
                                    TimelineEntry.kind == "referral_step")
        .order_by(TimelineEntry.id)
    ).all()
    assert [(s.details["action"], s.body, s.author_id) for s in steps] == [
        ("accepted", ACCEPT_NOTE, supervisor.id),
        ("responded", RESPONSE, supervisor.id),
        ("done", DONE_NOTE, supervisor.id),
    ]

    # The counsellor is told (the badge counts the supervisor's three steps among the rest)
    # and sees each step on the student's timeline.
    told = unseen_counts(user(app_db, COUNSELLOR))["referrals.index"]
    assert told >= 3
    page = sign_in(COUNSELLOR)
    expect(nav_badge(page, "导师转介")).to_have_text(str(told))
    open_student(page, student)
    for step, body in (("接受了转介", ACCEPT_NOTE), ("回复", RESPONSE),
                       ("将转介标记为完成", DONE_NOTE)):
        entry = page.locator("article.timeline-entry.kind-referral_step", has_text=body)
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text(step)
        expect(entry).to_contain_text(supervisor.display_name)
        expect(entry).to_contain_text("当前：已完成")
    referral_entry = page.locator("article.timeline-entry.kind-referral", has_text=REASON)
    expect(referral_entry).to_contain_text("已完成")
    expect(referral_entry).to_contain_text(supervisor.display_name)
