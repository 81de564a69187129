"""The status rules: every worrying daily status, from every source, raises the concern level
with a reason that names it, schedules a re-check due today, suggests a care category and
notifies the counsellor - once; a return to normal only suggests lowering the concern."""

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import (
    ConcernChange,
    DailyStatus,
    Notification,
    Recheck,
    RiskArea,
    StatusRule,
    StatusSuggestion,
    Student,
)
from caretrack.services import checkin
from caretrack.services.daily import statuses
from caretrack.services.daily.values import StatusValues
from tests import factories
from tests.test_daily_upload import csv_sheet, token_of

#: 3 March 2020, 09:00 in Beijing, before the students' cut-off.
MORNING = datetime(2020, 3, 3, 1, 0, tzinfo=UTC)
TODAY = date(2020, 3, 3)


@pytest.fixture
def clock(monkeypatch):
    for where in ("caretrack.reports.pages.now_utc", "caretrack.checkin.student.now_utc"):
        monkeypatch.setattr(where, lambda: MORNING, raising=False)
    return MORNING


@pytest.fixture
def ready(college, clock):
    """陈小明 in 广东 广州, well; the categories the default rules suggest; 温州 a risk area."""
    me = college.own_student
    me.province, me.city, me.phone = "广东", "广州", "13912345678"
    for code, name in (("hubei", "在湖北"), ("hubei_contact", "接触过湖北人员"),
                       ("other_attention", "其他需关注")):
        factories.CategoryFactory(code=code, name_zh=name, name_en=code)
    db.session.add(RiskArea(province="浙江", city="温州", from_date=date(2020, 2, 1)))
    db.session.add(DailyStatus(student_id=me.id, day=date(2020, 3, 2), province="广东",
                               city="广州", health="normal"))
    db.session.commit()
    return college


def by_counsellor(client, auth, college, province, city, health, temperature=None):
    auth.login(college.counsellor)
    client.post(f"/reports/daily/students/{college.own_student.id}/status",
                data={"province": province, "city": city, "health": health, "note": ""})


def by_sheet(client, auth, college, province, city, health, temperature=None):
    auth.login(college.counsellor)
    me = college.own_student
    sheet = csv_sheet([["学号", "姓名", "省份", "城市", "健康状况"],
                       [me.student_number, me.name, province, city, health]])
    preview = client.post("/reports/daily/upload", content_type="multipart/form-data",
                          data={"sheet": (io.BytesIO(sheet), "打卡.csv")})
    client.post("/reports/daily/upload/confirm", data={"token": token_of(preview)})


def by_self(client, auth, college, province, city, health, temperature=None, contact="no"):
    url = f"/checkin/p/{checkin.personal_token(college.own_student, MORNING)}"
    db.session.commit()
    response = client.post(url, data={
        "province": province, "city": city, "on_campus": "no", "health": health,
        "temperature": temperature or ("37.8" if health == "fever" else ""),
        "risk_contact": contact, "note": ""})
    assert response.status_code == 302


SOURCES = {"counsellor": (by_counsellor, "辅导员"), "upload": (by_sheet, "报平安表"),
           "self": (by_self, "学生自报")}
TRIGGERS = {
    # trigger: (province, city, health, level, category code, words of the reason)
    "fever": ("湖北", "武汉", "fever", "high", "hubei other_attention", "发热"),
    "symptoms": ("广东", "广州", "symptoms", "elevated", "other_attention", "咳嗽"),
    "suspected": ("广东", "广州", "suspected", "high", "other_attention", "疑似"),
    "confirmed": ("广东", "广州", "confirmed", "high", "other_attention", "确诊"),
    "hubei": ("湖北", "武汉", "normal", "elevated", "hubei", "湖北 武汉"),
    "risk_area": ("浙江", "温州", "normal", "elevated", "other_attention", "浙江 温州"),
}


def outcome(student: Student):
    db.session.expire_all()
    student = db.session.get(Student, student.id)
    changes = db.session.scalars(select(ConcernChange).where(
        ConcernChange.student_id == student.id)).all()
    checks = db.session.scalars(select(Recheck).where(Recheck.student_id == student.id)).all()
    offers = db.session.scalars(select(StatusSuggestion).where(
        StatusSuggestion.student_id == student.id)).all()
    alerts = db.session.scalars(select(Notification).where(
        Notification.kind == "status.alert")).all()
    return student, changes, checks, offers, alerts


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_each_trigger_from_each_source_raises_schedules_suggests_and_notifies(
        client, auth, ready, source, trigger):
    record, source_word = SOURCES[source]
    province, city, health, level, code, words = TRIGGERS[trigger]
    record(client, auth, ready, province, city, health)
    student, changes, checks, offers, alerts = outcome(ready.own_student)
    assert student.concern_level == level
    [change] = changes
    assert change.reason.startswith(source_word + "：") and words in change.reason
    if source == "self" and health == "fever":
        assert change.reason == "学生自报：发热 37.8℃，湖北 武汉"
    [recheck] = checks
    assert (recheck.origin, recheck.due_on, recheck.owner_id) == (
        "status", TODAY, ready.counsellor.id)
    assert sorted(o.category.code for o in offers) == code.split()
    # The counsellor is told unless they recorded it themselves.
    assert len(alerts) == (0 if source == "counsellor" else 1)
    assert student.province == province and student.city == city  # the profile follows


def test_a_new_risk_contact_from_the_check_in_fires_once_in_fourteen_days(client, auth, ready):
    by_self(client, auth, ready, "广东", "广州", "normal", contact="yes")
    student, changes, checks, offers, alerts = outcome(ready.own_student)
    assert student.concern_level == "elevated" and "风险" in changes[0].reason
    assert [o.category.code for o in offers] == ["hubei_contact"] and len(alerts) == 1
    by_self(client, auth, ready, "广东", "广州", "normal", contact="yes")  # said again
    assert [len(x) for x in outcome(ready.own_student)[1:]] == [1, 1, 1, 1]


def test_nothing_fires_twice_for_the_same_status(client, auth, ready):
    c, me = ready, ready.own_student
    by_self(client, auth, c, "湖北", "武汉", "fever")
    by_counsellor(client, auth, c, "湖北", "武汉", "fever")  # the same fever, later source
    client.post(f"/reports/daily/students/{me.id}/confirm")  # confirmed unchanged
    by_sheet(client, auth, c, "湖北", "武汉", "fever")
    student, changes, checks, offers, alerts = outcome(me)
    assert (len(changes), len(checks), len(alerts)) == (1, 1, 1)
    assert sorted(o.category.code for o in offers) == ["hubei", "other_attention"]
    # The next day, the fever carried forward and confirmed again fires nothing either.
    statuses.confirm_unchanged(student, c.counsellor, datetime(2020, 3, 4, 1, tzinfo=UTC))
    db.session.commit()
    assert [len(x) for x in outcome(me)[1:]] == [1, 1, 2, 1]


def test_concern_is_never_lowered_and_normal_only_suggests_lowering(client, auth, ready):
    c, me = ready, ready.own_student
    by_counsellor(client, auth, c, "广东", "广州", "fever")
    by_counsellor(client, auth, c, "广东", "广州", "symptoms")  # a lower rule's level
    assert outcome(me)[0].concern_level == "high"
    by_counsellor(client, auth, c, "广东", "广州", "normal")
    student, changes, checks, offers, alerts = outcome(me)
    assert student.concern_level == "high" and len(changes) == 1
    assert [o.kind for o in offers if o.category is None] == ["lower_concern"]


def test_the_admins_table_decides(client, auth, ready):
    rule = db.session.scalars(select(StatusRule).where(StatusRule.trigger == "fever")).one()
    rule.concern_level, rule.category_code, rule.schedules_recheck = "elevated", "", False
    db.session.commit()
    by_counsellor(client, auth, ready, "广东", "广州", "fever")
    student, changes, checks, offers, alerts = outcome(ready.own_student)
    assert student.concern_level == "elevated" and not checks and not offers


def test_the_profile_follows_every_status_and_the_campus_flag(ready):
    c, me = ready, ready.own_student
    newcomer = factories.StudentFactory(counsellor=c.counsellor, province="河北", city="保定")
    statuses.record_status(newcomer, c.counsellor, StatusValues("湖北", "武汉", False, "normal"),
                           MORNING)
    db.session.commit()
    # A first status ever leaves the roster's place: it is the day's baseline of changes.
    assert (outcome(newcomer)[0].province, outcome(newcomer)[0].city) == ("河北", "保定")
    statuses.record_status(me, c.counsellor, StatusValues("", "", True, "normal"), MORNING)
    db.session.commit()
    student = outcome(me)[0]
    assert (student.province, student.city, student.on_campus) == ("北京", "北京", True)


# -- the admin's table and risk areas ---------------------------------------------------------


def test_the_admin_edits_a_rule_and_the_risk_areas(client, auth, ready):
    auth.login(ready.admin)
    page = client.get("/admin/status-rules").get_data(as_text=True)
    assert "发热" in page and "抵达湖北" in page and "浙江 温州" in page
    rule = db.session.scalars(select(StatusRule).where(StatusRule.trigger == "hubei")).one()
    client.post(f"/admin/status-rules/{rule.id}", data={
        "concern_level": "high", "category_code": "hubei_contact", "active": "y"})
    db.session.expire_all()
    assert (rule.concern_level, rule.category_code, rule.schedules_recheck) == (
        "high", "hubei_contact", False)
    bad = client.post("/admin/risk-areas/new", data={
        "province": "河南省", "city": "信阳市", "from_date": "2020-02-10", "to_date": "2020-02-01"})
    assert "最后一天不能早于第一天" in bad.get_data(as_text=True)
    assert "信阳" in bad.get_data(as_text=True)  # what was typed stays
    client.post("/admin/risk-areas/new", data={
        "province": "河南省", "city": "信阳市", "from_date": "2020-02-10"})
    area = db.session.scalars(select(RiskArea).where(RiskArea.city == "信阳")).one()
    assert (area.province, area.to_date) == ("河南", None)


def test_only_the_admin_reaches_the_rules(client, auth, ready):
    for user in (ready.counsellor, ready.deputy, ready.supervisor):
        auth.login(user)
        assert client.get("/admin/status-rules").status_code == 404
        auth.logout()


# -- the review queue -------------------------------------------------------------------------


def test_the_review_queue_shows_why_today_and_the_phone(client, auth, ready):
    by_self(client, auth, ready, "湖北", "武汉", "fever")
    auth.login(ready.deputy)
    page = client.get("/review/").get_data(as_text=True)
    assert "学生自报：发热 37.8℃，湖北 武汉" in page
    assert 'href="tel:13912345678"' in page
    assert "今日" in page and "发热" in page
    assert "复查" not in page.split("data-student-id")[1].split("btn-primary")[0].split(
        "<ul")[1]  # no re-check rows among the latest entries


def test_one_click_applies_the_suggested_category_and_lowering(client, auth, ready):
    c, me = ready, ready.own_student
    by_counsellor(client, auth, c, "广东", "广州", "fever")
    page = client.get(f"/students/{me.id}").get_data(as_text=True)
    assert "状态规则建议" in page and "其他需关注" in page
    [offer] = outcome(me)[3]
    client.post(f"/students/{me.id}/suggestions/{offer.id}/apply")
    assert [a.category.code for a in cases_of(me)] == ["other_attention"]
    again = client.post(f"/students/{me.id}/suggestions/{offer.id}/apply", follow_redirects=True)
    assert "已被采纳或忽略" in again.get_data(as_text=True)
    by_counsellor(client, auth, c, "广东", "广州", "normal")
    [lower] = [o for o in outcome(me)[3] if o.kind == "lower_concern"]
    client.post(f"/students/{me.id}/suggestions/{lower.id}/apply")
    assert outcome(me)[0].concern_level == "normal"


def cases_of(student):
    from caretrack.models import CategoryAssignment
    return db.session.scalars(select(CategoryAssignment).where(
        CategoryAssignment.student_id == student.id)).all()
