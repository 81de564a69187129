"""The demo college's season of history: about six weeks of timeline, through the services.

What the account describes, student by student, in the order it happened:
- in the first days each counsellor makes sure every student has read the college's notice;
- every day some students do not answer the health form by 11:00 and are chased by SMS or
  phone, one by one;
- students in a care category are followed up at their category's rhythm (in Hubei, Hubei
  contact and isolated students every day or two, the others every few days);
- the six students on campus get supplies delivered every two or three days;
- students under thesis pressure are referred to a supervisor, with referrals in every state;
- categories end (isolation windows over, students talked out of returning early), a few are
  added, concern levels move, some notes are written and a few entries corrected.
"""

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import func, insert, select, update

from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    CareCategory,
    CategoryAssignment,
    ConcernLevel,
    EntryKind,
    Recheck,
    RecheckOrigin,
    RecheckState,
    Student,
    TimelineEntry,
    User,
)
from caretrack.services import cases, entries, rechecks, referrals
from caretrack.services.clock import local_datetime, local_today

SEED = 20200305
#: Length of the season, in days before today.
SEASON_DAYS = 42
#: Share of all students chased on a given day for not answering the health form.
CHASED_PER_DAY = 0.06
#: Rows per INSERT statement of the bulk writes.
ROWS_PER_STATEMENT = 2000

CHANNELS = {
    "default": (["wechat", "phone", "sms", "video", "email"], [45, 33, 12, 6, 4]),
    "hubei": (["wechat", "phone", "video"], [50, 35, 15]),
    "isolated_on_campus": (["in_person", "wechat", "phone"], [50, 38, 12]),
    # Students who did not answer are chased one by one by SMS or phone.
    "chase": (["sms", "phone"], [55, 45]),
    "first": (["wechat", "sms", "phone"], [80, 10, 10]),
}
SAID = {
    "hubei": [
        "本人及家人体温正常，情绪稳定，叮嘱做好居家防护",
        "家在武汉，小区封闭管理，生活物资充足",
        "父亲有些咳嗽，已就医排除，学生有些焦虑，做了安慰",
        "每日测体温无发热，线上学习正常",
        "询问家人身体状况，均正常；鼓励坚持线上学习",
        "社区统一配送蔬菜，家里一切安好",
    ],
    "hubei_contact": [
        "居家隔离中，体温正常，没有外出",
        "家人已解除医学观察，本人无症状",
        "叮嘱继续居家隔离，不串门不聚集",
        "社区每天上门测温，情况良好",
    ],
    "isolated_on_campus": [
        "在会议中心隔离，情绪平稳，饮食正常",
        "送餐到门口，体温36.5℃，精神不错",
        "反映宿舍网络不稳定，已联系网络中心",
        "有些孤单，聊了半小时，约好明天视频",
        "想家，已与家长视频通话，情绪好转",
    ],
    "return_early": [
        "想提前返校准备考研复试，解释了学校封校要求，学生表示理解",
        "实习单位要求到岗，建议先与单位沟通远程实习",
        "再次叮嘱不得提前返校，学生同意",
        "需要返京参加面试，建议改为线上面试",
    ],
    "thesis_pressure": [
        "论文实验无法开展，比较焦虑；建议与导师商量调整方案",
        "担心延期毕业，解释了学校的延期政策",
        "问卷数据收集受阻，已请导师线上指导",
        "论文进度有所恢复，情绪好转",
    ],
    "other_attention": [
        "家庭经济困难，父母暂时无收入，告知临时困难补助的申请方式",
        "情绪低落，建议预约线上心理咨询",
        "上网课缺少电脑，协调借用笔记本电脑",
        "状态比上周好，继续关注",
    ],
    "chase": [
        "未按时填报健康信息，提醒后已补报",
        "提醒填报，学生说忘记了，已补报",
        "已回复，身体健康，仍在家中",
        "所在地有变化，已更新",
        "在单位值班忘记填报，已补报",
    ],
    "first": [
        "已阅读学校疫情防控通知并回复，身体健康，目前在家",
        "确认已知晓学校不得提前返校的要求",
        "已加入年级微信群，回复身体健康",
    ],
    "symptoms": [
        "有些咳嗽，体温37.3℃，已叮嘱居家观察，如有发热及时就医",
        "嗓子疼，没有发热，提醒多喝水、每天早晚测体温",
        "家人发热已就医，本人暂无症状，叮嘱自我隔离",
    ],
}
NOT_REACHED = {
    "phone": ["电话未接通，稍后再联系", "关机，已给家长留言"],
    "sms": ["短信未回复"],
    "wechat": ["微信消息未回复"],
    "video": ["视频未接通"],
}
NOTES = [
    "家长来电询问返校时间，已解释学校安排",
    "已加入班级健康打卡群",
    "参加了线上主题班会，发言积极",
    "报名参加学院线上征文比赛",
    "学生党员，已在朋友圈做出防疫承诺",
    "主动担任社区志愿者，协助发放防疫物资",
    "询问毕业答辩安排，已转达研究生院通知",
]
SUPPLIES = [
    ("口罩", 10, "个"), ("方便面", 1, "箱"), ("水果", 2, "份"), ("牛奶", 1, "箱"),
    ("洗手液", 2, "瓶"), ("消毒湿巾", 3, "包"), ("体温计", 1, "支"), ("面包", 4, "个"),
    ("卫生纸", 1, "提"), ("蔬菜", 1.5, "kg"),
]
HELPERS = ["学生干部 王同学", "留校辅导员值班组"]
REFERRAL_REASONS = [
    "毕业论文实验无法按计划开展，学生焦虑，请导师线上指导调整方案",
    "开题报告进度滞后，担心延期毕业，请导师帮助制定计划",
    "问卷数据收集受疫情影响，请导师指导改用二手数据",
    "论文写作遇到瓶颈，情绪低落，请导师多关心",
]
RESPONSES = [
    "已开展线上论文指导，调整了研究方案",
    "每周组会改为视频会议，学生按时参加",
    "与学生通话一小时，梳理了写作提纲",
    "推荐了可替代的数据来源，学生已开始整理",
]
DECLINE_REASONS = ["学生的论文方向与我不符，建议转给副导师", "近期在外地出差，无法及时跟进"]
REVOKE_REASONS = ["学生已自行与导师取得联系", "学生情况好转，暂不需要导师介入"]
CORRECTIONS = [
    "联系方式记错了：应为电话，不是微信",
    "时间记错了：应为上午10点左右",
    "此条记在了错误的学生名下，请忽略",
    "补充：学生说的是家人发热，不是本人",
]


@dataclass(order=True)
class Event:
    at: datetime
    seq: float
    run: Callable[[datetime], None] = field(compare=False)
    #: A follow-up, delivery, note or correction: what :class:`Bulk` writes.
    simple: bool = field(default=False, compare=False)


@dataclass
class StudentPlan:
    """What happens to one student over the season, then done in time order."""

    student: Student
    counsellor: User
    events: list[Event] = field(default_factory=list)
    last_entry: object = None
    #: Whether the season is written in bulk (it holds only simple events).
    bulk: bool = False

    def add(self, at: datetime, run: Callable[[datetime], None], simple: bool = False) -> None:
        self.events.append(Event(at, len(self.events), run, simple))


class History:
    def __init__(self, ctx, college):
        self.ctx = ctx
        self.rng = random.Random(SEED + college.index)
        self.now = ctx.now
        self.today = local_today(ctx.now)
        self.first_day = self.today - timedelta(days=SEASON_DAYS)
        self.counsellors = {c.id: c for c in college.counsellors}
        self.supervisors = {s.id: s for s in college.supervisors}
        self.categories: dict[str, CareCategory] = college.categories
        self.assignments: dict[int, list[CategoryAssignment]] = defaultdict(list)
        for assignment in db.session.scalars(
            select(CategoryAssignment)
            .join(Student, Student.id == CategoryAssignment.student_id)
            .where(CategoryAssignment.ended_on.is_(None),
                   Student.college_id == college.college.id)
            .order_by(CategoryAssignment.id)
        ):
            self.assignments[assignment.student_id].append(assignment)
        self.plans = {
            s.id: StudentPlan(s, self.counsellors[s.counsellor_id]) for s in college.students
        }

    # -- time --------------------------------------------------------------------------------

    def at(self, day: date, earliest: int = 8, latest: int = 21) -> datetime:
        """A random instant between two local hours of ``day``."""
        minutes = self.rng.randint(earliest * 60, latest * 60 - 1)
        return local_datetime(day, time(0, 0)) + timedelta(minutes=minutes)

    def days(self, start: date, every: tuple[int, int]):
        """Days from ``start`` to yesterday, spaced by a random number of days in ``every``."""
        day = start + timedelta(days=self.rng.randint(0, every[1] - 1))
        while day <= self.today:
            yield day
            day += timedelta(days=self.rng.randint(*every))

    def past(self, at: datetime) -> bool:
        return at < self.now - timedelta(minutes=5)

    # -- recording through the services ------------------------------------------------------

    def follow_up(self, plan: StudentPlan, at: datetime, situation: str, *, reached=None,
                  interval: int | None = None, chase_if_missed=True) -> None:
        rng = self.rng
        if reached is None:
            reached = rng.random() < 0.92
        channels, weights = CHANNELS.get(situation, CHANNELS["default"])
        channel = rng.choices(channels, weights)[0]
        if not reached and channel in ("in_person", "email"):
            channel = "phone"
        concern_high = plan.student.concern_level == ConcernLevel.HIGH
        if not reached:
            health, said = "unknown", rng.choice(NOT_REACHED[channel])
        elif rng.random() < (0.15 if concern_high else 0.02):
            health, said = "symptoms", rng.choice(SAID["symptoms"])
        else:
            health, said = "normal", rng.choice(SAID.get(situation, SAID["chase"]))
        suggested = interval
        if not reached:
            interval = 1 if interval else None
        # Some follow-ups are written down a while after the call.
        logged = at + timedelta(minutes=rng.choice([0, 0, 0, 2, 10, 45, 120]))
        logged = min(logged, self.now - timedelta(minutes=1))

        def run(_at):
            record = self.bulk.follow_up if plan.bulk else entries.record_follow_up
            plan.last_entry = record(
                plan.student, plan.counsellor, channel=channel, reached=reached, health=health,
                body=said, occurred_at=at, check_again_in_days=interval, now=max(logged, at),
            )

        plan.add(at, run, simple=True)
        if not reached and chase_if_missed:
            again = at + timedelta(minutes=rng.randint(30, 180))
            if self.past(again):
                self.follow_up(plan, again, situation, reached=rng.random() < 0.85,
                               interval=suggested, chase_if_missed=False)

    def interval_for(self, codes: list[str]) -> int | None:
        cadences = [self.categories[c].cadence_days for c in codes
                    if self.categories[c].cadence_days]
        return min(cadences) if cadences else None

    # -- the season --------------------------------------------------------------------------

    def first_contact(self) -> None:
        """Each counsellor confirms, in the first days, that every student read the notice."""
        for plan in self.plans.values():
            at = self.at(self.first_day + timedelta(days=self.rng.randint(0, 4)), 9, 22)
            self.follow_up(plan, at, "first", reached=True, chase_if_missed=False)

    def daily_chase(self) -> None:
        """Students who did not answer the health form by 11:00 are chased one by one."""
        plans = list(self.plans.values())
        for offset in range(SEASON_DAYS + 1):
            day = self.first_day + timedelta(days=offset)
            for plan in self.rng.sample(plans, int(len(plans) * CHASED_PER_DAY)):
                at = self.at(day, 11, 13)
                if self.past(at):
                    codes = [a.category.code for a in self.assignments.get(plan.student.id, [])]
                    self.follow_up(plan, at, "chase", interval=self.interval_for(codes))

    def categories_rhythm(self) -> None:
        """Follow-ups at each care category's rhythm, from the day it started."""
        rhythm = {
            "isolated_on_campus": (1, 1), "hubei": (1, 2), "hubei_contact": (1, 3),
            "return_early": (2, 4), "thesis_pressure": (4, 7), "other_attention": (4, 8),
        }
        order = list(rhythm)
        for student_id, assignments in self.assignments.items():
            plan = self.plans[student_id]
            codes = sorted((a.category.code for a in assignments), key=order.index)
            main = codes[0]
            start = min(a.started_on for a in assignments)
            ends = self.category_endings(plan, assignments)
            for day in self.days(start + timedelta(days=1), rhythm[main]):
                if ends and day > ends:
                    break
                at = self.at(day)
                if self.past(at):
                    self.follow_up(plan, at, main, interval=self.interval_for(codes))
                if main == "isolated_on_campus" and self.rng.random() < 0.3:
                    evening = self.at(day, 19, 22)
                    if self.past(evening):
                        self.follow_up(plan, evening, main, interval=1)

    def category_endings(self, plan: StudentPlan, assignments) -> date | None:
        """End Hubei-contact categories when the isolation window is over and talk some
        students out of returning early; return the day the last category ended, if all do."""
        ended = []
        for assignment in assignments:
            code = assignment.category.code
            end_day, reason = None, ""
            if code == "hubei_contact" and assignment.isolation_ends_on < self.today:
                end_day, reason = assignment.isolation_ends_on, "居家隔离期满，无异常症状，解除关注"
            elif code == "return_early" and self.rng.random() < 0.3:
                end_day = assignment.started_on + timedelta(days=self.rng.randint(4, 20))
                reason = "已做通工作，同意暂缓返校，在家学习"
            if end_day is None or end_day >= self.today:
                continue
            at = self.at(end_day, 9, 18)
            if not self.past(at):
                continue

            def run(_at, assignment=assignment, end_day=end_day, reason=reason, at=at):
                cases.end_category(assignment, plan.counsellor, ended_on=end_day,
                                   reason=reason, now=at)

            plan.add(at, run)
            ended.append(end_day)
        return max(ended) if len(ended) == len(assignments) else None

    def new_categories(self) -> None:
        """A few students get a category during the season."""
        others = [p for p in self.plans.values() if p.student.id not in self.assignments]
        for plan in self.rng.sample(others, 18):
            day = self.today - timedelta(days=self.rng.randint(2, 25))
            at = self.at(day, 9, 18)
            category = self.categories["other_attention"]

            def run(_at, plan=plan, at=at, day=day, category=category):
                cases.assign_category(plan.student, category, plan.counsellor, started_on=day,
                                      reason="家中老人住院，学生情绪波动较大", now=at)

            plan.add(at, run)
            for follow_day in self.days(day + timedelta(days=1), (4, 8)):
                follow_at = self.at(follow_day)
                if self.past(follow_at):
                    self.follow_up(plan, follow_at, "other_attention", interval=7)

    def deliveries(self) -> None:
        """Supplies bought and delivered to the students on campus every two or three days."""
        on_campus = [p for p in self.plans.values() if p.student.on_campus]
        for n, plan in enumerate(on_campus):
            place = "conference_centre" if n % 2 else "dormitory"
            detail = f"会议中心{200 + n}号房" if n % 2 else f"学生公寓{n + 3}号楼"
            for day in self.days(self.first_day + timedelta(days=2), (2, 3)):
                at = self.at(day, 10, 18)
                if not self.past(at):
                    continue
                items = [(name, quantity * self.rng.randint(1, 2), unit) for name, quantity, unit
                         in self.rng.sample(SUPPLIES, self.rng.randint(2, 4))]
                received = self.rng.random() < 0.95
                helper = self.rng.choice([plan.counsellor.display_name, *HELPERS])

                def run(_at, plan=plan, at=at, items=items, received=received, helper=helper,
                        place=place, detail=detail):
                    record = self.bulk.delivery if plan.bulk else entries.record_delivery
                    plan.last_entry = record(
                        plan.student, plan.counsellor, items=items, place=place,
                        place_detail=detail, received=received, delivered_by=helper,
                        body="" if received else "学生不在房间，放在门口并电话告知",
                        occurred_at=at, now=at,
                    )

                plan.add(at, run, simple=True)

    def referrals(self) -> None:
        """Thesis-pressure students referred to their supervisor, in every state."""
        thesis = [
            self.plans[student_id] for student_id, assignments in self.assignments.items()
            if any(a.category.code == "thesis_pressure" for a in assignments)
            and self.plans[student_id].student.supervisor_id
        ]
        states = ["done", "done", "accepted", "accepted", "open", "declined", "revoked"]
        for n, plan in enumerate(self.rng.sample(thesis, int(len(thesis) * 0.55))):
            state = states[n % len(states)]
            student = plan.student
            own = self.supervisors[student.supervisor_id]
            other = self.rng.choice([s for s in self.supervisors.values() if s.id != own.id])
            supervisor = own if self.rng.random() < 0.9 or state == "declined" else other
            start = max(self.first_day + timedelta(days=5),
                        min(a.started_on for a in self.assignments[student.id]))
            latest = self.today - timedelta(days=1 if state == "open" else 12)
            if start > latest:
                # Too recent a worry for a referral to have run its course: still open.
                state, latest = "open", self.today - timedelta(days=1)
            if start > latest:
                continue
            day = start + timedelta(days=self.rng.randint(0, max(0, (latest - start).days)))
            at = self.at(day, 9, 17)
            if not self.past(at):
                continue
            steps = self.referral_steps(state, at)
            urgency = "urgent" if self.rng.random() < 0.15 else "normal"
            reason = self.rng.choice(REFERRAL_REASONS)
            holder = {}

            def make(_at, plan=plan, supervisor=supervisor, urgency=urgency, reason=reason,
                     at=at, holder=holder):
                holder["referral"] = referrals.refer(
                    plan.student, supervisor, plan.counsellor, reason=reason, urgency=urgency,
                    now=at,
                )

            plan.add(at, make)
            for step_at, step, text in steps:

                def run(_at, step=step, text=text, step_at=step_at, holder=holder,
                        plan=plan, supervisor=supervisor):
                    referral = holder["referral"]
                    if step == "accept":
                        referrals.accept(referral, supervisor, note=text, now=step_at)
                    elif step == "respond":
                        referrals.respond(referral, supervisor, body=text, now=step_at)
                    elif step == "done":
                        referrals.mark_done(referral, supervisor, note=text, now=step_at)
                    elif step == "decline":
                        referrals.decline(referral, supervisor, reason=text, now=step_at)
                    elif step == "revoke":
                        referrals.revoke(referral, plan.counsellor, reason=text, now=step_at)

                plan.add(step_at, run)

    def referral_steps(self, state: str, at: datetime) -> list[tuple[datetime, str, str]]:
        """The steps after the referral at ``at`` that lead to ``state``, in working hours."""
        rng = self.rng
        day = local_today(at)
        steps = []

        def later(days: tuple[int, int]) -> datetime:
            nonlocal day
            day += timedelta(days=rng.randint(*days))
            return self.at(day, 8, 22)

        if state == "declined":
            steps.append((later((0, 2)), "decline", rng.choice(DECLINE_REASONS)))
        elif state == "revoked":
            steps.append((later((0, 2)), "revoke", rng.choice(REVOKE_REASONS)))
        elif state != "open":
            steps.append((later((0, 1)), "accept", "好的，我来跟进"))
            for _ in range(rng.randint(1, 3)):
                steps.append((later((1, 4)), "respond", rng.choice(RESPONSES)))
            if state == "done":
                steps.append((later((1, 3)), "done", "学生已按新方案推进论文，情绪稳定"))
        # Same-day steps keep their order even if their random hours do not.
        times = sorted(max(step_at, at + timedelta(minutes=30)) for step_at, _, _ in steps)
        steps = [(when, step, text) for when, (_, step, text) in zip(times, steps, strict=True)]
        return [step for step in steps if self.past(step[0])]

    def concern_moves(self) -> None:
        """Concern levels go down as students recover and up for a few."""
        since = self.today - timedelta(days=19)
        for plan in self.plans.values():
            level = plan.student.concern_level
            moves = []
            if level == ConcernLevel.HIGH and self.rng.random() < 0.35:
                moves.append(("elevated", "复查体温正常，家人已康复，降低关注等级"))
            elif level == ConcernLevel.ELEVATED and self.rng.random() < 0.4:
                moves.append(("normal", "情绪平稳，恢复正常关注"))
            elif level == ConcernLevel.NORMAL and self.rng.random() < 0.01:
                moves.append(("elevated", "近期情绪低落，失眠，需持续关注"))
            for target, reason in moves:
                day = since + timedelta(days=self.rng.randint(0, 17))
                at = self.at(day, 9, 20)

                def run(_at, plan=plan, target=target, reason=reason, at=at):
                    cases.change_concern_level(plan.student, target, plan.counsellor,
                                               reason=reason, now=at)

                plan.add(at, run)

    def notes(self) -> None:
        plans = list(self.plans.values())
        for plan in self.rng.sample(plans, min(1400, len(plans) * 4 // 7)):
            at = self.at(self.first_day + timedelta(days=self.rng.randint(1, SEASON_DAYS)))
            if not self.past(at):
                continue
            body = self.rng.choice(NOTES)

            def run(_at, plan=plan, at=at, body=body):
                record = self.bulk.note if plan.bulk else entries.record_note
                plan.last_entry = record(plan.student, plan.counsellor, body=body, now=at)

            plan.add(at, run, simple=True)

    def corrections(self, plans: list[StudentPlan]) -> None:
        """A few entries corrected by their counsellor soon after."""
        for plan in plans:
            candidates = [e for e in plan.events if e.at < self.now - timedelta(hours=3)]
            if not candidates:
                continue
            after = self.rng.choice(candidates)
            at = after.at + timedelta(minutes=self.rng.randint(20, 150))
            body = self.rng.choice(CORRECTIONS)

            def run(_at, plan=plan, at=at, body=body):
                if plan.bulk:
                    self.bulk.correction(plan.last_entry, plan.counsellor, body=body, now=at)
                elif plan.last_entry is not None and plan.last_entry.kind in (
                    entries.CORRECTABLE_KINDS
                ) and entries.correction_of(plan.last_entry) is None:
                    entries.record_correction(plan.last_entry, plan.counsellor, body=body, now=at)

            # Just after the chosen event, so the entry it corrects is the one just recorded.
            plan.events.append(Event(after.at, after.seq + 0.5, run, simple=True))

    def run(self) -> None:
        self.first_contact()
        self.daily_chase()
        self.categories_rhythm()
        self.new_categories()
        self.deliveries()
        self.referrals()
        self.concern_moves()
        self.notes()
        busy = [p for p in self.plans.values() if len(p.events) > 8]
        self.corrections(self.rng.sample(busy, min(30, len(busy))))
        # A season of follow-ups, deliveries, notes and corrections only is written in bulk;
        # the others (categories, concern levels, referrals) through the services, first.
        for plan in self.plans.values():
            plan.bulk = all(e.simple for e in plan.events)
        for n, plan in enumerate(p for p in self.plans.values() if not p.bulk):
            for event in sorted(plan.events):
                event.run(event.at)
            if n % 200 == 199:
                db.session.flush()
        db.session.flush()
        self.bulk = Bulk([p.student.id for p in self.plans.values() if p.bulk])
        for plan in self.plans.values():
            if plan.bulk:
                for event in sorted(plan.events):
                    event.run(event.at)
        self.bulk.write()


class Bulk:
    """The follow-ups, deliveries, notes and corrections of students whose season holds
    nothing else, kept as rows and written in a few statements, with their ids given here:
    the rows :mod:`caretrack.services.entries` writes - the entry, its audit event and, for
    a follow-up, the re-checks it completes and schedules and the timeline entry saying so
    (the rules of :func:`caretrack.services.rechecks.on_follow_up`)."""

    def __init__(self, student_ids: list[int]):
        self.last = {m: db.session.scalar(select(func.max(m.id))) or 0
                     for m in (TimelineEntry, Recheck, AuditEvent)}
        self.entries: list[dict] = []
        self.new_rechecks: list[dict] = []
        self.events: list[dict] = []
        #: The students' open re-checks, as rows (``existing`` ones are in the database).
        self.open: dict[int, list[dict]] = defaultdict(list)
        wanted = set(student_ids)
        for row in db.session.execute(
            select(Recheck.id, Recheck.student_id, Recheck.due_on, Recheck.origin)
            .where(Recheck.state == RecheckState.OPEN).order_by(Recheck.id)
        ):
            if row.student_id in wanted:
                self.open[row.student_id].append(
                    {"id": row.id, "due_on": row.due_on, "origin": row.origin, "existing": True})
        self.closed: list[dict] = []
        self.corrected: set[int] = set()

    def _id(self, model) -> int:
        self.last[model] += 1
        return self.last[model]

    def _entry(self, student, kind: str, by, *, occurred_at, now, body: str = "",
               details: dict | None = None, corrects_id: int | None = None) -> dict:
        row = {"id": self._id(TimelineEntry), "student_id": student.id, "kind": kind,
               "author_id": by.id, "body": body, "details": details or {},
               "occurred_at": occurred_at, "created_at": now, "referral_id": None,
               "corrects_id": corrects_id, "submission_key": None, "covering_for_id": None}
        self.entries.append(row)
        return row

    def _audit(self, action: str, by, entry: dict, now) -> None:
        self.events.append({"id": self._id(AuditEvent), "occurred_at": now, "user_id": by.id,
                            "action": action, "student_id": entry["student_id"], "ip": "",
                            "detail": f"entry:{entry['id']}"})

    def follow_up(self, student, by, *, channel, reached, health, body, occurred_at,
                  check_again_in_days, now) -> dict:
        entry = self._entry(student, EntryKind.FOLLOW_UP, by, body=body,
                            occurred_at=occurred_at, now=now, details={
                                "channel": str(entries.Channel(channel)),
                                "reached": bool(reached),
                                "health": str(entries.HealthObserved(health)),
                                "check_again_in_days": check_again_in_days})
        days = check_again_in_days or 0
        day = local_today(occurred_at)
        mine = self.open[student.id]
        completed = []
        for recheck in sorted(mine, key=lambda r: (r["due_on"], r["id"])):
            replaced = days and recheck["origin"] in rechecks.RHYTHM_ORIGINS and (
                recheck["due_on"] > day)
            if recheck["due_on"] <= day or replaced:
                completed.append(recheck)
                done = {"state": RecheckState.DONE.value, "completed_entry_id": entry["id"],
                        "closed_at": now}
                if recheck["existing"]:
                    self.closed.append({"id": recheck["id"], **done})
                else:
                    recheck["row"].update(done)
        done_ids = {r["id"] for r in completed}
        mine[:] = [r for r in mine if r["id"] not in done_ids]
        following = None
        if days:
            following = {
                "id": self._id(Recheck), "student_id": student.id,
                "owner_id": student.counsellor_id, "due_on": day + timedelta(days=days),
                "reason": "", "origin": RecheckOrigin.FOLLOW_UP.value,
                "state": RecheckState.OPEN.value, "category_id": None,
                "completed_entry_id": None, "cancel_reason": None, "previous_due_on": None,
                "created_by_id": by.id, "created_at": now, "closed_at": None}
            self.new_rechecks.append(following)
            mine.append({"id": following["id"], "due_on": following["due_on"],
                         "origin": following["origin"], "existing": False, "row": following})
            if not completed:
                self._entry(student, EntryKind.RECHECK_CHANGE, by, occurred_at=now, now=now,
                            details={"action": "scheduled", "recheck_id": following["id"],
                                     "due_on": following["due_on"].isoformat(),
                                     "origin": RecheckOrigin.FOLLOW_UP.value,
                                     "category_id": None})
        if completed:
            self._entry(student, EntryKind.RECHECK_CHANGE, by, occurred_at=occurred_at, now=now,
                        details={
                            "action": "completed", "entry_id": entry["id"],
                            "recheck_ids": [r["id"] for r in completed],
                            "due_on": [r["due_on"].isoformat() for r in completed],
                            "next_recheck_id": following["id"] if following else None,
                            "next_due_on": following["due_on"].isoformat() if following
                            else None})
        self._audit("follow_up.create", by, entry, now)
        return entry

    def delivery(self, student, by, *, items, place, place_detail, received, delivered_by,
                 body, occurred_at, now) -> dict:
        entry = self._entry(student, EntryKind.DELIVERY, by, body=body, occurred_at=occurred_at,
                            now=now, details={
                                "items": [entries.delivery_line(*item) for item in items],
                                "place": str(entries.DeliveryPlace(place)),
                                "place_detail": place_detail.strip(),
                                "received": bool(received),
                                "delivered_by": delivered_by.strip()})
        self._audit("delivery.create", by, entry, now)
        return entry

    def note(self, student, by, *, body, now) -> dict:
        entry = self._entry(student, EntryKind.NOTE, by, body=body, occurred_at=now, now=now)
        self._audit("note.create", by, entry, now)
        return entry

    def correction(self, entry: dict | None, by, *, body, now) -> None:
        if entry is None or entry["kind"] not in entries.CORRECTABLE_KINDS or (
                entry["id"] in self.corrected):
            return
        self.corrected.add(entry["id"])
        student = SimpleNamespace(id=entry["student_id"])
        correction = self._entry(student, EntryKind.CORRECTION, by, body=body, occurred_at=now,
                                 now=now, corrects_id=entry["id"], details={
                                     "corrects_kind": entry["kind"],
                                     "corrects_occurred_at": entry["occurred_at"].isoformat()})
        self._audit("correction.create", by, correction, now)

    def write(self) -> None:
        """Insert the rows, then close the re-checks that were open in the database."""
        for model, rows in ((TimelineEntry, self.entries), (Recheck, self.new_rechecks),
                            (AuditEvent, self.events)):
            for start in range(0, len(rows), ROWS_PER_STATEMENT):
                db.session.execute(insert(model.__table__), rows[start:start + ROWS_PER_STATEMENT])
        if self.closed:
            db.session.execute(update(Recheck), self.closed)
        if db.session.get_bind().dialect.name == "postgresql":
            for model in (TimelineEntry, Recheck, AuditEvent):
                # The ids were given here: the table's sequence goes on after the last one.
                db.session.execute(select(func.setval(
                    func.pg_get_serial_sequence(model.__tablename__, "id"),
                    select(func.max(model.id)).scalar_subquery())))
        # The session's re-checks may have been closed here: read them again when used.
        for instance in list(db.session.identity_map.values()):
            if isinstance(instance, Recheck):
                db.session.expire(instance)


def seed(ctx) -> None:
    """Record each college's season of history that ends at ``ctx.now``, through the
    services."""
    for college in ctx.colleges:
        History(ctx, college).run()
