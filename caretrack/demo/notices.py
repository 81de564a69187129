"""The notices and early-return requests of the season: the deputy's two notices to the
college (the postponed term, everyone acknowledged; the pledge not to return early, with
stragglers), and requests to return early in each state but "arrived" – in the account no
student came back early. Runs last: it reads the categories the college holds."""

from datetime import timedelta

from sqlalchemy import select, update

from caretrack.extensions import db
from caretrack.models import CategoryAssignment, NoticeRecipient, Programme
from caretrack.services import notices, return_requests
from caretrack.services.clock import local_today
from caretrack.services.notices import NoticeDraft
from caretrack.services.return_requests import ReturnAsk

TERM = NoticeDraft(
    title="关于推迟春季学期开学的通知", audience="college",
    body="根据学校疫情防控工作安排，春季学期推迟开学，具体时间另行通知。\n"
         "未经学校批准，所有学生一律不得提前返校。\n详见学校通知：https://www.example.edu.cn/notice",
)
PLEDGE = NoticeDraft(
    title="不提前返校承诺书", audience="college",
    body="为做好疫情防控，请每位同学阅读并签署承诺书。如确有考试、实习、就业等需要提前返校，"
         "请在打卡页面提交申请，由辅导员与你沟通。",
    pledge="我承诺：在学校通知返校前不提前返校，如实每日打卡。",
)
#: (state, reason, where from, details) of the season's requests.
REQUESTS = [
    ("pending", "internship", "河南 郑州", "实习单位要求3月2日到岗"),
    ("pending", "exam", "山东 济南", "准备考研复试，家里没有安静的地方"),
    ("recommended", "job", "广东 深圳", "签约单位要求入职前体检"),
    ("recommended", "research", "江苏 南京", "实验数据在学校服务器上"),
    ("approved", "exam", "北京 北京", "参加注册会计师考试"),
    ("declined", "family", "浙江 杭州", "家里装修，想回学校住"),
    ("declined", "internship", "上海 上海", "实习可以线上进行吗？想先回学校"),
    ("withdrawn", "other", "安徽 合肥", "想回学校取书"),
]


def seed(ctx) -> None:
    """Publish each college's two notices and file the account's college's requests through
    the services."""
    for college in ctx.colleges:
        _notices(ctx, college.deputy)
    _requests(ctx)
    db.session.flush()


def _notices(ctx, deputy) -> None:
    rng = ctx.rng
    term = notices.publish(deputy, _draft(TERM, ctx.now + timedelta(days=-5)),
                           now=ctx.now - timedelta(days=6))
    db.session.execute(update(NoticeRecipient).where(NoticeRecipient.notice_id == term.id)
                       .values(acknowledged_at=ctx.now - timedelta(days=5, hours=20)))
    pledge = notices.publish(deputy, _draft(PLEDGE, ctx.now + timedelta(days=1)),
                             now=ctx.now - timedelta(days=1))
    ids = list(db.session.scalars(select(NoticeRecipient.id).where(
        NoticeRecipient.notice_id == pledge.id).order_by(NoticeRecipient.id)))
    stragglers = set(rng.sample(ids, len(ids) // 14))
    db.session.execute(update(NoticeRecipient).where(
        NoticeRecipient.id.in_([i for i in ids if i not in stragglers]))
        .values(acknowledged_at=ctx.now - timedelta(hours=12), pledged=True))


def _draft(draft: NoticeDraft, deadline):
    return NoticeDraft(title=draft.title, body=draft.body, audience=draft.audience,
                       pledge=draft.pledge, deadline=deadline)


def _requests(ctx) -> None:
    """Students who want to return early (the category the college gave them) ask today."""
    category = ctx.college.categories["return_early"]
    wanting = [s for s in ctx.college.students if s.programme == Programme.UNDERGRADUATE]
    holding = set(db.session.scalars(select(CategoryAssignment.student_id).where(
        CategoryAssignment.category_id == category.id, CategoryAssignment.ended_on.is_(None))))
    by_counsellor: dict[int, list] = {}
    for student in wanting:
        if student.id in holding:
            by_counsellor.setdefault(student.counsellor_id, []).append(student)
    # round the counsellors: each has a share of the requests
    queues = list(by_counsellor.values())
    students = [queues[i % len(queues)][i // len(queues)] for i in range(len(REQUESTS))]
    asked = ctx.now - timedelta(hours=3)
    today = local_today(asked)
    for student, (state, reason, place, details) in zip(students, REQUESTS, strict=False):
        request = return_requests.ask(student, ReturnAsk(
            reason=reason, wanted_on=today + timedelta(days=ctx.rng.randint(3, 14)),
            travel_from=place, details=details), now=asked)
        later = asked + timedelta(hours=1)
        if state == "withdrawn":
            return_requests.withdraw(request, now=later)
            continue
        if state == "pending":
            continue
        approve = state == "approved" or (state == "recommended" and reason == "job")
        note = "确有必要，建议同意" if approve else "劝导暂缓返校，学生表示理解"
        return_requests.recommend(request, student.counsellor, approve=approve, now=later,
                                  note="已电话沟通两次，" + note)
        decided = later + timedelta(hours=1)
        if state == "approved":
            return_requests.approve(request, ctx.college.deputy, arrival_on=request.wanted_on,
                                    plan="到校后在会议中心隔离观察14天，每日测温两次",
                                    isolation_days=14, now=decided)
        elif state == "declined":
            return_requests.decline(
                request, ctx.college.deputy, now=decided,
                reason="疫情期间暂不批准提前返校，请在家线上完成，辅导员会持续联系你。")
