"""Three weeks of daily statuses, reports and sign-offs in each college, ending today, through
the daily services.

Each morning the class check-in sheets confirm nearly every student's status, a few change,
a few students do not answer; each counsellor reports (some late, zero when nothing changed);
the stage after the reports (the league secretary; the deputy where the college has no merge
stage) approves them, or returns one that is then corrected, and passes the college's report
on; each later stage signs it in turn, some late, one now and then returning it with a
comment to the stage before, which passes it on again. Every past day ends approved and sent
to the university office. Today is under way: what is planned after ``ctx.now`` has not
happened yet, and counsellor1 of the account's college has not submitted.
"""

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from caretrack.access import signing_stages
from caretrack.extensions import db
from caretrack.models import CategoryAssignment, Health, Stage, StatusSource, Student
from caretrack.services import daily
from caretrack.services.clock import local_datetime, local_today
from caretrack.services.daily import StatusInput, StatusValues, sign_off

DAYS = 21
PLACES = [("北京", "北京"), ("河北", "保定"), ("山东", "青岛"), ("河南", "郑州"), ("江苏", "南京"),
          ("湖北", "武汉"), ("湖北", "黄冈"), ("广东", "深圳"), ("四川", "成都")]
RETURN_COMMENTS = [
    "请核实湖北籍学生的健康状况后重新提交。",
    "变动学生的所在城市没有填写完整，请补充。",
    "请说明未回复学生的联系情况。",
]
REPORT_NOTES = ["", "", "", "未回复学生已电话联系，明日补报。", "已提醒班长督促同学按时填报。"]
#: What a later stage says when it returns the college's report to the stage before.
STAGE_RETURNS = {
    Stage.CHECK: "汇总表中发热学生的情况说明不完整，请补充后重新报送。",
    Stage.APPROVE: "请核对在湖北学生人数与昨日的差异，说明原因后再报。",
}
#: How often a stage acts after its deadline.
LATE_SHARE = 0.12


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
    """Add three weeks of daily statuses, reports and sign-offs ending ``ctx.today``, in each
    college."""
    for college in ctx.colleges:
        CollegeDays(ctx, college).run()
    db.session.flush()


class CollegeDays:
    """One college's three weeks."""

    def __init__(self, ctx, college):
        self.ctx = ctx
        self.rng = ctx.rng
        self.college = college
        self.now = ctx.now
        self.stages = signing_stages(college.college)
        self.signers = {Stage.MERGE.value: college.league, Stage.CHECK.value: college.deputy,
                        Stage.APPROVE.value: college.secretary}
        # In the evening (UTC) it is already tomorrow in Beijing: end on the college's today.
        self.today = max(ctx.today, local_today(ctx.now))
        self.first = self.today - timedelta(days=DAYS - 1)
        counsellors = college.counsellors
        # A report that came in only after the reviewer's call, well after the deadline.
        self.very_late = (self.first + timedelta(days=6), counsellors[-1].id)
        # The days a later stage returns the report (each college its own): the first later
        # stage, then the last.
        offset = college.index
        self.stage_returns = {self.first + timedelta(days=8 + offset): self.stages[1],
                              self.first + timedelta(days=14 + offset): self.stages[-1]}

    def happened(self, at: datetime) -> bool:
        return at <= self.now

    def run(self) -> None:
        college = self.college
        # Plain ids: three weeks of loops over ORM attributes would cost more than the inserts.
        caseloads = defaultdict(list)
        for student in college.students:
            caseloads[student.counsellor_id].append(student.id)
        contacts = college.categories["hubei_contact"]
        hubei_contacts = set(db.session.scalars(
            select(CategoryAssignment.student_id)
            .join(Student, Student.id == CategoryAssignment.student_id)
            .where(CategoryAssignment.category_id == contacts.id,
                   Student.college_id == college.college.id)
        ))
        self.state = {s.id: _first_status(s, hubei_contacts) for s in college.students}
        for day in (self.first + timedelta(days=n) for n in range(DAYS)):
            reviewed = [self.reports(day, c, caseloads[c.id]) for c in college.counsellors]
            if all(r is not None for r in reviewed):
                self.sign_off(day, max(reviewed))

    def reports(self, day: date, counsellor, students: list[int]) -> datetime | None:
        """The counsellor's morning: the sheet, a late answer or two, the report and its
        review. Returns when the report was approved (None: not yet)."""
        rng = self.rng
        is_today = day == self.today
        first_counsellor = counsellor is self.ctx.college.counsellors[0]
        checkin = _at(day, rng.randint(8, 9), rng.randint(0, 59))
        if is_today and not self.happened(checkin):
            return None
        silent = rng.randint(0, max(1, len(students) // 40)) if day != self.first else 0
        if is_today and first_counsellor:
            silent = len(students) // 7
        answering = rng.sample(students, len(students) - silent)
        movers = set() if day == self.first else set(
            rng.sample(answering, rng.choice([0, 0, 0, 1, 1, 2, 3]))
        )
        for student_id in movers:
            self.state[student_id] = _changed(rng, self.state[student_id])
        items = [StatusInput(student_id, self.state[student_id]) for student_id in answering]
        daily.apply_statuses(counsellor, items, checkin, source=StatusSource.UPLOAD)
        # A non-responder reached by phone later in the morning, recorded by hand.
        answered = set(answering)
        late_answers = [i for i in students if i not in answered][:2]
        reached = _at(day, 10, rng.randint(0, 40))
        if late_answers and not (is_today and not self.happened(reached)):
            daily.apply_statuses(
                counsellor, [StatusInput(i, self.state[i]) for i in late_answers], reached
            )
        if is_today and first_counsellor:
            return None
        if (day, counsellor.id) == self.very_late:
            submitted = _at(day, 11, rng.randint(35, 45))
        elif rng.random() < 0.15:
            submitted = _at(day, 11, rng.randint(2, 20))
        else:
            submitted = _at(day, 10, rng.randint(15, 58))
        if is_today and not self.happened(submitted):
            return None
        report = daily.submit_report(counsellor, day, submitted, note=rng.choice(REPORT_NOTES))
        reviewer = self.college.reviewer
        reviewed = submitted + timedelta(minutes=rng.randint(3, 12))
        if is_today and not self.happened(reviewed):
            return None
        if rng.random() < 0.1 and not is_today:
            daily.review_report(report, reviewer, reviewed, approve=False,
                                comment=rng.choice(RETURN_COMMENTS))
            corrected = reviewed + timedelta(minutes=rng.randint(5, 15))
            daily.submit_report(counsellor, day, corrected, note="已核实并补充。")
            reviewed = corrected + timedelta(minutes=rng.randint(2, 8))
        daily.review_report(report, reviewer, reviewed, approve=True)
        return reviewed

    def step_time(self, day: date, stage: str, after: datetime) -> datetime:
        """When ``stage`` acts, after ``after``: mostly before its deadline, now and then late."""
        deadline = sign_off.stage_deadline(self.college.college, stage, day).astimezone(UTC)
        if self.rng.random() < LATE_SHARE:
            planned = deadline + timedelta(minutes=self.rng.randint(4, 35))
        else:
            planned = deadline - timedelta(minutes=self.rng.randint(2, 25))
        return max(planned, after + timedelta(minutes=self.rng.randint(2, 8)))

    def sign_off(self, day: date, ready: datetime) -> None:
        """The college's report of ``day`` passed along its stages, up to now."""
        returns = self.stage_returns.get(day)
        at = ready
        position, version = 0, 0
        while position < len(self.stages):
            stage = self.stages[position]
            at = self.step_time(day, stage, at)
            if not self.happened(at):
                return
            signer = self.signers[stage]
            if returns == stage:
                # Returned once to the stage before, which passes it on again.
                returned = sign_off.return_to_previous(signer, day, at, version=version,
                                                       comment=STAGE_RETURNS[Stage(stage)])
                version, returns = returned.version_id, None
                position -= 1
                continue
            passed = sign_off.pass_on(signer, day, at, version=version)
            version = passed.version_id
            position += 1
