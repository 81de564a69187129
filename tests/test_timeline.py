"""The student's timeline: what a counsellor records, how it shows, and what nobody can do."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    CategoryAssignment,
    ConcernChange,
    EntryKind,
    Notification,
    Recheck,
    Referral,
    TimelineEntry,
)
from caretrack.services import cases, entries, rechecks, referrals
from caretrack.services.timeline import add_entry
from tests import factories
from tests.helpers import count_queries, text_of

XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def page_of(client, student, lang="zh_CN", **args):
    query = "&".join(f"{k}={v}" for k, v in {"lang": lang, **args}.items())
    return text_of(client.get(f"/students/{student.id}?{query}"))


def text_of_html(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def entries_of(student, kind=None) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.student_id == student.id)
    if kind:
        query = query.where(TimelineEntry.kind == kind)
    return list(db.session.scalars(query.order_by(TimelineEntry.id)))


@pytest.fixture
def hubei(app):
    category = factories.CategoryFactory(code="hubei", name_zh="在湖北或经停湖北",
                                         name_en="In Hubei or passed through", cadence_days=2)
    db.session.commit()
    return category


@pytest.fixture
def contact(app):
    category = factories.CategoryFactory(code="hubei_contact", name_zh="接触过湖北人员",
                                         name_en="Contact with people from Hubei",
                                         cadence_days=2, isolation_days=14)
    db.session.commit()
    return category


FOLLOW_UP = {
    "occurred_at": "2020-02-10T10:30", "channel": "wechat", "reached": "1", "health": "symptoms",
    "body": "有些咳嗽，体温37.3℃，叮嘱居家观察", "check_again_in_days": "2",
}
DELIVERY = {
    "occurred_at": "2020-02-11T15:00",
    "items-0-name": "口罩", "items-0-quantity": "20",
    "items-1-name": "方便面", "items-1-quantity": "2", "items-1-unit": "箱",
    "items-2-name": "苹果", "items-2-quantity": "1.5", "items-2-unit": "kg",
    "place": "conference_centre", "place_detail": "会议中心201房", "received": "0",
    "delivered_by": "学生干部 王同学", "body": "放在门口，电话告知",
}


# -- each kind, recorded through its form, shows with its fields in both languages -----------


def test_follow_up_shows_its_fields_in_both_languages(client, auth, college):
    auth.login(college.counsellor)
    response = client.post(f"/students/{college.own_student.id}/follow-ups/new", data=FOLLOW_UP)
    assert response.status_code == 302
    zh = page_of(client, college.own_student)
    assert "跟进联系" in zh and "2020-02-10 10:30" in zh and "李老师" in zh
    assert "方式 微信" in zh and "联系上 是" in zh and "健康状况 有症状" in zh
    assert "再次跟进 2 天" in zh and "有些咳嗽，体温37.3℃，叮嘱居家观察" in zh
    en = page_of(client, college.own_student, lang="en")
    assert "Follow-up" in en and "Channel WeChat" in en and "Reached Yes" in en
    assert "Health observed Symptoms" in en and "Check again in 2 days" in en
    entry = entries_of(college.own_student, EntryKind.FOLLOW_UP)[0]
    # Typed in the college's time (UTC+8), stored in UTC.
    assert entry.occurred_at == datetime(2020, 2, 10, 2, 30, tzinfo=UTC)
    assert entry.details == {"channel": "wechat", "reached": True, "health": "symptoms",
                             "check_again_in_days": 2}


def test_delivery_shows_items_place_and_who(client, auth, college):
    auth.login(college.counsellor)
    assert client.post(f"/students/{college.own_student.id}/deliveries/new",
                       data=DELIVERY).status_code == 302
    zh = page_of(client, college.own_student)
    assert "物资配送" in zh and "口罩 × 20" in zh and "方便面 × 2箱" in zh
    assert "苹果 × 1.5 kg" in zh
    stored = db.session.scalars(select(TimelineEntry)).one().details["items"]
    assert stored == [{"name": "口罩", "quantity": "20", "unit": ""},
                      {"name": "方便面", "quantity": "2", "unit": "箱"},
                      {"name": "苹果", "quantity": "1.5", "unit": "kg"}]
    assert "送达地点 会议中心 · 会议中心201房" in zh and "签收情况 未收到" in zh
    assert "配送人 学生干部 王同学" in zh
    en = page_of(client, college.own_student, lang="en")
    assert "Supply delivery" in en and "Delivered to Conference centre · 会议中心201房" in en
    assert "Receipt Not received" in en and "Delivered by 学生干部 王同学" in en
    assert "放在门口，电话告知" in en


def test_referral_goes_to_the_students_own_supervisor_by_default(client, auth, college):
    auth.login(college.counsellor)
    form = client.get(f"/students/{college.graduate.id}/referrals/new").get_data(as_text=True)
    assert f'<option selected value="{college.supervisor.id}">' in form
    other = factories.SupervisorFactory(display_name="钱教授")
    db.session.commit()
    response = client.post(f"/students/{college.graduate.id}/referrals/new", data={
        "supervisor_id": str(other.id), "reason": "论文开题受疫情影响，请导师指导",
        "urgency": "urgent",
    })
    assert response.status_code == 302
    referral = db.session.scalars(select(Referral)).one()
    assert (referral.supervisor_id, referral.state, referral.urgency) == (other.id, "open",
                                                                          "urgent")
    zh = page_of(client, college.graduate)
    assert "导师转介" in zh and "转介给 钱教授" in zh and "紧急程度 紧急" in zh
    assert "当前 待处理" in zh and "论文开题受疫情影响，请导师指导" in zh
    en = page_of(client, college.graduate, lang="en")
    assert "Referred to 钱教授" in en and "Urgency Urgent" in en and "Now Open" in en


def test_note_and_its_text(client, auth, college):
    auth.login(college.counsellor)
    client.post(f"/students/{college.own_student.id}/notes/new",
                data={"body": "家长来电询问返校时间\n已解释学校安排"})
    zh = page_of(client, college.own_student)
    assert "备注" in zh and "家长来电询问返校时间 已解释学校安排" in zh
    assert "Note" in page_of(client, college.own_student, lang="en")


def test_category_added_with_its_isolation_window_then_ended(client, auth, college, contact):
    auth.login(college.counsellor)
    url = f"/students/{college.own_student.id}"
    form = client.get(f"{url}/categories/new").get_data(as_text=True)
    assert "接触过湖北人员 · 隔离期 14 天" in form
    assert client.post(f"{url}/categories/new", data={
        "category_id": str(contact.id), "started_on": "2020-02-01", "reason": "家人从武汉返回",
    }).status_code == 302
    zh = page_of(client, college.own_student)
    assert "添加 接触过湖北人员 自 2020-02-01 起" in zh and "隔离期 14 天" in zh
    assert "隔离期于 2020-02-15 结束" in zh and "家人从武汉返回" in zh
    en = page_of(client, college.own_student, lang="en")
    assert "Added Contact with people from Hubei since 2020-02-01" in en
    assert "Isolation window ends 2020-02-15" in en

    assignment = db.session.scalars(select(CategoryAssignment)).one()
    assert client.post(f"{url}/categories/{assignment.id}/end", data={
        "ended_on": "2020-02-15", "reason": "隔离期满，无症状",
    }).status_code == 302
    zh = page_of(client, college.own_student)
    assert "结束 接触过湖北人员 于 2020-02-15" in zh and "隔离期满，无症状" in zh
    assert "2020-02-01 – 2020-02-15" in zh  # the ended category stays in the history
    assert "Ended Contact with people from Hubei on 2020-02-15" in page_of(
        client, college.own_student, lang="en")


def test_concern_level_change_with_reason(client, auth, college):
    auth.login(college.counsellor)
    url = f"/students/{college.own_student.id}/concern"
    assert client.post(url, data={"level": "high", "reason": "本人发热"}).status_code == 302
    zh = page_of(client, college.own_student, kind="concern_change")
    assert "关注程度变更" in zh and "正常 → 高" in zh and "本人发热" in zh
    assert "Normal → High" in page_of(client, college.own_student, lang="en")
    # The same level again is refused next to the field, keeping the reason typed.
    response = client.post(url + "?lang=zh_CN", data={"level": "high", "reason": "再次确认"})
    assert response.status_code == 200
    assert "该学生已经是这个关注程度" in text_of(response) and "再次确认" in text_of(response)
    assert count(ConcernChange) == 1


# -- corrections, and no route that changes an entry ------------------------------------------


def test_a_correction_leaves_the_original_struck_through_and_linked(client, auth, college):
    auth.login(college.counsellor)
    student = college.own_student
    client.post(f"/students/{student.id}/follow-ups/new", data=FOLLOW_UP)
    original = entries_of(student, EntryKind.FOLLOW_UP)[0]
    form = client.get(f"/students/{student.id}/entries/{original.id}/correct")
    assert "有些咳嗽" in text_of(form)  # the entry being corrected is shown
    response = client.post(f"/students/{student.id}/entries/{original.id}/correct",
                           data={"body": "方式记错了：应为电话"})
    assert response.status_code == 302
    correction = entries_of(student, EntryKind.CORRECTION)[0]
    assert correction.corrects_id == original.id
    db.session.refresh(original)
    assert original.body == FOLLOW_UP["body"] and original.details["channel"] == "wechat"

    body = client.get(f"/students/{student.id}").get_data(as_text=True)
    assert f'class="timeline-entry kind-follow_up entry-corrected" id="entry-{original.id}"' in body
    assert f'href="/students/{student.id}?entry={correction.id}#entry-{correction.id}"' in body
    assert f'href="/students/{student.id}?entry={original.id}#entry-{original.id}"' in body
    zh = text_of(client.get(f"/students/{student.id}"))
    assert "已更正" in zh and "已由李老师于" in zh and "方式记错了：应为电话" in zh
    assert "有些咳嗽，体温37.3℃" in zh  # the original stays readable
    assert "更正 2020-02-10 10:30 的跟进联系" in zh
    en = page_of(client, student, lang="en")
    assert "Corrected by 李老师 on" in en and "see the correction" in en
    # A second correction of the same entry is refused: correct the correction instead.
    again = client.post(f"/students/{student.id}/entries/{original.id}/correct?lang=zh_CN",
                        data={"body": "再改一次"})
    assert "这条记录已有更正" in text_of(again)
    assert len(entries_of(student, EntryKind.CORRECTION)) == 1


def test_only_what_the_counsellor_wrote_is_corrected_this_way(client, auth, college, hubei):
    cases.change_concern_level(college.own_student, "high", college.counsellor, reason="发热")
    db.session.commit()
    entry = entries_of(college.own_student, EntryKind.CONCERN_CHANGE)[0]
    auth.login(college.counsellor)
    assert client.get(
        f"/students/{college.own_student.id}/entries/{entry.id}/correct").status_code == 404


def test_no_route_updates_or_deletes_an_entry(app, client, auth, college):
    for rule in app.url_map.iter_rules():
        assert not rule.methods & {"PUT", "PATCH", "DELETE"}, rule
        if "entry_id" in rule.arguments:
            assert rule.endpoint == "students.correction", rule
    entry = add_entry(college.own_student, EntryKind.NOTE, college.counsellor, body="原始记录")
    db.session.commit()
    auth.login(college.counsellor)
    for suffix in ("", "/edit", "/delete", "/update"):
        url = f"/students/{college.own_student.id}/entries/{entry.id}{suffix}"
        assert client.post(url, data={"body": "改掉"}).status_code in (404, 405)
    db.session.refresh(entry)
    assert entry.body == "原始记录"
    assert count(TimelineEntry) == 1


# -- nobody records for another counsellor's student ------------------------------------------


def _forms(college, contact):
    """(path under the student, data) of every form that writes."""
    return {
        "follow_up": ("follow-ups/new", FOLLOW_UP),
        "delivery": ("deliveries/new", DELIVERY),
        "referral": ("referrals/new", {"supervisor_id": str(college.supervisor.id),
                                       "reason": "论文压力", "urgency": "normal"}),
        "note": ("notes/new", {"body": "家长来电"}),
        "add_category": ("categories/new", {"category_id": str(contact.id),
                                            "started_on": "2020-02-01", "reason": "接触"}),
        "concern": ("concern", {"level": "high", "reason": "发热"}),
    }


WRITTEN = (TimelineEntry, Referral, CategoryAssignment, ConcernChange, Recheck, Notification)


def _written():
    return {model.__name__: count(model) for model in WRITTEN}


@pytest.mark.parametrize("form", ["follow_up", "delivery", "referral", "note", "add_category",
                                  "concern"])
def test_another_counsellors_student_is_404_and_nothing_is_written(
        client, auth, college, contact, form):
    path, data = _forms(college, contact)[form]
    before = _written()
    for user in (college.counsellor, college.deputy, college.supervisor, college.admin):
        auth.login(user)
        assert client.get(f"/students/{college.other_student.id}/{path}").status_code == 404
        response = client.post(f"/students/{college.other_student.id}/{path}", data=data)
        assert response.status_code == 404, user.role
        auth.logout()
    assert _written() == before


@pytest.mark.parametrize("form", ["follow_up", "delivery", "note", "concern"])
def test_the_body_cannot_target_another_student(client, auth, college, contact, form):
    path, data = _forms(college, contact)[form]
    auth.login(college.counsellor)
    response = client.post(f"/students/{college.own_student.id}/{path}",
                           data={**data, "student_id": str(college.other_student.id)})
    assert response.status_code == 302
    assert entries_of(college.other_student) == []
    assert entries_of(college.own_student)
    assert college.other_student.concern_level == "normal"


def test_entries_and_assignments_of_another_student_are_404(client, auth, college, contact):
    theirs = add_entry(college.other_student, EntryKind.NOTE, college.other_counsellor, body="x")
    assignment = cases.assign_category(college.other_student, contact, college.other_counsellor,
                                       started_on=date(2020, 2, 1))
    referral = factories.ReferralFactory(student=college.other_student,
                                         referred_by=college.other_counsellor)
    db.session.commit()
    before = _written()
    auth.login(college.counsellor)
    own = college.own_student.id
    for url, data in (
        (f"/students/{own}/entries/{theirs.id}/correct", {"body": "改"}),
        (f"/students/{own}/categories/{assignment.id}/end",
         {"ended_on": "2020-02-10", "reason": "结束"}),
        (f"/students/{own}/referrals/{referral.id}/revoke", {"reason": "撤回"}),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, data=data).status_code == 404
    assert _written() == before


# -- double submit, audit, free text ----------------------------------------------------------


def test_a_double_submit_records_one_entry(client, auth, college, contact):
    auth.login(college.counsellor)
    student = college.own_student
    for name, (path, data) in _forms(college, contact).items():
        if name == "referral":
            student = college.graduate
        key = f"key-{name}"
        first = client.post(f"/students/{student.id}/{path}", data={**data, "submission_key": key})
        before = _written()
        second = client.post(f"/students/{student.id}/{path}",
                             data={**data, "submission_key": key})
        assert first.status_code == second.status_code == 302, name
        assert first.location == second.location
        assert _written() == before, name
        student = college.own_student
    assert db.session.scalar(select(func.count(TimelineEntry.id)).where(
        TimelineEntry.kind == EntryKind.FOLLOW_UP)) == 1


def test_the_form_carries_a_fresh_key(client, auth, college):
    auth.login(college.counsellor)
    first = client.get(f"/students/{college.own_student.id}/notes/new").get_data(as_text=True)
    second = client.get(f"/students/{college.own_student.id}/notes/new").get_data(as_text=True)
    key = 'name="submission_key" type="hidden" value="'
    assert key in first
    assert first.split(key)[1][:20] != second.split(key)[1][:20]


def test_views_and_writes_are_audited_without_the_text(client, auth, college, contact):
    auth.login(college.counsellor)
    student = college.own_student
    secret = "家庭经济困难，父母失业"
    client.get(f"/students/{student.id}")
    client.post(f"/students/{student.id}/follow-ups/new", data={**FOLLOW_UP, "body": secret})
    client.post(f"/students/{student.id}/deliveries/new", data={**DELIVERY, "body": secret})
    client.post(f"/students/{student.id}/notes/new", data={"body": secret})
    note = entries_of(student, EntryKind.NOTE)[0]
    client.post(f"/students/{student.id}/entries/{note.id}/correct", data={"body": secret})
    client.post(f"/students/{student.id}/categories/new", data={
        "category_id": str(contact.id), "started_on": "2020-02-01", "reason": secret})
    assignment = db.session.scalars(select(CategoryAssignment)).one()
    client.post(f"/students/{student.id}/categories/{assignment.id}/end",
                data={"ended_on": "2020-02-15", "reason": secret})
    client.post(f"/students/{student.id}/concern", data={"level": "elevated", "reason": secret})
    client.post(f"/students/{college.graduate.id}/referrals/new", data={
        "supervisor_id": str(college.supervisor.id), "reason": secret, "urgency": "normal"})
    referral = db.session.scalars(select(Referral)).one()
    client.post(f"/students/{college.graduate.id}/referrals/{referral.id}/revoke",
                data={"reason": secret})

    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    actions = [e.action for e in events if e.action not in ("login",)]
    assert actions == [
        "student.view", "follow_up.create", "delivery.create", "note.create",
        "correction.create", "category.add", "category.end", "concern.change",
        "referral.create", "referral.revoked",
    ]
    for event in events:
        assert secret not in event.detail
        assert event.user_id == college.counsellor.id and event.ip == "127.0.0.1", event.action
    assert {e.student_id for e in events if e.action != "login"} == {student.id,
                                                                      college.graduate.id}
    follow_up = entries_of(student, EntryKind.FOLLOW_UP)[0]
    assert f"entry:{follow_up.id}" in [e.detail for e in events]


FREE_TEXT = [
    ("follow-ups/new", {**FOLLOW_UP, "body": XSS}),
    ("deliveries/new", {**DELIVERY, "items-0-name": XSS}),
    ("deliveries/new", {**DELIVERY, "place_detail": XSS}),
    ("deliveries/new", {**DELIVERY, "delivered_by": XSS}),
    ("deliveries/new", {**DELIVERY, "body": XSS}),
    ("notes/new", {"body": XSS}),
    ("concern", {"level": "high", "reason": XSS}),
]


@pytest.mark.parametrize("path, data", FREE_TEXT)
def test_markup_in_free_text_is_shown_literally(client, auth, college, path, data):
    auth.login(college.counsellor)
    assert client.post(f"/students/{college.own_student.id}/{path}", data=data).status_code == 302
    body = client.get(f"/students/{college.own_student.id}").get_data(as_text=True)
    assert XSS not in body and XSS_ESCAPED in body


def test_markup_in_the_other_free_texts_is_shown_literally(client, auth, college, contact):
    auth.login(college.counsellor)
    student = college.own_student
    client.post(f"/students/{student.id}/categories/new", data={
        "category_id": str(contact.id), "started_on": "2020-02-01", "reason": XSS})
    assignment = db.session.scalars(select(CategoryAssignment)).one()
    client.post(f"/students/{student.id}/categories/{assignment.id}/end",
                data={"ended_on": "2020-02-15", "reason": XSS})
    client.post(f"/students/{student.id}/notes/new", data={"body": "原始"})
    note = entries_of(student, EntryKind.NOTE)[0]
    client.post(f"/students/{student.id}/entries/{note.id}/correct", data={"body": XSS})
    client.post(f"/students/{college.graduate.id}/referrals/new", data={
        "supervisor_id": str(college.supervisor.id), "reason": XSS, "urgency": "normal"})
    referral = db.session.scalars(select(Referral)).one()
    client.post(f"/students/{college.graduate.id}/referrals/{referral.id}/revoke",
                data={"reason": XSS})
    assert len(entries_of(student)) >= 4 and len(entries_of(college.graduate)) == 2
    for url in (f"/students/{student.id}", f"/students/{college.graduate.id}",
                f"/students/{student.id}/entries/{note.id}/correct"):
        body = client.get(url).get_data(as_text=True)
        assert XSS not in body and XSS_ESCAPED in body, url
    # A form error shows what was typed, escaped too.
    body = client.post(f"/students/{student.id}/notes/new",
                       data={"body": XSS, "submission_key": "x" * 65}).get_data(as_text=True)
    assert XSS not in body and XSS_ESCAPED in body


# -- forms keep what was typed; the follow-up form's defaults and its way back ---------------


def test_a_form_error_keeps_what_was_typed(client, auth, college):
    auth.login(college.counsellor)
    response = client.post(f"/students/{college.own_student.id}/follow-ups/new", data={
        **FOLLOW_UP, "check_again_in_days": "-3", "body": "电话里说了很多"})
    assert response.status_code == 200
    page = text_of(response)
    body = response.get_data(as_text=True)
    assert "电话里说了很多" in page and 'value="-3"' in body
    assert 'checked class="form-check-input" id="channel-2" name="channel"' in body
    response = client.post(f"/students/{college.own_student.id}/deliveries/new", data={
        **DELIVERY, "items-0-quantity": ""})
    assert response.status_code == 200
    assert "数量是多少？" in text_of(response) and 'value="口罩"' in response.get_data(as_text=True)
    assert count(TimelineEntry) == 0


def test_a_follow_up_in_the_future_is_refused(client, auth, college):
    auth.login(college.counsellor)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/students/{college.own_student.id}/follow-ups/new",
                           data={**FOLLOW_UP, "occurred_at": tomorrow})
    assert "这个时间还没有到" in text_of(response)
    assert count(TimelineEntry) == 0


def test_the_delivery_form_suggests_units_and_refuses_a_quantity_that_is_no_number(
        client, auth, college):
    auth.login(college.counsellor)
    url = f"/students/{college.own_student.id}/deliveries/new"
    form = client.get(url).get_data(as_text=True)
    assert 'list="delivery-units"' in form
    for unit in ("个", "箱", "袋", "瓶", "kg"):
        assert f'<option value="{unit}">' in form
    for bad in ("两", "0", "-1", "1.234", "10000"):
        response = client.post(url, data={**DELIVERY, "items-1-quantity": bad})
        assert response.status_code == 200, bad
        assert "请填写大于 0 的数字，例如 2 或 1.5。" in text_of(response), bad
        assert f'value="{bad}"' in response.get_data(as_text=True)
        assert 'value="箱"' in response.get_data(as_text=True)
    assert count(TimelineEntry) == 0


def test_delivery_needs_an_item(client, auth, college):
    auth.login(college.counsellor)
    data = {k: v for k, v in DELIVERY.items() if not k.startswith("items-")}
    response = client.post(f"/students/{college.own_student.id}/deliveries/new", data=data)
    assert "请至少填写一项物资" in text_of(response)
    assert count(TimelineEntry) == 0


def test_check_again_is_prefilled_from_the_categories(client, auth, college, hubei, contact):
    auth.login(college.counsellor)
    url = f"/students/{college.own_student.id}/follow-ups/new"
    body = client.get(url).get_data(as_text=True)
    assert 'id="check_again_in_days"' in body and 'name="check_again_in_days" type="number" value=""' in body
    other = factories.CategoryFactory(cadence_days=7)
    cases.assign_category(college.own_student, other, college.counsellor,
                          started_on=date(2020, 2, 1))
    cases.assign_category(college.own_student, hubei, college.counsellor,
                          started_on=date(2020, 2, 1))
    db.session.commit()
    body = client.get(url).get_data(as_text=True)
    assert 'name="check_again_in_days" type="number" value="2"' in body
    assert 'data-suggest-reached="2"' in body and 'data-suggest-not-reached="1"' in body
    body = client.get(url + "?reached=0").get_data(as_text=True)
    assert 'name="check_again_in_days" type="number" value="1"' in body
    assert 'checked class="form-check-input" id="health-2" name="health"' in body


def test_saving_a_follow_up_completes_the_recheck_and_schedules_the_next(
        client, auth, college, hubei):
    rechecks.schedule(college.own_student, due_on=date(2020, 2, 10), reason="", origin="manual",
                      by=college.counsellor)
    db.session.commit()
    auth.login(college.counsellor)
    client.post(f"/students/{college.own_student.id}/follow-ups/new",
                data={**FOLLOW_UP, "check_again_in_days": "3"})
    done, following = db.session.scalars(select(Recheck).order_by(Recheck.id)).all()
    follow_up = entries_of(college.own_student, EntryKind.FOLLOW_UP)[0]
    assert done.state == "done" and done.completed_entry_id == follow_up.id
    assert following.state == "open" and following.due_on == date(2020, 2, 13)


def test_log_follow_up_from_the_list_and_come_back(client, auth, college):
    auth.login(college.counsellor)
    body = client.get("/students/?programme=undergraduate&page=1").get_data(as_text=True)
    link = (f'href="/students/{college.own_student.id}/follow-ups/new?next=/students/'
            f'?programme%3Dundergraduate%26page%3D1"')
    assert link in body and "记录跟进" in body
    form = client.get(f"/students/{college.own_student.id}/follow-ups/new"
                      "?next=/students/%3Fprogramme%3Dundergraduate").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/students/?programme=undergraduate"' in form
    response = client.post(f"/students/{college.own_student.id}/follow-ups/new",
                           data={**FOLLOW_UP, "next": "/students/?programme=undergraduate"})
    assert response.location == "/students/?programme=undergraduate"
    assert "已保存对陈小明的跟进记录" in text_of(client.get(response.location))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_an_unsafe_next_goes_back_to_the_student(client, auth, college, target):
    auth.login(college.counsellor)
    response = client.post(f"/students/{college.own_student.id}/follow-ups/new",
                           data={**FOLLOW_UP, "next": target})
    assert response.location == f"/students/{college.own_student.id}"


def test_the_list_offers_no_follow_up_to_who_cannot_record(client, auth, college):
    auth.login(college.deputy)
    assert "/follow-ups/new" not in client.get("/students/").get_data(as_text=True)


# -- reading the timeline: newest first, by kind, by page, constant queries --------------------


def _fill(student, counsellor, n, start=datetime(2020, 2, 1, tzinfo=UTC)):
    """n entries of the common kinds, one hour apart; a few corrected."""
    made = []
    for i in range(n):
        at = start + timedelta(hours=i)
        kind = i % 4
        if kind == 0:
            made.append(entries.record_follow_up(
                student, counsellor, channel="phone", reached=True, health="normal",
                body=f"跟进{i}", occurred_at=at, now=at))
        elif kind == 1:
            made.append(entries.record_note(student, counsellor, body=f"备注{i}", now=at))
        elif kind == 2:
            made.append(entries.record_delivery(
                student, counsellor, items=[("口罩", 5)], place="dormitory", received=True,
                delivered_by="李老师", occurred_at=at, now=at))
        else:
            made.append(entries.record_correction(made[-1], counsellor, body=f"更正{i}",
                                                  now=at + timedelta(minutes=5)))
    return made


def test_newest_first_filtered_by_kind_and_paginated(client, auth, college):
    _fill(college.own_student, college.counsellor, 40)
    db.session.commit()
    auth.login(college.counsellor)
    first = page_of(client, college.own_student)
    assert "40 条记录" in first
    assert first.index("更正39") < first.index("备注37") < first.index("跟进36")
    assert "备注1 " not in first
    second = page_of(client, college.own_student, page=2)
    assert "备注1" in second and "更正39" not in second
    notes = client.get(f"/students/{college.own_student.id}?kind=note").get_data(as_text=True)
    assert "10 条记录" in text_of_html(notes) and "口罩" not in notes
    assert set(re.findall(r'data-kind="(\w+)"', notes)) == {"note"}


def test_a_link_to_an_entry_opens_its_page(client, auth, college):
    made = _fill(college.own_student, college.counsellor, 40)
    db.session.commit()
    auth.login(college.counsellor)
    oldest = made[0]
    page = page_of(client, college.own_student, entry=oldest.id)
    assert "跟进0" in page and "更正39" not in page


def _detail_queries(client, student, counsellor, n):
    _fill(student, counsellor, n)
    cases.change_concern_level(student, "elevated", counsellor, reason="情绪波动")
    referrals.refer(student, factories.SupervisorFactory(), counsellor, reason="论文")
    db.session.commit()
    with count_queries() as counter:
        response = client.get(f"/students/{student.id}")
    assert response.status_code == 200
    return counter.count


def test_the_student_page_issues_the_same_queries_with_10_and_300_entries(
        client, auth, college, hubei):
    small = factories.StudentFactory(counsellor=college.counsellor, programme="master")
    large = factories.StudentFactory(counsellor=college.counsellor, programme="master")
    for student in (small, large):
        cases.assign_category(student, hubei, college.counsellor, started_on=date(2020, 2, 1))
    db.session.commit()
    auth.login(college.counsellor)
    assert _detail_queries(client, small, college.counsellor, 10) == _detail_queries(
        client, large, college.counsellor, 300)


def test_a_supervisor_reads_only_their_referrals_entries(client, auth, college):
    entries.record_note(college.graduate, college.counsellor, body="家庭经济困难的私密记录")
    referrals.refer(college.graduate, college.supervisor, college.counsellor,
                    reason="论文开题受阻")
    db.session.commit()
    auth.login(college.supervisor)
    page = page_of(client, college.graduate)
    assert "论文开题受阻" in page and "家庭经济困难的私密记录" not in page
    assert "记录跟进" not in page  # no entry form for them


def test_reviews_and_daily_status_changes_show_their_fields(client, auth, college):
    add_entry(college.own_student, EntryKind.REVIEW, college.deputy, body="请本周内家访",
              details={"action": "reviewed", "decision": "ask_counsellor", "level": "high",
                       "act_by": "2020-02-20"})
    add_entry(college.own_student, EntryKind.STATUS_CHANGE, college.counsellor,
              details={"day": "2020-02-10", "source": "counsellor", "changes": {
                  "health": {"from": "normal", "to": "fever"},
                  "on_campus": {"from": False, "to": True}}})
    db.session.commit()
    auth.login(college.counsellor)
    en = page_of(client, college.own_student, lang="en")
    assert "Ask the counsellor to act by a date · by 2020-02-20" in en and "请本周内家访" in en
    assert "Daily status of 2020-02-10" in en
    assert "Health Normal → Fever" in en and "On campus No → Yes" in en


def test_a_follow_up_looks_its_submission_key_up_once(client, auth, college):
    auth.login(college.counsellor)
    url = f"/students/{college.own_student.id}/follow-ups/new"
    with count_queries() as counter:
        response = client.post(url, data={**FOLLOW_UP, "submission_key": "once"})
    assert response.status_code == 302
    lookups = [s for s in counter.statements if "submission_key =" in s and "SELECT" in s]
    assert len(lookups) == 1, lookups


def test_a_rule_refusal_is_shown_beside_its_field(client, auth, college):
    auth.login(college.counsellor)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/students/{college.own_student.id}/deliveries/new?lang=zh_CN",
                           data={**DELIVERY, "occurred_at": tomorrow})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'is-invalid" id="occurred_at"[^>]*>\s*<div class="invalid-feedback">'
                     r'这个时间还没有到', body)


def test_a_repost_whose_choices_changed_answers_saved(client, auth, college, contact):
    auth.login(college.counsellor)
    url = f"/students/{college.own_student.id}/categories/new"
    data = {"category_id": str(contact.id), "started_on": "2020-02-01", "reason": "接触",
            "submission_key": "added-once"}
    assert client.post(url, data=data).status_code == 302
    # The category is held now, so it is no longer a choice: the form would not validate.
    again = client.post(url, data=data)
    assert again.status_code == 302 and again.location == f"/students/{college.own_student.id}"
    assert count(CategoryAssignment) == 1


# -- a follow-up that completes a re-check ---------------------------------------------------


def _follow_up_completing_a_recheck(student, counsellor, due_on, at):
    rechecks.schedule(student, due_on=due_on, reason="", origin="manual", by=counsellor,
                      now=at - timedelta(days=1))
    return entries.record_follow_up(student, counsellor, channel="phone", reached=True,
                                    health="normal", body="电话回访", occurred_at=at, now=at,
                                    check_again_in_days=2)


def test_a_follow_up_that_completes_a_recheck_is_one_row(client, auth, college):
    student = college.own_student
    follow_up = _follow_up_completing_a_recheck(
        student, college.counsellor, date(2020, 2, 10), datetime(2020, 2, 10, 3, tzinfo=UTC))
    db.session.commit()
    [done] = [e for e in entries_of(student, EntryKind.RECHECK_CHANGE)
              if e.details["action"] == "completed"]  # the re-check's record is kept
    auth.login(college.counsellor)
    body = client.get(f"/students/{student.id}").get_data(as_text=True)
    rows = re.findall(r'<article [^>]*data-entry-id="(\d+)" data-kind="(\w+)"', body)
    assert (str(follow_up.id), "follow_up") in rows
    assert str(done.id) not in [entry_id for entry_id, _ in rows]
    page = text_of_html(body)
    assert "已完成 2020-02-10 到期的复查" in page and "下次 2020-02-12" in page
    assert "复查已完成" not in page
    english = page_of(client, student, lang="en")
    assert "Completed the re-check due on 2020-02-10" in english
    # The re-check filter still lists the record, as a row of its own.
    rechecks_only = page_of(client, student, kind="recheck_change")
    assert "复查已完成" in rechecks_only
    # A link to the re-check's entry opens the page with its follow-up.
    linked = client.get(f"/students/{student.id}?entry={done.id}").get_data(as_text=True)
    assert f'id="entry-{done.id}"' in linked


def test_merged_rows_keep_the_pagination_and_the_query_count(client, auth, college):
    def cost(student, n):
        start = datetime(2020, 2, 1, 3, tzinfo=UTC)
        for i in range(n):
            at = start + timedelta(days=i)
            _follow_up_completing_a_recheck(student, college.counsellor, at.date(), at)
        db.session.commit()
        with count_queries() as counter:
            page = text_of(client.get(f"/students/{student.id}"))
        return counter.count, page

    auth.login(college.counsellor)
    few, _ = cost(factories.StudentFactory(counsellor=college.counsellor), 2)
    many, page = cost(factories.StudentFactory(counsellor=college.counsellor), 30)
    assert few == many
    # 30 follow-ups, each with its re-check scheduled and completed: 60 rows, not 90.
    assert "60 条记录" in page
