"""The demo's colleges, reproducibly: the account's (经管学院: 2,458 students, five
counsellors, the four-stage sign-off) and two smaller ones, one without the merge stage."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import (
    DEFAULT_STAGES,
    WITHOUT_MERGE,
    CareCategory,
    College,
    Programme,
    Role,
    Stage,
    Student,
    User,
)
from caretrack.services.cases import assign_category, change_concern_level
from caretrack.services.passwords import hash_password
from caretrack.services.places import place_codes
from caretrack.services.status_rules import seed_default_rules
from caretrack.services.users import create_user

DEMO_PASSWORD = "caretrack-demo"  # noqa: S105 - published demo password, refused in production
SEED = 20200303
#: The code of the account's college (经管学院).
DEMO_COLLEGE_CODE = "sem"
#: The seeded history ends on the day the seed is run, so that "today" always has work in it.
TOTAL_STUDENTS = 2458

DEFAULT_CATEGORIES = [
    # code, zh, en, colour, cadence, isolation window
    ("hubei", "在湖北或经停湖北", "In Hubei or passed through", "#dc3545", 2, None),
    ("hubei_contact", "接触过湖北人员", "Contact with people from Hubei", "#fd7e14", 2, 14),
    ("isolated_on_campus", "在校或会议中心隔离", "Isolated on campus", "#6f42c1", 1, None),
    ("return_early", "希望提前返校", "Wants to return early", "#0d6efd", 3, None),
    ("thesis_pressure", "论文或科研压力", "Thesis or research pressure", "#198754", 7, None),
    ("other_attention", "其他需关注", "Other attention", "#6c757d", 7, None),
]

#: (programme, cohorts, students) — 552 MBA students, 2,458 in all.
PROGRAMME_SIZES = [
    (Programme.UNDERGRADUATE, (2016, 2017, 2018, 2019), 1180),
    (Programme.MASTER, (2017, 2018, 2019), 540),
    (Programme.PHD, (2014, 2015, 2016, 2017, 2018, 2019), 186),
    (Programme.MBA_FULL_TIME, (2018, 2019), 112),
    (Programme.MBA_PART_TIME, (2017, 2018, 2019), 440),
]
MAJORS = ["会计学", "金融学", "工商管理", "经济学", "信息管理与信息系统", "市场营销"]
PROGRAMME_CLASS = {
    Programme.MASTER: "硕士",
    Programme.PHD: "博士",
    Programme.MBA_FULL_TIME: "全日制MBA",
    Programme.MBA_PART_TIME: "非全日制MBA",
}
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉萍红娥玲芬燕彬鹏辉晨宇轩浩然"
    "梓涵欣怡子豪思远佳琪雨萱博文嘉怡一鸣婉清泽宇若曦俊杰诗涵天佑梦瑶"
)
PROVINCES = [
    # province, cities, weight
    ("北京", ["北京"], 28),
    ("河北", ["石家庄", "保定", "唐山"], 9),
    ("山东", ["济南", "青岛", "烟台"], 9),
    ("河南", ["郑州", "洛阳", "信阳"], 8),
    ("湖北", ["武汉", "黄冈", "孝感", "襄阳"], 3),
    ("江苏", ["南京", "苏州", "徐州"], 6),
    ("浙江", ["杭州", "宁波", "温州"], 5),
    ("广东", ["广州", "深圳", "佛山"], 5),
    ("四川", ["成都", "绵阳"], 5),
    ("湖南", ["长沙", "岳阳"], 5),
    ("安徽", ["合肥", "阜阳"], 5),
    ("山西", ["太原", "大同"], 4),
    ("辽宁", ["沈阳", "大连"], 4),
    ("黑龙江", ["哈尔滨"], 3),
    ("内蒙古", ["呼和浩特", "包头"], 3),
    ("新疆", ["乌鲁木齐"], 2),
]


@dataclass
class DemoSummary:
    students: int
    counsellors: int
    supervisors: int
    colleges: int = 1


class DemoRefused(RuntimeError):
    pass


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _phone(rng: random.Random) -> str:
    return rng.choice(["13", "15", "17", "18", "19"]) + "".join(rng.choices("0123456789", k=9))


def _location(rng: random.Random) -> tuple[str, str]:
    province, cities, _ = rng.choices(PROVINCES, weights=[p[2] for p in PROVINCES])[0]
    return province, rng.choice(cities)


def seed_categories() -> list[CareCategory]:
    categories = []
    for order, (code, zh, en, colour, cadence, window) in enumerate(DEFAULT_CATEGORIES):
        category = CareCategory(
            code=code, name_zh=zh, name_en=en, colour=colour, cadence_days=cadence,
            isolation_days=window, active=True, sort_order=order,
        )
        db.session.add(category)
        categories.append(category)
    db.session.flush()
    return categories


@dataclass(frozen=True)
class CollegeSpec:
    """One demo college: its names, its chain, its people and its programmes."""

    code: str
    name_zh: str
    name_en: str
    stages: list
    #: Prefix of the college's account names ("" for the account's college).
    prefix: str
    #: (programme, cohorts, students)
    programmes: list
    majors: list
    #: The graduate classes' word ("硕士" in 经管学院), so no two colleges share a class name.
    graduate_classes: dict
    #: The first two digits of the programme code in the student numbers.
    number_base: int
    counsellors: list
    supervisors: int
    #: (deputy, secretary, league secretary or None, admin): display names.
    leaders: tuple
    #: Students who stayed on campus.
    on_campus: int


COLLEGES = [
    CollegeSpec(
        code=DEMO_COLLEGE_CODE, name_zh="经管学院", name_en="School of Economics and Management",
        stages=DEFAULT_STAGES, prefix="", programmes=PROGRAMME_SIZES, majors=MAJORS,
        graduate_classes=PROGRAMME_CLASS, number_base=0,
        counsellors=["李老师", "张老师", "刘老师", "陈老师", "赵老师"], supervisors=24,
        leaders=("王副书记", "赵书记", "周老师", "系统管理员"), on_campus=6,
    ),
    CollegeSpec(
        code="law", name_zh="法学院", name_en="Law School", stages=DEFAULT_STAGES,
        prefix="law_",
        programmes=[(Programme.UNDERGRADUATE, (2016, 2017, 2018, 2019), 248),
                    (Programme.MASTER, (2018, 2019), 96)],
        majors=["法学", "知识产权"], graduate_classes={Programme.MASTER: "法学硕士"},
        number_base=10, counsellors=["孙老师", "吴老师"], supervisors=6,
        leaders=("钱副书记", "郑书记", "冯老师", "法学院管理员"), on_campus=2,
    ),
    CollegeSpec(
        # No merge stage: the deputy approves the counsellors' reports, as before colleges.
        code="sfl", name_zh="外国语学院", name_en="School of Foreign Languages",
        stages=WITHOUT_MERGE, prefix="sfl_",
        programmes=[(Programme.UNDERGRADUATE, (2016, 2017, 2018, 2019), 232),
                    (Programme.MASTER, (2018, 2019), 44)],
        majors=["英语", "日语", "德语"], graduate_classes={Programme.MASTER: "外语硕士"},
        number_base=20, counsellors=["何老师", "罗老师"], supervisors=3,
        leaders=("韩副书记", "唐书记", None, "外国语学院管理员"), on_campus=1,
    ),
]


@dataclass
class DemoCollege:
    """The people and categories of one demo college, for the history stages."""

    college: College
    admin: User
    deputy: User
    secretary: User
    league: User | None
    counsellors: list[User]
    supervisors: list[User]
    categories: dict[str, CareCategory]
    students: list[Student]
    #: Position among the demo's colleges (0: the account's), for each one's own random seeds.
    index: int = 0

    @property
    def reviewer(self) -> User:
        """Who approves or returns the counsellors' reports: the league secretary, where the
        college has the merge stage, else the deputy."""
        return self.league if self.league is not None and any(
            s["stage"] == Stage.MERGE for s in self.college.stages) else self.deputy


def _empty_or_refuse() -> None:
    if db.session.scalar(select(func.count(User.id))) or db.session.scalar(
        select(func.count(Student.id))
    ):
        raise DemoRefused("the database is not empty")


def build_college(ctx) -> DemoSummary:
    """Add the account's college alone (its accounts, categories, students, their categories
    and concern levels): ``ctx.college``.

    :raise DemoRefused: if the database already has students or users.
    """
    _empty_or_refuse()
    password = hash_password(DEMO_PASSWORD)
    _university_accounts(password)
    categories = {c.code: c for c in seed_categories()}
    seed_default_rules()
    ctx.colleges = [_build(ctx, COLLEGES[0], categories, password, 0)]
    ctx.college = ctx.colleges[0]
    return _summary(ctx.colleges)


def build_colleges(ctx) -> DemoSummary:
    """Add the demo's three colleges: ``ctx.colleges``, the account's first (``ctx.college``).

    :raise DemoRefused: if the database already has students or users.
    """
    _empty_or_refuse()
    # One hash of the published password for every demo account (a hash takes half a second).
    password = hash_password(DEMO_PASSWORD)
    _university_accounts(password)
    categories = {c.code: c for c in seed_categories()}
    seed_default_rules()
    ctx.colleges = [_build(ctx, spec, categories, password, i)
                    for i, spec in enumerate(COLLEGES)]
    ctx.college = ctx.colleges[0]
    return _summary(ctx.colleges)


def _summary(colleges: list[DemoCollege]) -> DemoSummary:
    return DemoSummary(students=sum(len(c.students) for c in colleges),
                       counsellors=sum(len(c.counsellors) for c in colleges),
                       supervisors=sum(len(c.supervisors) for c in colleges),
                       colleges=len(colleges))


def _university_accounts(password: str) -> None:
    create_user("university", "校级管理员", Role.UNIVERSITY_ADMIN, "", "university@example.edu.cn",
                password_hash=password)
    create_user("office", "防控办 吴主任", Role.UNIVERSITY_OFFICE, "", "office@example.edu.cn",
                password_hash=password)


def _build(ctx, spec: CollegeSpec, categories: dict[str, CareCategory], password: str,
           index: int) -> DemoCollege:
    rng = ctx.rng
    today = ctx.today
    college = College(code=spec.code, name_zh=spec.name_zh, name_en=spec.name_en,
                      stages=[dict(s) for s in spec.stages])
    db.session.add(college)
    db.session.flush()
    p = spec.prefix

    def account(username, name, role):
        return create_user(f"{p}{username}", name, role, "", f"{p}{username}@example.edu.cn",
                           college=college, password_hash=password)

    deputy_name, secretary_name, league_name, admin_name = spec.leaders
    admin = account("admin", admin_name, Role.ADMIN)
    deputy = account("deputy", deputy_name, Role.DEPUTY_SECRETARY)
    secretary = account("secretary", secretary_name, Role.SECRETARY)
    league = account("league", league_name, Role.LEAGUE_SECRETARY) if league_name else None
    counsellors = [account(f"counsellor{i}", name, Role.COUNSELLOR)
                   for i, name in enumerate(spec.counsellors, start=1)]
    supervisors = [account(f"supervisor{i}", _name(rng) + "教授", Role.SUPERVISOR)
                   for i in range(1, spec.supervisors + 1)]

    # Units of (programme, cohort), each kept whole under one counsellor, balanced by size.
    units: list[tuple[str, int, int]] = []
    for programme, cohorts, size in spec.programmes:
        per = [size // len(cohorts)] * len(cohorts)
        for i in range(size - sum(per)):
            per[i] += 1
        units += [(programme, cohort, n) for cohort, n in zip(cohorts, per, strict=True)]
    loads = {c.id: 0 for c in counsellors}
    unit_counsellor = {}
    for programme, cohort, n in sorted(units, key=lambda u: -u[2]):
        counsellor = min(counsellors, key=lambda c: (loads[c.id], c.id))
        unit_counsellor[(programme, cohort)] = counsellor
        loads[counsellor.id] += n

    students: list[Student] = []
    for programme, cohort, n in units:
        class_size = 30 if programme == Programme.UNDERGRADUATE else 45
        for serial in range(1, n + 1):
            if programme == Programme.UNDERGRADUATE:
                major = spec.majors[(serial - 1) // class_size % len(spec.majors)]
                class_no = (serial - 1) // class_size % 2 + 1
                class_name = f"{cohort}级{major}{class_no}班"
            else:
                class_no = (serial - 1) // class_size + 1
                class_name = f"{cohort}级{spec.graduate_classes[programme]}{class_no}班"
            code = spec.number_base + list(Programme).index(programme) + 1
            number = f"{cohort}{code:02d}{serial:04d}"
            if programme == Programme.MBA_PART_TIME:
                number = f"0{cohort % 100:02d}{code}{serial:04d}"  # leading zero, as issued
            province, city = _location(rng)
            supervisor = None
            if programme in (Programme.MASTER, Programme.PHD, Programme.MBA_FULL_TIME):
                supervisor = rng.choice(supervisors)
            employed = programme == Programme.MBA_PART_TIME and rng.random() < 0.9
            employed = employed or (programme == Programme.PHD and rng.random() < 0.15)
            students.append(
                Student(
                    student_number=number, name=_name(rng), gender=rng.choice("MF"),
                    college_id=college.id, programme=programme, cohort=cohort,
                    class_name=class_name,
                    counsellor_id=unit_counsellor[(programme, cohort)].id,
                    supervisor_id=supervisor.id if supervisor else None, phone=_phone(rng),
                    province=province, city=city, on_campus=False, employed=employed,
                )
            )
    # A few students stayed on campus.
    for student in rng.sample([s for s in students if s.programme != Programme.MBA_PART_TIME],
                              spec.on_campus):
        student.on_campus = True
        student.province, student.city = "北京", "北京"
    for student in students:
        for name, code in place_codes(student.province, student.city).items():
            setattr(student, name, code)
    db.session.add_all(students)
    db.session.flush()

    counsellor_by_id = {c.id: c for c in counsellors}
    start = today - timedelta(days=42)
    share = len(students) / TOTAL_STUDENTS

    def scaled(n: int) -> int:
        return max(2, round(n * share))

    def tag(student, code, reason, days_ago):
        started = max(start, today - timedelta(days=days_ago))
        at = datetime.combine(started, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
        assign_category(student, categories[code], counsellor_by_id[student.counsellor_id],
                        started_on=started, reason=reason, now=at)

    for student in students:
        if student.on_campus:
            tag(student, "isolated_on_campus", "留校学生，在会议中心隔离观察", 40)
    hubei = [s for s in students if s.province == "湖北"]
    for student in hubei:
        tag(student, "hubei", "寒假回湖北家中", 40)
    others = [s for s in students if s.province != "湖北" and not s.on_campus]
    contacts = rng.sample(others, scaled(38))
    for student in contacts:
        tag(student, "hubei_contact", "家人接触过从武汉返回的亲戚", rng.randint(3, 30))
    for student in rng.sample([s for s in others if s.programme == Programme.UNDERGRADUATE],
                              scaled(96)):
        tag(student, "return_early", "希望提前返校准备考试或实习", rng.randint(1, 35))
    graduates = [s for s in others if s.programme in (Programme.MASTER, Programme.PHD)]
    for student in rng.sample(graduates, scaled(142)):
        tag(student, "thesis_pressure", "毕业论文进度受疫情影响，情绪焦虑", rng.randint(1, 35))
    for student in rng.sample(others, scaled(47)):
        tag(student, "other_attention", "家庭经济困难，需要持续关心", rng.randint(1, 35))

    at = datetime.combine(today - timedelta(days=20), datetime.min.time(), tzinfo=UTC)
    for student in rng.sample(hubei + contacts, min(len(hubei + contacts), scaled(24))):
        change_concern_level(student, "high", counsellor_by_id[student.counsellor_id],
                             reason="本人或家人出现发热症状，需密切关注", now=at)
    for student in rng.sample(others, scaled(118)):
        if student.concern_level == "normal":
            change_concern_level(student, "elevated", counsellor_by_id[student.counsellor_id],
                                 reason="情绪波动较大，需持续关注", now=at)
    db.session.flush()
    return DemoCollege(
        college=college, admin=admin, deputy=deputy, secretary=secretary, league=league,
        counsellors=counsellors, supervisors=supervisors, categories=categories,
        students=students, index=index,
    )


DEMO_ACCOUNTS = [
    ("counsellor1 … counsellor5", "经管学院: counsellors (about 490 students each)"),
    ("supervisor1 … supervisor24", "经管学院: supervisors of the graduate students"),
    ("league", "经管学院: league secretary (团委书记; approves the counsellors' reports, merges "
               "them, 11:30)"),
    ("deputy", "经管学院: deputy secretary (checks the merged report, 12:00)"),
    ("secretary", "经管学院: secretary (approves and sends it to the office, 13:00)"),
    ("admin", "经管学院: administrator"),
    ("law_counsellor1, law_counsellor2", "法学院: counsellors (also law_supervisor1 … 6)"),
    ("law_league, law_deputy, law_secretary", "法学院: the same four-stage chain"),
    ("law_admin", "法学院: administrator"),
    ("sfl_counsellor1, sfl_counsellor2", "外国语学院: counsellors (also sfl_supervisor1 … 3)"),
    ("sfl_deputy, sfl_secretary", "外国语学院: no merge stage, the deputy approves the reports"),
    ("sfl_admin", "外国语学院: administrator"),
    ("office", "University prevention office (学校防控办): every college's sign-off"),
    ("university", "University administrator (the colleges and their admins)"),
]
