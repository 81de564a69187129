"""Three weeks of daily statuses and reports, ending today, through the daily services.

Each morning the class check-in sheets confirm nearly every student's status, a few change,
a few students do not answer; each counsellor reports (some late, zero when nothing changed),
and the deputy secretary approves, or returns a report that is then corrected. Today is
under way: what is planned after ``ctx.now`` has not happened yet, and counsellor1 has not
submitted.
"""

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import CategoryAssignment, Health, StatusSource
from caretrack.services import daily
from caretrack.services.clock import local_datetime, local_today
from caretrack.services.daily import StatusInput, StatusValues

DAYS = 21
PLACES = [("北京", "北京"), ("河北", "保定"), ("山东", "青岛"), ("河南", "郑州"), ("江苏", "南京"),
          ("湖北", "武汉"), ("湖北", "黄冈"), ("广东", "深圳"), ("四川", "成都")]
RETURN_COMMENTS = [
    "请核实湖北籍学生的健康状况后重新提交。",
    "变动学生的所在城市没有填写完整，请补充。",
    "请说明未回复学生的联系情况。",
]
REPORT_NOTES = ["", "", "", "未回复学生已电话联系，明日补报。", "已提醒班长督促同学按时填报。"]


def _at(day: date, hour: int, minute: int) -> datetime:
    return local_datetime(day, time(hour, minute)).astimezone(UTC)


def _first_status(student, hubei_contacts: set[int]) -> StatusValues:
    health = Health.NORMAL
    if student.on_campus:
        health = Health.ISOLATED_CENTRE
    elif student.id in hubei_contacts:
        health = Health.ISOLATED_HOME
    return StatusValues(student.province, student.city, student.on_campus, health.value)


def _changed(rng, values: StatusValues) -> StatusValues:
    """A plausible next status: a move, or a change of health."""
    if values.on_campus:
        return replace(values, health=rng.choice([Health.NORMAL, Health.ISOLATED_CENTRE]).value)
    if values.health in (Health.FEVER, Health.SYMPTOMS, Health.ISOLATED_HOME):
        return replace(values, health=Health.NORMAL.value)
    if rng.random() < 0.55:
        province, city = rng.choice([p for p in PLACES if p != (values.province, values.city)])
        return replace(values, province=province, city=city)
    health = rng.choice([Health.FEVER, Health.SYMPTOMS, Health.SYMPTOMS, Health.ISOLATED_HOME])
    return replace(values, health=health.value)


def seed(ctx) -> None:
    """Add three weeks of daily statuses and reports ending ``ctx.today``."""
    rng = ctx.rng
    college = ctx.college
    counsellors = college.counsellors
    # Plain ids: three weeks of loops over ORM attributes would cost more than the inserts.
    caseloads = defaultdict(list)
    for student in college.students:
        caseloads[student.counsellor_id].append(student.id)
    contacts = college.categories["hubei_contact"]
    hubei_contacts = set(db.session.scalars(
        select(CategoryAssignment.student_id).where(CategoryAssignment.category_id == contacts.id)
    ))
    state = {s.id: _first_status(s, hubei_contacts) for s in college.students}
    # In the evening (UTC) it is already tomorrow in Beijing: end on the college's today.
    today = max(ctx.today, local_today(ctx.now))
    first = today - timedelta(days=DAYS - 1)
    # One report never came in; one was returned and is still waiting for its correction.
    missed = (first + timedelta(days=6), counsellors[-1].id)
    still_returned = (first + timedelta(days=10), counsellors[2].id)

    for day in (first + timedelta(days=n) for n in range(DAYS)):
        is_today = day == today
        for counsellor in counsellors:
            students = caseloads[counsellor.id]  # ids
            checkin = _at(day, rng.randint(8, 9), rng.randint(0, 59))
            if is_today and checkin > ctx.now:
                continue
            silent = rng.randint(0, max(1, len(students) // 40)) if day != first else 0
            if is_today and counsellor is counsellors[0]:
                silent = len(students) // 7
            answering = rng.sample(students, len(students) - silent)
            movers = set() if day == first else set(
                rng.sample(answering, rng.choice([0, 0, 0, 1, 1, 2, 3]))
            )
            for student_id in movers:
                state[student_id] = _changed(rng, state[student_id])
            items = [StatusInput(student_id, state[student_id]) for student_id in answering]
            daily.apply_statuses(counsellor, items, checkin, source=StatusSource.UPLOAD)
            # A non-responder reached by phone later in the morning, recorded by hand.
            answered = set(answering)
            late_answers = [i for i in students if i not in answered][:2]
            reached = _at(day, 10, rng.randint(0, 40))
            if late_answers and not (is_today and reached > ctx.now):
                daily.apply_statuses(
                    counsellor, [StatusInput(i, state[i]) for i in late_answers], reached
                )
            if (day, counsellor.id) == missed or (is_today and counsellor is counsellors[0]):
                continue
            late = rng.random() < 0.15
            submitted = _at(day, 11 if late else 10, rng.randint(5, 50) if late else
                            rng.randint(15, 58))
            if is_today and submitted > ctx.now:
                continue
            report = daily.submit_report(counsellor, day, submitted,
                                         note=rng.choice(REPORT_NOTES))
            reviewed = max(submitted, _at(day, 11, 30)) + timedelta(minutes=rng.randint(5, 25))
            if is_today and reviewed > ctx.now:
                continue
            if (day, counsellor.id) == still_returned:
                daily.review_report(report, college.deputy, reviewed, approve=False,
                                    comment=RETURN_COMMENTS[0])
                continue
            if rng.random() < 0.1 and not is_today:
                daily.review_report(report, college.deputy, reviewed, approve=False,
                                    comment=rng.choice(RETURN_COMMENTS))
                corrected = reviewed + timedelta(minutes=rng.randint(10, 40))
                daily.submit_report(counsellor, day, corrected, note="已核实并补充。")
                reviewed = corrected + timedelta(minutes=rng.randint(5, 20))
            daily.review_report(report, college.deputy, reviewed, approve=True)
    db.session.flush()
