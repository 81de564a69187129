"""The demo college of the account: 2,458 students, five counsellors, reproducibly."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import (
    WITHOUT_MERGE,
    CareCategory,
    College,
    Programme,
    Role,
    Student,
    User,
)
from caretrack.services.cases import assign_category, change_concern_level
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


@dataclass
class DemoCollege:
    """The people and categories of the demo college, for the history stages."""

    admin: User
    deputy: User
    counsellors: list[User]
    supervisors: list[User]
    categories: dict[str, CareCategory]
    students: list[Student]


def build_college(ctx) -> DemoSummary:
    """Add the college's accounts, categories, students, their categories and concern levels.

    :raise DemoRefused: if the database already has students or users.
    """
    if db.session.scalar(select(func.count(User.id))) or db.session.scalar(
        select(func.count(Student.id))
    ):
        raise DemoRefused("the database is not empty")
    rng = ctx.rng
    today = ctx.today

    # No merge stage yet: the deputy approves the counsellors' reports, the secretary the
    # college's report.
    college = College(code=DEMO_COLLEGE_CODE, name_zh="经管学院",
                      name_en="School of Economics and Management", stages=WITHOUT_MERGE)
    db.session.add(college)
    db.session.flush()
    create_user("university", "校级管理员", Role.UNIVERSITY_ADMIN, DEMO_PASSWORD,
                "university@example.edu.cn")
    admin = create_user("admin", "系统管理员", Role.ADMIN, DEMO_PASSWORD, "admin@example.edu.cn",
                        college=college)
    deputy = create_user("deputy", "王副书记", Role.DEPUTY_SECRETARY, DEMO_PASSWORD,
                         "deputy@example.edu.cn", college=college)
    create_user("secretary", "赵书记", Role.SECRETARY, DEMO_PASSWORD,
                "secretary@example.edu.cn", college=college)
    counsellors = [
        create_user(f"counsellor{i}", name, Role.COUNSELLOR, DEMO_PASSWORD,
                    f"counsellor{i}@example.edu.cn", college=college)
        for i, name in enumerate(["李老师", "张老师", "刘老师", "陈老师", "赵老师"], start=1)
    ]
    supervisors = [
        create_user(f"supervisor{i}", _name(rng) + "教授", Role.SUPERVISOR, DEMO_PASSWORD,
                    f"supervisor{i}@example.edu.cn", college=college)
        for i in range(1, 25)
    ]
    categories = {c.code: c for c in seed_categories()}
    seed_default_rules()

    # Units of (programme, cohort), each kept whole under one counsellor, balanced by size.
    units: list[tuple[str, int, int]] = []
    for programme, cohorts, size in PROGRAMME_SIZES:
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
                major = MAJORS[(serial - 1) // class_size % len(MAJORS)]
                class_no = (serial - 1) // class_size % 2 + 1
                class_name = f"{cohort}级{major}{class_no}班"
            else:
                class_no = (serial - 1) // class_size + 1
                class_name = f"{cohort}级{PROGRAMME_CLASS[programme]}{class_no}班"
            code = list(Programme).index(programme) + 1
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
    # Six students stayed on campus.
    for student in rng.sample([s for s in students if s.programme != Programme.MBA_PART_TIME], 6):
        student.on_campus = True
        student.province, student.city = "北京", "北京"
    for student in students:
        for name, code in place_codes(student.province, student.city).items():
            setattr(student, name, code)
    db.session.add_all(students)
    db.session.flush()

    counsellor_by_id = {c.id: c for c in counsellors}
    start = today - timedelta(days=42)

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
    contacts = rng.sample(others, 38)
    for student in contacts:
        tag(student, "hubei_contact", "家人接触过从武汉返回的亲戚", rng.randint(3, 30))
    for student in rng.sample([s for s in others if s.programme == Programme.UNDERGRADUATE], 96):
        tag(student, "return_early", "希望提前返校准备考试或实习", rng.randint(1, 35))
    graduates = [s for s in others if s.programme in (Programme.MASTER, Programme.PHD)]
    for student in rng.sample(graduates, 142):
        tag(student, "thesis_pressure", "毕业论文进度受疫情影响，情绪焦虑", rng.randint(1, 35))
    for student in rng.sample(others, 47):
        tag(student, "other_attention", "家庭经济困难，需要持续关心", rng.randint(1, 35))

    at = datetime.combine(today - timedelta(days=20), datetime.min.time(), tzinfo=UTC)
    for student in rng.sample(hubei + contacts, 24):
        change_concern_level(student, "high", counsellor_by_id[student.counsellor_id],
                             reason="本人或家人出现发热症状，需密切关注", now=at)
    for student in rng.sample(others, 118):
        if student.concern_level == "normal":
            change_concern_level(student, "elevated", counsellor_by_id[student.counsellor_id],
                                 reason="情绪波动较大，需持续关注", now=at)
    db.session.flush()
    ctx.college = DemoCollege(
        admin=admin, deputy=deputy, counsellors=counsellors, supervisors=supervisors,
        categories=categories, students=students,
    )
    return DemoSummary(students=len(students), counsellors=len(counsellors),
                       supervisors=len(supervisors))


DEMO_ACCOUNTS = [
    ("counsellor1 … counsellor5", "Counsellors (about 490 students each)"),
    ("supervisor1 … supervisor24", "Supervisors of the graduate students"),
    ("deputy", "Deputy secretary"),
    ("secretary", "Secretary (approves the college's report and sends it on)"),
    ("admin", "Administrator of 经管学院"),
    ("university", "University administrator (the colleges and their admins)"),
]
