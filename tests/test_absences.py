"""Cover while a counsellor is away: who sees whom on which day (the access rules, dated by the
college's clock), the absence's rules and audit, and the pages of the cover and of the
counsellor coming back."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from caretrack.access import (
    can_record_for,
    covered_filter,
    files_daily_report_for,
    student_filter,
    visible_students,
)
from caretrack.extensions import db
from caretrack.models import (
    Absence,
    AuditEvent,
    DailyReport,
    Notification,
    RecheckState,
    Student,
    TimelineEntry,
)
from caretrack.services import absences, entries, rechecks
from caretrack.services.clock import local_today
from caretrack.services.daily import reports
from caretrack.services.errors import RuleError
from tests import factories
from tests.helpers import text_of

#: 2020-02-03 to 2020-02-16 in Beijing: fourteen days at home.
FEB_3, FEB_16 = date(2020, 2, 3), date(2020, 2, 16)
#: 2020-02-01 09:00 in Beijing, before the absence.
BEFORE = datetime(2020, 2, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def away(college):
    """李老师 (the counsellor) away 2020-02-03..16, covered by 张老师 for the whole caseload."""
    c = college
    absence = absences.record_absence(
        c.counsellor, c.counsellor, starts_on=FEB_3, ends_on=FEB_16, reason="居家隔离",
        covers={None: c.other_counsellor}, now=BEFORE,
    )
    db.session.commit()
    return absence


def sign_in(auth, user):
    """Sign out whoever is signed in, then sign in as ``user``."""
    auth.logout()
    auth.login(user)


def _seen(user, today):
    return set(db.session.scalars(
        select(Student.name).where(student_filter_on(user, today))
    ))


def student_filter_on(user, today):
    """The students ``user`` may see on ``today``: student_filter on a pinned college day."""
    from caretrack import access

    return access.working_caseload_filter(user, today) if access.keeps_caseload(user) \
        else student_filter(user)


# -- the access rules, dated ------------------------------------------------------------------


@pytest.mark.parametrize("day, covered", [
    (FEB_3 - timedelta(days=1), False),   # the day before
    (FEB_3, True),                        # the first day
    (FEB_16, True),                       # the last day
    (FEB_16 + timedelta(days=1), False),  # the day after: everything has returned
])
def test_the_cover_sees_exactly_the_covered_students_during_the_window(college, away, day,
                                                                        covered):
    c = college
    seen = _seen(c.other_counsellor, day)
    assert ("刘小红" in seen) and (("陈小明" in seen) is covered) and (("赵研究" in seen) is covered)
    # the absent counsellor keeps their own caseload, and never sees the cover's
    assert _seen(c.counsellor, day) == {"陈小明", "赵研究"}


@pytest.mark.parametrize("utc, covered", [
    (datetime(2020, 2, 2, 15, 59, tzinfo=UTC), False),  # 23:59 in Beijing, the day before
    (datetime(2020, 2, 2, 16, 0, tzinfo=UTC), True),    # 00:00 in Beijing, the first day
    (datetime(2020, 2, 16, 15, 59, tzinfo=UTC), True),  # 23:59 in Beijing, the last day
    (datetime(2020, 2, 16, 16, 0, tzinfo=UTC), False),  # 00:00 in Beijing, back
])
def test_the_window_opens_and_closes_at_midnight_in_asia_shanghai(
    college, away, monkeypatch, utc, covered
):
    monkeypatch.setattr("caretrack.models.base.now_utc", lambda: utc)
    c = college
    names = set(db.session.scalars(
        visible_students(c.other_counsellor).with_only_columns(Student.name)))
    assert ("陈小明" in names) is covered
    assert can_record_for(c.other_counsellor, c.own_student) is covered
    assert files_daily_report_for(c.other_counsellor, c.counsellor) is covered


def test_a_caseload_split_by_class_shows_each_cover_only_their_class(college):
    c = college
    third = factories.CounsellorFactory(display_name="周老师")
    factories.StudentFactory(counsellor=c.counsellor, name="孙同学",
                                           class_name="2018级金融1班")
    absences.record_absence(
        c.counsellor, c.counsellor, starts_on=FEB_3, ends_on=FEB_16, reason="生病",
        covers={"2017级会计学1班": c.other_counsellor, "2018级金融1班": third}, now=BEFORE,
    )
    db.session.commit()
    assert _seen(c.other_counsellor, FEB_3) == {"刘小红", "陈小明", "赵研究"}
    assert _seen(third, FEB_3) == {"孙同学"}
    covered = set(db.session.scalars(
        select(Student.name).where(covered_filter(third, FEB_3))))
    assert covered == {"孙同学"}
    # both may file 李老师's report; the supervisor, the deputy and a stranger may not
    assert files_daily_report_for(third, c.counsellor, FEB_3)
    assert files_daily_report_for(c.other_counsellor, c.counsellor, FEB_3)
    assert not files_daily_report_for(c.counsellor, c.other_counsellor, FEB_3)
    assert not files_daily_report_for(c.deputy, c.counsellor, FEB_3)


def test_a_cancelled_absence_covers_nobody(college):
    c = college
    absence = absences.record_absence(
        c.counsellor, c.counsellor, starts_on=FEB_3, ends_on=FEB_16, reason="出差",
        covers={None: c.other_counsellor}, now=BEFORE)
    absences.cancel(absence, c.counsellor, now=BEFORE)
    db.session.commit()
    assert _seen(c.other_counsellor, FEB_3) == {"刘小红"}


# -- the absence's rules and audit ------------------------------------------------------------


def _refused(code, **kwargs):
    with pytest.raises(RuleError) as refused:
        absences.record_absence(**kwargs)
    assert refused.value.code == code
    return refused.value


def test_recording_an_absence_checks_its_rules(college, away):
    c = college
    base = dict(counsellor=c.other_counsellor, by=c.other_counsellor, starts_on=FEB_3,
                ends_on=FEB_16, reason="隔离", covers={None: c.counsellor}, now=BEFORE)
    assert _refused("no-reason", **{**base, "reason": "  "}).field == "reason"
    assert _refused("absence-ends-before-start",
                    **{**base, "ends_on": FEB_3 - timedelta(days=1)}).field == "ends_on"
    assert _refused("absence-in-past",
                    **{**base, "starts_on": date(2020, 1, 1), "ends_on": date(2020, 1, 20)})
    assert _refused("absence-too-long", **{**base, "ends_on": FEB_3 + timedelta(days=90)})
    assert _refused("absence-no-cover", **{**base, "covers": {}}).field == "covers"
    assert _refused("absence-cover-not-counsellor", **{**base, "covers": {None: c.supervisor}})
    assert _refused("absence-cover-not-counsellor",
                    **{**base, "covers": {None: c.other_counsellor}})  # not oneself
    # 李老师 is away then: they cannot cover
    error = _refused("absence-cover-away", **base)
    assert error.values == {"name": "李老师"}
    # the deputy may record a counsellor's absence; another counsellor may not
    assert _refused("not-allowed", **{**base, "by": c.counsellor})
    assert _refused("not-allowed", **{**base, "by": c.supervisor})
    # 李老师 is away already on these days
    assert _refused("absence-overlaps", counsellor=c.counsellor, by=c.deputy,
                    starts_on=FEB_16, ends_on=FEB_16 + timedelta(days=3), reason="再隔离",
                    covers={None: c.other_counsellor}, now=BEFORE).field == "starts_on"
    db.session.rollback()
    assert db.session.scalar(select(Absence.id).where(
        Absence.counsellor_id == c.other_counsellor.id)) is None


def test_a_split_must_cover_every_class_of_the_caseload(college):
    c = college
    factories.StudentFactory(counsellor=c.counsellor, class_name="2018级金融1班")
    base = dict(counsellor=c.counsellor, by=c.deputy, starts_on=FEB_3, ends_on=FEB_16,
                reason="生病", now=BEFORE)
    error = _refused("absence-class-uncovered",
                     covers={"2017级会计学1班": c.other_counsellor}, **base)
    assert error.values == {"name": "2018级金融1班"}
    assert _refused("absence-unknown-class",
                    covers={"2017级会计学1班": c.other_counsellor,
                            "2018级金融1班": c.other_counsellor,
                            "不存在的班": c.other_counsellor}, **base)


def test_each_change_is_audited_and_told_to_the_others(college, away):
    c = college
    during = datetime(2020, 2, 5, 2, 0, tzinfo=UTC)
    absences.extend(away, c.deputy, ends_on=date(2020, 2, 20), now=during, ip="10.0.0.1")
    absences.end_early(away, c.counsellor, last_day=date(2020, 2, 4), now=during)
    db.session.commit()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("absence.%")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.user_id) for e in events] == [
        ("absence.create", c.counsellor.id), ("absence.extend", c.deputy.id),
        ("absence.end_early", c.counsellor.id)]
    assert f"covers:*={c.other_counsellor.id}" in events[0].detail
    assert "2020-02-03..2020-02-20 " in events[1].detail and "was:2020-02-16" in events[1].detail
    assert "2020-02-03..2020-02-04 " in events[2].detail
    assert away.ends_on == date(2020, 2, 4)
    told = db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "absence.changed")).all()
    # the cover at each change; the counsellor when the deputy changed their absence
    assert sorted(told) == sorted([c.other_counsellor.id] * 3 + [c.counsellor.id])
    # no student is named anywhere
    assert all(e.student_id is None for e in events)


def test_ending_early_extending_and_cancelling_follow_the_calendar(college, away):
    c = college
    during = datetime(2020, 2, 5, 2, 0, tzinfo=UTC)
    for verb, kwargs, code in [
        (absences.end_early, {"last_day": FEB_16}, "absence-not-earlier"),
        (absences.end_early, {"last_day": date(2020, 2, 3)}, "absence-end-in-past"),
        (absences.extend, {"ends_on": FEB_16}, "absence-not-later"),
        (absences.cancel, {}, "absence-started"),
    ]:
        with pytest.raises(RuleError) as refused:
            verb(away, c.counsellor, now=during, **kwargs)
        assert refused.value.code == code
    with pytest.raises(RuleError) as refused:  # an absence not begun is cancelled instead
        absences.end_early(away, c.counsellor, last_day=FEB_3, now=BEFORE)
    assert refused.value.code == "absence-not-started"
    with pytest.raises(RuleError) as refused:  # a colleague may not change it
        absences.extend(away, c.other_counsellor, ends_on=date(2020, 2, 20), now=during)
    assert refused.value.code == "not-allowed"
    after = datetime(2020, 2, 18, 2, 0, tzinfo=UTC)
    with pytest.raises(RuleError) as refused:
        absences.extend(away, c.counsellor, ends_on=date(2020, 2, 25), now=after)
    assert refused.value.code == "absence-ended" and refused.value.conflict


# -- recording while covering -----------------------------------------------------------------


def _today_absence(college, **covers):
    """李老师 away from yesterday for 14 days (the real clock: the pages' "today")."""
    today = local_today(datetime.now(UTC))
    c = college
    absence = absences.record_absence(
        c.counsellor, c.counsellor, starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=12), reason="居家隔离",
        covers=covers or {None: c.other_counsellor})
    db.session.commit()
    return absence


def test_the_cover_records_under_their_own_name_marked_covering(client, auth, college):
    c = college
    _today_absence(college)
    recheck = rechecks.schedule(c.own_student, due_on=date(2020, 1, 30), reason="复查",
                                origin="manual", by=c.counsellor)
    db.session.commit()
    sign_in(auth, c.other_counsellor)
    response = client.post(f"/students/{c.own_student.id}/follow-ups/new", data={
        "occurred_at": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M"),
        "channel": "phone", "reached": "1", "health": "normal", "body": "一切都好",
        "check_again_in_days": "3", "submission_key": "k-cover-1"})
    assert response.status_code == 302
    entry = db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.kind == "follow_up")).one()
    assert entry.author_id == c.other_counsellor.id
    assert entry.covering_for_id == c.counsellor.id
    db.session.refresh(recheck)
    assert recheck.state == RecheckState.DONE
    page = text_of(client.get(f"/students/{c.own_student.id}"))
    assert "代李老师记录" in page and "代李老师" in page
    # the absent counsellor reads it too, marked
    sign_in(auth, c.counsellor)
    assert "代李老师记录" in text_of(client.get(f"/students/{c.own_student.id}"))
    # a colleague's own students are never marked, and an uncovered student is a 404
    third = factories.CounsellorFactory()
    stranger = factories.StudentFactory(counsellor=third, name="不相干")
    db.session.commit()
    sign_in(auth, c.other_counsellor)
    assert client.get(f"/students/{stranger.id}").status_code == 404


def test_the_cover_has_the_students_on_landing_caseload_rechecks_and_chase(client, auth,
                                                                          college):
    c = college
    _today_absence(college)
    rechecks.schedule(c.own_student, due_on=date(2020, 1, 30), reason="逾期复查",
                      origin="manual", by=c.counsellor)
    db.session.commit()
    sign_in(auth, c.other_counsellor)
    landing = text_of(client.get("/"))
    assert "您正在代管李老师" in landing and "陈小明" in landing and "代李老师" in landing
    caseload = text_of(client.get("/students/"))
    assert "陈小明" in caseload and "刘小红" in caseload and "代李老师" in caseload
    assert "陈小明" in text_of(client.get("/rechecks/?state=overdue"))
    chase = text_of(client.get("/reports/daily/chase"))
    assert "陈小明" in chase and "赵研究" in chase and "刘小红" in chase
    # the cover's own daily report stays their own caseload
    own = text_of(client.get("/reports/daily/?show=all"))
    assert "刘小红" in own and "陈小明" not in own
    # English
    assert "covering for 李老师" in text_of(client.get("/students/?lang=en"))


def test_the_cover_submits_the_absent_counsellors_report_which_shows_who(client, auth,
                                                                        college):
    c = college
    _today_absence(college)
    sign_in(auth, c.other_counsellor)
    page = text_of(client.get(f"/reports/daily/?caseload={c.counsellor.id}&show=all"))
    assert "陈小明" in page and "赵研究" in page and "刘小红" not in page
    today = local_today(datetime.now(UTC))
    response = client.post("/reports/daily/zero", data={
        "day": today.isoformat(), "caseload": str(c.counsellor.id), "confirm": "1"})
    assert response.status_code == 302
    assert f"caseload={c.counsellor.id}" in response.headers["Location"]
    report = db.session.scalars(select(DailyReport)).one()
    assert report.counsellor_id == c.counsellor.id
    assert report.submitted_by_id == c.other_counsellor.id
    shown = text_of(client.get(f"/reports/daily/?caseload={c.counsellor.id}"))
    assert "由张老师代李老师提交" in shown
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "daily_report.submit")).one()
    assert event.user_id == c.other_counsellor.id and f"covering:{c.counsellor.id}" in event.detail
    # the deputy's board says who submitted it
    sign_in(auth, c.deputy)
    assert "张老师代交" in text_of(client.get("/reports/board/"))
    # a caseload the user does not cover is a 404, and so is submitting its report
    sign_in(auth, c.counsellor)
    assert client.get(f"/reports/daily/?caseload={c.other_counsellor.id}").status_code == 404
    assert client.post("/reports/daily/zero", data={
        "day": today.isoformat(), "caseload": str(c.other_counsellor.id)}).status_code == 404


def test_the_cover_hands_out_links_uploads_the_sheet_and_reads_the_api(client, auth,
                                                                        college):
    from io import BytesIO

    from openpyxl import Workbook, load_workbook

    from tests.test_api import bearer, token_for

    c = college
    _today_absence(college)
    sign_in(auth, c.other_counsellor)
    links = text_of(client.get("/checkin/links/"))
    assert c.own_student.class_name in links
    book = load_workbook(BytesIO(client.get(
        "/checkin/links/students.xlsx", query_string={"class": c.own_student.class_name}).data))
    assert "陈小明" in [row[1] for row in book.active.iter_rows(values_only=True)]
    assert client.get("/checkin/links/qr", query_string={
        "class": c.own_student.class_name}).status_code == 200
    sheet = load_workbook(BytesIO(client.get("/reports/daily/check-in-sheet.xlsx").data))
    assert "陈小明" in [row[1] for row in sheet.active.iter_rows(values_only=True)]
    upload = Workbook()
    upload.active.append(["学号", "姓名", "省份", "城市", "是否在校", "健康状况"])
    upload.active.append([c.own_student.student_number, "陈小明", "北京", "北京", "否", "正常"])
    data = BytesIO()
    upload.save(data)
    preview = client.post("/reports/daily/upload", data={
        "sheet": (BytesIO(data.getvalue()), "sheet.xlsx")}, content_type="multipart/form-data")
    # The covered student is found: only the two others are missing from the sheet.
    assert preview.status_code == 200 and "您所带学生中有 2 名不在表中" in text_of(preview)
    token = bearer(token_for(c.other_counsellor))
    today = local_today(datetime.now(UTC)).isoformat()
    statuses = client.get(f"/api/v1/daily/{today}/statuses?per_page=100", headers=token)
    assert {i["name"] for i in statuses.get_json()["items"]} >= {"陈小明", "刘小红"}
    reports_ = client.get(f"/api/v1/daily/{today}/reports", headers=token).get_json()
    assert {r["counsellor"]["display_name"] for r in reports_["reports"]} == {"张老师", "李老师"}


def test_submitting_for_a_colleague_not_covered_is_refused_by_the_service(college):
    c = college
    with pytest.raises(RuleError) as refused:
        reports.submit_report(c.counsellor, local_today(datetime.now(UTC)),
                              datetime.now(UTC), by=c.other_counsellor)
    assert refused.value.code == "not-allowed"


# -- the pages of the absence -----------------------------------------------------------------


def test_a_counsellor_records_their_absence_and_a_refusal_keeps_what_was_typed(client, auth,
                                                                              college):
    c = college
    today = local_today(datetime.now(UTC))
    sign_in(auth, c.counsellor)
    form = text_of(client.get("/absences/new"))
    assert "李老师的离岗" in form and "2017级会计学1班" in form
    data = {"starts_on": today.isoformat(),
            "ends_on": (today - timedelta(days=1)).isoformat(),
            "reason": "居家隔离十四天", "cover": str(c.other_counsellor.id)}
    refused = client.post("/absences/new", data=data)
    body = text_of(refused)
    assert refused.status_code == 200 and "最后一天早于第一天" in body
    assert "居家隔离十四天" in body
    assert db.session.scalar(select(Absence.id)) is None
    no_cover = text_of(client.post("/absences/new", data={**data, "cover": "split",
                                                          "ends_on": today.isoformat()}))
    assert "请选择代管人：一位同事代管全部学生" in no_cover
    saved = client.post("/absences/new", data={
        **data, "ends_on": (today + timedelta(days=13)).isoformat(), "cover": "split",
        "class_cover-0": str(c.other_counsellor.id)})
    assert saved.status_code == 302
    absence = db.session.scalars(select(Absence)).one()
    assert [(x.class_name, x.covering_id) for x in absence.covers] == [
        ("2017级会计学1班", c.other_counsellor.id)]
    detail = text_of(client.get(saved.headers["Location"]))
    assert "张老师" in detail and "提前结束" in detail and "延长" in detail
    # the cover sees it in their list; a colleague not involved does not
    sign_in(auth, c.other_counsellor)
    assert "李老师" in text_of(client.get("/absences/"))
    third = factories.CounsellorFactory()
    db.session.commit()
    sign_in(auth, third)
    assert client.get(f"/absences/{absence.id}").status_code == 404


def test_the_deputy_records_for_a_counsellor_and_a_stale_change_is_a_409(client, auth,
                                                                        college):
    c = college
    today = local_today(datetime.now(UTC))
    sign_in(auth, c.deputy)
    saved = client.post(f"/absences/new?counsellor={c.counsellor.id}", data={
        "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=13)).isoformat(),
        "reason": "生病住院", "cover": str(c.other_counsellor.id)})
    assert saved.status_code == 302
    absence = db.session.scalars(select(Absence)).one()
    assert absence.created_by_id == c.deputy.id and absence.counsellor_id == c.counsellor.id
    extended = client.post(f"/absences/{absence.id}/extend", data={
        "version": "1", "ends_on": (today + timedelta(days=20)).isoformat()})
    assert extended.status_code == 302
    stale = client.post(f"/absences/{absence.id}/extend", data={
        "version": "1", "ends_on": (today + timedelta(days=25)).isoformat()})
    assert stale.status_code == 409 and "有人同时改动了这次离岗" in text_of(stale)
    db.session.refresh(absence)
    assert absence.ends_on == today + timedelta(days=20)
    early = client.post(f"/absences/{absence.id}/end", data={
        "version": "2", "last_day": (today + timedelta(days=30)).isoformat()})
    assert early.status_code == 200 and "请选择早于当前最后一天的日期" in text_of(early)


def test_back_from_away_the_counsellor_sees_what_the_cover_did(client, auth, college):
    c = college
    today = local_today(datetime.now(UTC))
    absence = _today_absence(college)
    entries.record_follow_up(c.own_student, c.other_counsellor, channel="phone", reached=True,
                             health="normal", body="问候了情况")
    rechecks.schedule(c.graduate, due_on=today - timedelta(days=2), reason="论文压力复查",
                      origin="manual", by=c.counsellor)
    db.session.commit()
    sign_in(auth, c.counsellor)
    assert "您不在期间" not in text_of(client.get("/"))  # still away
    absences.end_early(absence, c.counsellor, last_day=today - timedelta(days=1))
    db.session.commit()
    landing = text_of(client.get("/"))
    assert "您不在期间" in landing and "问候了情况" in landing and "张老师" in landing
    assert "1 次跟进" in landing and "1 项逾期" in landing
    # the cover no longer sees the students
    sign_in(auth, c.other_counsellor)
    assert client.get(f"/students/{c.own_student.id}").status_code == 404
    assert "陈小明" not in text_of(client.get("/students/"))


def test_the_morning_digest_gives_the_cover_the_covered_rechecks_during_the_window(college,
                                                                                   away):
    from caretrack.services.digest import digests

    c = college
    rechecks.schedule(c.own_student, due_on=FEB_3, reason="复查", origin="manual",
                      by=c.counsellor)
    rechecks.schedule(c.other_student, due_on=FEB_3, reason="复查", origin="manual",
                      by=c.other_counsellor)
    db.session.commit()

    def names(day):
        return {d.counsellor.display_name: sorted(r.student.name for r in d.overdue + d.due_today)
                for d in digests(day)}

    assert names(FEB_3) == {"李老师": ["陈小明"], "张老师": ["刘小红", "陈小明"]}
    assert names(FEB_16 + timedelta(days=1)) == {"李老师": ["陈小明"], "张老师": ["刘小红"]}
