"""The day's kept numbers per counsellor equal the full count after any mix of writes: the
counsellor's form, "unchanged", the sheet, the students' check-in, a report resubmitted, a
student added or moved to another counsellor; ``flask daily rebuild-tallies`` says so."""

from datetime import UTC, date, datetime, time, timedelta

from caretrack.extensions import db
from caretrack.models import DailyStatus, StatusSource
from caretrack.services.clock import local_datetime
from caretrack.services.daily import reports, statuses, tallies
from caretrack.services.daily.values import StatusValues
from tests import factories

DAY = date(2020, 3, 2)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return local_datetime(day, time(hour, minute)).astimezone(UTC)


def here(province, city, health="normal", on_campus=False) -> StatusValues:
    return StatusValues(province, city, on_campus, health)


def agrees() -> bool:
    """The kept numbers of DAY are there and equal the full count."""
    kept = tallies.stored(DAY)
    return kept is not None and kept == tallies.recount(DAY)


def test_kept_numbers_equal_the_full_count_after_a_mix_of_writes(college, runner):
    counsellor, other = college.counsellor, college.other_counsellor
    mine = [college.own_student, college.graduate] + [
        factories.StudentFactory(counsellor=counsellor, province="湖北", city="武汉")
        for _ in range(4)]
    theirs = [college.other_student] + [
        factories.StudentFactory(counsellor=other, province="北京", city="北京")
        for _ in range(3)]
    for student in mine + theirs:  # yesterday's statuses, carried into today
        db.session.add(DailyStatus(student_id=student.id, day=DAY - timedelta(days=1),
                                   province=student.province, city=student.city,
                                   on_campus=False, health="normal", source="counsellor",
                                   recorded_by_id=student.counsellor_id,
                                   recorded_at=at(9, day=DAY - timedelta(days=1))))
    db.session.commit()
    assert tallies.stored(DAY) is None  # nothing kept before the day's first write

    # The counsellor records a change: the day is counted, then kept current.
    statuses.record_status(mine[0], counsellor, here("湖北", "武汉", "fever"), at(8))
    assert agrees()
    kept = tallies.stored(DAY)[counsellor.id]
    assert (kept.confirmed, kept.changes, kept.health["fever"]) == (1, 1, 1)

    # The check-in sheet, the students' own check-in, "unchanged".
    statuses.apply_statuses(counsellor, [
        statuses.StatusInput(s.id, here("北京", "北京")) for s in mine[1:4]],
        at(8, 30), StatusSource.UPLOAD)
    assert agrees()
    statuses.apply_statuses(other, [statuses.StatusInput(theirs[1].id, here("北京", "北京"))],
                            at(8, 40), StatusSource.SELF_REPORTED)
    statuses.confirm_unchanged(theirs[2], other, at(8, 45))
    assert agrees()
    db.session.commit()

    # A report submitted, a change after it, the report returned and resubmitted.
    report = reports.submit_report(counsellor, DAY, at(9))
    statuses.record_status(mine[4], counsellor, here("上海", "上海"), at(9, 30))
    assert agrees()
    assert tallies.stored(DAY)[counsellor.id].after_submission == 1
    reports.review_report(report, college.deputy, at(10), approve=False, comment="请补充")
    reports.submit_report(counsellor, DAY, at(10, 30))
    statuses.record_status(mine[5], counsellor, here("湖北", "武汉", "symptoms"), at(10, 40))
    assert agrees()
    assert tallies.stored(DAY)[counsellor.id].after_submission == 1  # the first was folded in

    # The roster changes: a student added, one moved to the other counsellor; then a write.
    factories.StudentFactory(counsellor=other, province="湖北", city="武汉")
    mine[3].counsellor_id = other.id
    db.session.commit()
    statuses.record_status(theirs[3], other, here("湖北", "武汉"), at(11))
    assert agrees()
    db.session.commit()

    # The board reads the kept rows; the rebuild command agrees with them.
    board = reports.board(DAY, at(12), counsellor)
    assert {row.counsellor.id: row.totals for row in board.rows} == tallies.recount(DAY)
    result = runner.invoke(args=["daily", "rebuild-tallies", "--date", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "the kept numbers agreed" in result.output


def test_the_rebuild_command_corrects_numbers_that_drifted(college, runner):
    statuses.record_status(college.own_student, college.counsellor, here("湖北", "武汉"), at(8))
    db.session.commit()
    db.session.execute(db.text("UPDATE daily_tallies SET confirmed = confirmed + 5"))
    db.session.commit()
    result = runner.invoke(args=["daily", "rebuild-tallies", "--date", DAY.isoformat(),
                                 "--days", "2"])
    assert result.exit_code == 1
    assert f"differed on {DAY.isoformat()} (now corrected)" in result.output
    assert agrees()


def test_the_rebuild_command_counts_no_day_after_today(app, runner):
    result = runner.invoke(args=["daily", "rebuild-tallies", "--date", "2999-01-01"])
    assert result.exit_code != 0
    assert "end today at the latest" in result.output
    assert tallies.stored(date(2999, 1, 1)) is None


def test_the_demo_college_starts_with_its_numbers_kept_as_counted(demo):
    from caretrack.services.clock import local_today

    today = local_today(demo.now)
    kept = tallies.stored(today)
    assert kept is not None and kept == tallies.recount(today)
    assert sum(t.by_source["self"] for t in kept.values()) > 0  # the students' own check-ins
