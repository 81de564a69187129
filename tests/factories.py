"""factory_boy factories for the domain's models."""

import itertools
from datetime import date

import factory
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from caretrack.extensions import db
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    College,
    Referral,
    Role,
    Student,
    User,
)

PASSWORD = "correct horse battery"
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")

_numbers = itertools.count(1)


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


def home_college() -> College:
    """The college a test's people belong to unless told otherwise (made on first use)."""
    from sqlalchemy import select

    college = db.session.scalar(select(College).where(College.code == "home"))
    if college is None:
        from caretrack.models import WITHOUT_MERGE

        # The deputy approves the counsellors' reports directly, as before colleges.
        college = College(code="home", name_zh="经管学院", name_en="School of Economics",
                          stages=WITHOUT_MERGE)
        db.session.add(college)
        db.session.flush()
    return college


class CollegeFactory(BaseFactory):
    class Meta:
        model = College

    code = factory.Sequence(lambda n: f"c{n}")
    name_zh = factory.Sequence(lambda n: f"第{n}学院")
    name_en = factory.Sequence(lambda n: f"College {n}")


class UserFactory(BaseFactory):
    class Meta:
        model = User

    college = factory.LazyFunction(home_college)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.COUNSELLOR
    active = True
    locale = "zh_CN"
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.edu.cn")

    password_hash = _PASSWORD_HASH


class CounsellorFactory(UserFactory):
    role = Role.COUNSELLOR
    username = factory.Sequence(lambda n: f"counsellor-{n}")


class SupervisorFactory(UserFactory):
    role = Role.SUPERVISOR
    username = factory.Sequence(lambda n: f"supervisor-{n}")


class DeputyFactory(UserFactory):
    role = Role.DEPUTY_SECRETARY
    username = factory.Sequence(lambda n: f"deputy-{n}")


class AdminFactory(UserFactory):
    role = Role.ADMIN
    username = factory.Sequence(lambda n: f"admin-{n}")


class StudentFactory(BaseFactory):
    class Meta:
        model = Student

    student_number = factory.LazyFunction(lambda: f"0{next(_numbers):09d}")
    name = factory.Sequence(lambda n: f"学生{n}")
    gender = "F"
    programme = "undergraduate"
    cohort = 2017
    class_name = "2017级会计学1班"
    counsellor = factory.SubFactory(CounsellorFactory)
    college = factory.LazyAttribute(lambda o: o.counsellor.college if o.counsellor
                                    else home_college())
    supervisor = None
    phone = "13800000000"
    province = "北京"
    city = "北京"
    on_campus = False
    employed = False
    notes = ""
    concern_level = "normal"


class CategoryFactory(BaseFactory):
    class Meta:
        model = CareCategory

    code = factory.Sequence(lambda n: f"category{n}")
    name_zh = factory.Sequence(lambda n: f"类别{n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")
    colour = "#0d6efd"
    cadence_days = 7
    isolation_days = None
    active = True
    sort_order = factory.Sequence(lambda n: n)


class AssignmentFactory(BaseFactory):
    class Meta:
        model = CategoryAssignment

    student = factory.SubFactory(StudentFactory)
    category = factory.SubFactory(CategoryFactory)
    started_on = factory.LazyFunction(date.today)
    reason = ""
    set_by_id = factory.LazyAttribute(lambda o: o.student.counsellor_id)


class ReferralFactory(BaseFactory):
    class Meta:
        model = Referral

    student = factory.SubFactory(StudentFactory, programme="master")
    referred_by = factory.LazyAttribute(lambda o: o.student.counsellor)
    supervisor = factory.SubFactory(SupervisorFactory)
    reason = "论文进度受影响"
    urgency = "normal"
    state = "open"


class UniversityAdminFactory(UserFactory):
    role = Role.UNIVERSITY_ADMIN
    username = factory.Sequence(lambda n: f"university-{n}")
    college = None


class LeagueSecretaryFactory(UserFactory):
    role = Role.LEAGUE_SECRETARY
    username = factory.Sequence(lambda n: f"league-{n}")


class SecretaryFactory(UserFactory):
    role = Role.SECRETARY
    username = factory.Sequence(lambda n: f"secretary-{n}")


class OfficeFactory(UserFactory):
    role = Role.UNIVERSITY_OFFICE
    username = factory.Sequence(lambda n: f"office-{n}")
    college = None
