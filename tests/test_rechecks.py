"""The re-check rules, each as a function of ``now``: scheduling, completing, moving, cancelling,
and what is overdue or due today at the edges of the college's day (Asia/Shanghai)."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import EntryKind, Recheck, TimelineEntry
from caretrack.services import recheck_lists, rechecks
from caretrack.services.cases import assign_category, end_category
from caretrack.services.entries import record_follow_up
from caretrack.services.errors import RuleError
from tests import factories

#: 2020-03-03 10:00 in Beijing.
MORNING = datetime(2020, 3, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def cats(app):
    """The account's categories with their cadences (and the Hubei contact's 14-day window)."""

    class Cats:
        hubei = factories.CategoryFactory(code="hubei", name_en="In Hubei", cadence_days=2)
        contact = factories.CategoryFactory(
            code="hubei_contact", name_en="Hubei contact", cadence_days=2, isolation_days=14
        )
        isolated = factories.CategoryFactory(code="isolated", name_en="Isolated", cadence_days=1)
        early = factories.CategoryFactory(code="return_early", name_en="Early", cadence_days=3)
        thesis = factories.CategoryFactory(code="thesis", name_en="Thesis", cadence_days=7)
        none = factories.CategoryFactory(code="no_cadence", name_en="None", cadence_days=0)

    db.session.flush()
    return Cats


def open_of(student) -> list[tuple[date, str]]:
    return [(r.due_on, r.origin) for r in rechecks.open_rechecks(student)]


def recheck_entries(student) -> list[dict]:
    return [
        e.details for e in db.session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.student_id == student.id,
                   TimelineEntry.kind == EntryKind.RECHECK_CHANGE)
            .order_by(TimelineEntry.id)
        )
    ]


def follow_up(student, by, at, days, reached=True):
    return record_follow_up(
        student, by, channel="phone", reached=reached, health="normal" if reached else "unknown",
        body="聊了近况", occurred_at=at, check_again_in_days=days, now=at,
    )


# -- pure rules -------------------------------------------------------------------------------


def test_the_shortest_cadence_among_the_active_categories_is_suggested(cats):
    assert rechecks.suggested_interval([cats.thesis, cats.early, cats.hubei]) == 2
    assert rechecks.suggested_interval([cats.thesis, cats.isolated]) == 1
    assert rechecks.suggested_interval([cats.thesis]) == 7
    # A category without a cadence proposes nothing; no category: no re-check.
    assert rechecks.suggested_interval([cats.none]) is None
    assert rechecks.suggested_interval([]) is None


def test_a_student_not_reached_is_checked_again_tomorrow(cats):
    assert rechecks.suggested_interval([cats.thesis], reached=False) == 1
    assert rechecks.suggested_interval([], reached=False) == 1


def test_suggested_interval_follows_the_students_active_categories(college, cats):
    student, counsellor = college.own_student, college.counsellor
    assign_category(student, cats.thesis, counsellor, started_on=date(2020, 3, 3), now=MORNING)
    hubei = assign_category(student, cats.hubei, counsellor, started_on=date(2020, 3, 3),
                            now=MORNING)
    assert rechecks.suggested_interval(rechecks.active_categories_of(student)) == 2
    end_category(hubei, counsellor, ended_on=date(2020, 3, 3), now=MORNING)
    assert rechecks.suggested_interval(rechecks.active_categories_of(student)) == 7


# -- scheduling by category -------------------------------------------------------------------


def test_a_category_with_a_cadence_schedules_a_re_check_on_the_timeline(college, cats):
    student = college.own_student
    assign_category(student, cats.early, college.counsellor, started_on=date(2020, 3, 3),
                    now=MORNING)
    [recheck] = rechecks.open_rechecks(student)
    assert recheck.due_on == date(2020, 3, 6)
    assert recheck.origin == "cadence" and recheck.category_id == cats.early.id
    assert recheck.owner_id == college.counsellor.id
    assert recheck_entries(student)[-1] == {
        "action": "scheduled", "recheck_id": recheck.id, "due_on": "2020-03-06",
        "origin": "cadence", "category_id": cats.early.id,
    }


def test_a_category_started_earlier_counts_its_cadence_from_today(college, cats):
    assign_category(college.own_student, cats.thesis, college.counsellor,
                    started_on=date(2020, 2, 1), now=MORNING)
    assert open_of(college.own_student) == [(date(2020, 3, 10), "cadence")]


def test_no_cadence_re_check_when_one_is_open_sooner(college, cats):
    student, counsellor = college.own_student, college.counsellor
    assign_category(student, cats.hubei, counsellor, started_on=date(2020, 3, 3), now=MORNING)
    # The 7-day thesis cadence would fall on 03-10: the 03-05 re-check comes first.
    assign_category(student, cats.thesis, counsellor, started_on=date(2020, 3, 3), now=MORNING)
    assert open_of(student) == [(date(2020, 3, 5), "cadence")]
    # The same day counts as sooner too.
    assign_category(student, cats.contact, counsellor, started_on=date(2020, 3, 3), now=MORNING)
    assert [o for _, o in open_of(student)].count("cadence") == 1


def test_a_shorter_cadence_than_the_open_re_check_schedules_one_sooner(college, cats):
    student, counsellor = college.own_student, college.counsellor
    assign_category(student, cats.thesis, counsellor, started_on=date(2020, 3, 3), now=MORNING)
    assign_category(student, cats.isolated, counsellor, started_on=date(2020, 3, 3), now=MORNING)
    assert open_of(student) == [(date(2020, 3, 4), "cadence"), (date(2020, 3, 10), "cadence")]


def test_the_isolation_window_schedules_a_re_check_on_the_day_it_ends(college, cats):
    student = college.own_student
    assignment = assign_category(student, cats.contact, college.counsellor,
                                 started_on=date(2020, 2, 25), now=MORNING)
    assert assignment.isolation_ends_on == date(2020, 3, 10)
    assert open_of(student) == [(date(2020, 3, 5), "cadence"), (date(2020, 3, 10), "isolation")]
    isolation = rechecks.open_rechecks(student)[1]
    assert isolation.category_id == cats.contact.id
    assert [d["origin"] for d in recheck_entries(student)] == ["cadence", "isolation"]


def test_a_category_without_cadence_or_window_schedules_nothing(college, cats):
    assign_category(college.own_student, cats.none, college.counsellor,
                    started_on=date(2020, 3, 3), now=MORNING)
    assert open_of(college.own_student) == []


# -- follow-ups -------------------------------------------------------------------------------


def test_a_follow_up_completes_the_re_checks_due_up_to_its_day_and_schedules_the_next(
    college, cats
):
    student, counsellor = college.own_student, college.counsellor
    past = rechecks.schedule(student, due_on=date(2020, 3, 1), reason="约好回电", by=counsellor,
                             origin="manual", now=MORNING)
    today = rechecks.schedule(student, due_on=date(2020, 3, 3), reason="", by=counsellor,
                              origin="cadence", now=MORNING)
    review = rechecks.schedule(student, due_on=date(2020, 3, 9), reason="复核", by=counsellor,
                               origin="review", now=MORNING)
    at = datetime(2020, 3, 3, 3, 30, tzinfo=UTC)  # 11:30 in Beijing
    entry = follow_up(student, counsellor, at, 2)

    for done in (past, today):
        assert done.state == "done" and done.completed_entry_id == entry.id
        assert done.closed_at == at
    assert review.state == "open"  # due later, and not part of the rhythm
    assert open_of(student) == [(date(2020, 3, 5), "follow_up"), (date(2020, 3, 9), "review")]
    last = recheck_entries(student)[-1]
    assert last["action"] == "completed" and last["entry_id"] == entry.id
    assert last["due_on"] == ["2020-03-01", "2020-03-03"]
    assert last["next_due_on"] == "2020-03-05"


def test_a_follow_up_that_was_logged_late_counts_from_its_own_day(college, cats):
    student, counsellor = college.own_student, college.counsellor
    due = rechecks.schedule(student, due_on=date(2020, 3, 3), reason="", by=counsellor,
                            origin="cadence", now=MORNING)
    yesterday = datetime(2020, 3, 2, 8, 0, tzinfo=UTC)
    record_follow_up(student, counsellor, channel="phone", reached=True, health="normal",
                     occurred_at=yesterday, check_again_in_days=7, now=MORNING)
    # Held on 03-02: the re-check due 03-03 was not due yet; it is the rhythm, so the next
    # re-check (03-09) replaces it.
    assert due.state == "done"
    assert open_of(student) == [(date(2020, 3, 9), "follow_up")]


def test_the_next_re_check_replaces_the_open_rhythm_ones_due_later(college, cats):
    student, counsellor = college.own_student, college.counsellor
    assign_category(student, cats.hubei, counsellor, started_on=date(2020, 3, 3), now=MORNING)
    assert open_of(student) == [(date(2020, 3, 5), "cadence")]
    follow_up(student, counsellor, MORNING, 2)
    # Not two re-checks on 03-05: the follow-up's own replaces the cadence one.
    assert open_of(student) == [(date(2020, 3, 5), "follow_up")]


def test_a_follow_up_without_a_next_re_check_leaves_later_ones_open(college, cats):
    student, counsellor = college.own_student, college.counsellor
    assign_category(student, cats.hubei, counsellor, started_on=date(2020, 3, 3), now=MORNING)
    follow_up(student, counsellor, MORNING, None)
    assert open_of(student) == [(date(2020, 3, 5), "cadence")]
    follow_up(student, counsellor, MORNING, 0)
    assert open_of(student) == [(date(2020, 3, 5), "cadence")]


def test_a_follow_up_not_reached_tomorrow_keeps_the_isolation_check(college, cats):
    student, counsellor = college.own_student, college.counsellor
    assign_category(student, cats.contact, counsellor, started_on=date(2020, 3, 1), now=MORNING)
    follow_up(student, counsellor, MORNING, 1, reached=False)
    assert open_of(student) == [(date(2020, 3, 4), "follow_up"), (date(2020, 3, 15), "isolation")]


def test_a_follow_up_with_nothing_due_records_the_scheduled_re_check(college):
    student, counsellor = college.own_student, college.counsellor
    follow_up(student, counsellor, MORNING, 3)
    assert recheck_entries(student)[-1]["action"] == "scheduled"
    assert recheck_entries(student)[-1]["origin"] == "follow_up"
    assert open_of(student) == [(date(2020, 3, 6), "follow_up")]


def test_a_follow_up_refuses_an_interval_out_of_range(college):
    entry = follow_up(college.own_student, college.counsellor, MORNING, None)
    with pytest.raises(RuleError) as refused:
        rechecks.on_follow_up(college.own_student, entry, college.counsellor,
                              check_again_in_days=400, now=MORNING)
    assert refused.value.code == "interval"


def test_a_follow_up_just_after_midnight_in_beijing_completes_that_days_re_checks(college):
    student, counsellor = college.own_student, college.counsellor
    due = rechecks.schedule(student, due_on=date(2020, 3, 4), reason="", by=counsellor,
                            origin="manual", now=MORNING)
    # 00:01 on 03-04 in Beijing is still 03-03 in UTC.
    follow_up(student, counsellor, datetime(2020, 3, 3, 16, 1, tzinfo=UTC), None)
    assert due.state == "done"


def test_a_follow_up_just_before_midnight_in_beijing_does_not_complete_the_next_days(college):
    student, counsellor = college.own_student, college.counsellor
    due = rechecks.schedule(student, due_on=date(2020, 3, 4), reason="", by=counsellor,
                            origin="manual", now=MORNING)
    follow_up(student, counsellor, datetime(2020, 3, 3, 15, 59, tzinfo=UTC), None)
    assert due.state == "open"


# -- rescheduling and cancelling --------------------------------------------------------------


def test_rescheduling_moves_the_day_and_lands_on_the_timeline(college):
    student, counsellor = college.own_student, college.counsellor
    recheck = rechecks.schedule(student, due_on=date(2020, 3, 3), reason="约好回电",
                                by=counsellor, origin="manual", now=MORNING)
    rechecks.reschedule(recheck, counsellor, due_on=date(2020, 3, 6), reason="学生在实习",
                        now=MORNING)
    assert (recheck.due_on, recheck.previous_due_on, recheck.state) == (
        date(2020, 3, 6), date(2020, 3, 3), "open"
    )
    entry = db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.student_id == student.id)
        .order_by(TimelineEntry.id.desc())
    ).first()
    assert entry.kind == EntryKind.RECHECK_CHANGE and entry.body == "学生在实习"
    assert entry.details == {"action": "rescheduled", "recheck_id": recheck.id,
                             "from": "2020-03-03", "due_on": "2020-03-06"}
    assert entry.author_id == counsellor.id


@pytest.mark.parametrize(
    ("due_on", "code"), [(date(2020, 3, 2), "in-the-past"), (date(2020, 3, 3), "recheck-unchanged")]
)
def test_rescheduling_refuses_the_past_and_the_same_day(college, due_on, code):
    recheck = rechecks.schedule(college.own_student, due_on=date(2020, 3, 3), reason="",
                                by=college.counsellor, origin="manual", now=MORNING)
    with pytest.raises(RuleError) as refused:
        rechecks.reschedule(recheck, college.counsellor, due_on=due_on, reason="x", now=MORNING)
    assert refused.value.code == code
    assert recheck.due_on == date(2020, 3, 3)


def test_cancelling_closes_it_with_its_reason_on_the_timeline(college):
    student, counsellor = college.own_student, college.counsellor
    recheck = rechecks.schedule(student, due_on=date(2020, 3, 4), reason="", by=counsellor,
                                origin="cadence", now=MORNING)
    rechecks.cancel(recheck, counsellor, reason="学生已返校，情况稳定", now=MORNING)
    assert (recheck.state, recheck.cancel_reason, recheck.closed_at) == (
        "cancelled", "学生已返校，情况稳定", MORNING
    )
    assert recheck_entries(student)[-1] == {"action": "cancelled", "recheck_id": recheck.id,
                                            "due_on": "2020-03-04"}
    assert rechecks.open_rechecks(student) == []


def test_a_closed_re_check_cannot_be_moved_or_cancelled(college):
    recheck = rechecks.schedule(college.own_student, due_on=date(2020, 3, 4), reason="",
                                by=college.counsellor, origin="cadence", now=MORNING)
    rechecks.cancel(recheck, college.counsellor, reason="不需要", now=MORNING)
    for change in (
        lambda: rechecks.cancel(recheck, college.counsellor, reason="again", now=MORNING),
        lambda: rechecks.reschedule(recheck, college.counsellor, due_on=date(2020, 3, 9),
                                    reason="x", now=MORNING),
    ):
        with pytest.raises(RuleError) as refused:
            change()
        assert refused.value.code == "recheck-not-open"


def test_a_re_check_added_by_hand_belongs_to_the_students_counsellor(college):
    recheck = rechecks.add_by_hand(college.own_student, college.counsellor,
                                   due_on=date(2020, 3, 3), reason="约好视频", now=MORNING)
    assert (recheck.origin, recheck.owner_id, recheck.reason) == (
        "manual", college.counsellor.id, "约好视频"
    )
    with pytest.raises(RuleError):
        rechecks.add_by_hand(college.own_student, college.counsellor,
                             due_on=date(2020, 3, 2), reason="x", now=MORNING)


# -- today and overdue at the edges of the college's day --------------------------------------

#: 23:59 on 03-03 in Beijing (15:59 UTC, same day) and 00:01 on 03-04 (16:01 UTC, still 03-03).
BEFORE_MIDNIGHT = datetime(2020, 3, 3, 15, 59, tzinfo=UTC)
AFTER_MIDNIGHT = datetime(2020, 3, 3, 16, 1, tzinfo=UTC)


def test_due_today_until_23_59_and_overdue_from_00_01_in_beijing(college):
    recheck = rechecks.schedule(college.own_student, due_on=date(2020, 3, 3), reason="",
                                by=college.counsellor, origin="manual", now=MORNING)
    assert rechecks.is_due_today(recheck, BEFORE_MIDNIGHT)
    assert not rechecks.is_overdue(recheck, BEFORE_MIDNIGHT)
    # The UTC date is still 03-03, but the college's day is 03-04.
    assert AFTER_MIDNIGHT.date() == date(2020, 3, 3)
    assert rechecks.is_overdue(recheck, AFTER_MIDNIGHT)
    assert not rechecks.is_due_today(recheck, AFTER_MIDNIGHT)


def test_the_next_days_re_check_is_due_today_from_00_01_in_beijing(college):
    recheck = rechecks.schedule(college.own_student, due_on=date(2020, 3, 4), reason="",
                                by=college.counsellor, origin="manual", now=MORNING)
    assert not rechecks.is_due_today(recheck, BEFORE_MIDNIGHT)
    assert rechecks.is_due_today(recheck, AFTER_MIDNIGHT)


def test_the_worklist_moves_at_midnight_in_beijing(college):
    student, counsellor = college.own_student, college.counsellor
    for day in (3, 4, 11, 12):
        rechecks.schedule(student, due_on=date(2020, 3, day), reason=f"day {day}",
                          by=counsellor, origin="manual", now=MORNING)
    db.session.flush()

    def reasons(rows):
        return [r.reason for r in rows]

    late = recheck_lists.worklist(counsellor, BEFORE_MIDNIGHT)
    assert reasons(late.overdue) == [] and reasons(late.due_today) == ["day 3"]
    assert reasons(late.upcoming) == ["day 4"]  # 03-04 to 03-10
    early = recheck_lists.worklist(counsellor, AFTER_MIDNIGHT)
    assert reasons(early.overdue) == ["day 3"] and reasons(early.due_today) == ["day 4"]
    assert reasons(early.upcoming) == ["day 11"]  # 03-05 to 03-11
    assert (early.overdue_count, early.due_today_count, early.upcoming_count) == (1, 1, 1)


def test_the_worklist_in_another_college_timezone(app, college):
    app.config["CARETRACK_TIMEZONE"] = "UTC"
    try:
        rechecks.schedule(college.own_student, due_on=date(2020, 3, 3), reason="",
                          by=college.counsellor, origin="manual", now=MORNING)
        # 16:01 UTC on 03-03 is still 03-03 for a college on UTC.
        assert recheck_lists.worklist(college.counsellor, AFTER_MIDNIGHT).due_today_count == 1
    finally:
        app.config["CARETRACK_TIMEZONE"] = "Asia/Shanghai"


def test_the_worklist_is_the_counsellors_own_students(college):
    rechecks.schedule(college.own_student, due_on=date(2020, 3, 3), reason="mine",
                      by=college.counsellor, origin="manual", now=MORNING)
    rechecks.schedule(college.other_student, due_on=date(2020, 3, 3), reason="theirs",
                      by=college.other_counsellor, origin="manual", now=MORNING)
    mine = recheck_lists.worklist(college.counsellor, MORNING)
    assert [r.reason for r in mine.due_today] == ["mine"]
    assert recheck_lists.worklist(college.deputy, MORNING).due_today == []


def test_the_caseload_filter_finds_students_with_an_overdue_re_check(college):
    from caretrack.services.students import CaseloadFilters, caseload_query

    rechecks.schedule(college.own_student, due_on=date(2020, 3, 3), reason="",
                      by=college.counsellor, origin="manual", now=MORNING)
    rechecks.schedule(college.graduate, due_on=date(2020, 3, 4), reason="",
                      by=college.counsellor, origin="manual", now=MORNING)
    filters = CaseloadFilters.from_args({"recheck": "overdue"})
    assert filters.active()

    def names(now):
        return [s.name for s in db.session.scalars(
            caseload_query(college.counsellor, filters, now=now))]

    assert names(BEFORE_MIDNIGHT) == []
    assert names(AFTER_MIDNIGHT) == ["陈小明"]


def test_ending_the_category_cancels_its_isolation_re_check(college, cats):
    student, counsellor = college.own_student, college.counsellor
    contact = assign_category(student, cats.contact, counsellor, started_on=date(2020, 3, 1),
                              now=MORNING)
    end_category(contact, counsellor, ended_on=date(2020, 3, 3), reason="已排除", now=MORNING)
    # The rhythm stays until a follow-up; the window's decision has been made.
    assert open_of(student) == [(date(2020, 3, 5), "cadence")]
    isolation = db.session.scalars(select(Recheck).where(Recheck.origin == "isolation")).one()
    assert isolation.state == "cancelled"
    assert recheck_entries(student)[-1]["action"] == "cancelled"
