"""Notices to students: publishing (never edited after), corrections, acknowledgements and
coverage.

The students a notice goes to are fixed when it is published (:class:`NoticeRecipient`), so
its coverage does not move when the roster does. A correction is a new notice to the same
students that points at the one it corrects; both stay.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, case, exists, func, insert, literal, select, true, update
from sqlalchemy.sql.elements import ColumnElement

from caretrack.access import notice_audiences, student_filter, writes_notices
from caretrack.extensions import db
from caretrack.models import (
    Audience,
    CareCategory,
    CategoryAssignment,
    Notice,
    NoticeRecipient,
    Programme,
    Student,
    User,
)
from caretrack.services.audit import record_event
from caretrack.services.errors import DuplicateSubmission, RuleError

TITLE_MAX = 200
BODY_MAX = 10000


@dataclass(frozen=True)
class NoticeDraft:
    """What the author typed (checked by :func:`publish`)."""

    title: str
    body: str
    audience: str
    #: Class names, or the one programme, cohort or category id, as text.
    values: tuple[str, ...] = ()
    must_acknowledge: bool = True
    pledge: str = ""
    deadline: datetime | None = None


def audience_condition(author: User, audience: str, values: tuple[str, ...]
                       ) -> ColumnElement[bool]:
    """The SQL condition on ``Student`` of a notice's audience, within what the author sees.

    :raise RuleError: for an audience the author may not address or a value that names
        nothing.
    """
    if audience not in notice_audiences(author):
        raise RuleError("notice-audience", "audience")
    scope = student_filter(author)
    values = tuple(v.strip() for v in values if v and v.strip())
    if audience in (Audience.CASELOAD, Audience.COLLEGE):
        return scope
    if not values:
        raise RuleError("notice-audience-empty", "values")
    if audience == Audience.CLASSES:
        known = set(db.session.scalars(
            select(Student.class_name).where(scope, Student.class_name.in_(values)).distinct()))
        unknown = [v for v in values if v not in known]
        if unknown:
            raise RuleError("notice-unknown-class", "values", name="、".join(unknown))
        return and_(scope, Student.class_name.in_(values))
    value = values[0]
    if audience == Audience.PROGRAMME:
        if value not in {p.value for p in Programme}:
            raise RuleError("notice-audience-empty", "values")
        return and_(scope, Student.programme == value)
    if audience == Audience.COHORT:
        if not value.isdigit():
            raise RuleError("notice-audience-empty", "values")
        return and_(scope, Student.cohort == int(value))
    if audience == Audience.CATEGORY:
        category = db.session.get(CareCategory, int(value)) if value.isdigit() else None
        if category is None:
            raise RuleError("unknown-category", "values")
        return and_(scope, exists().where(
            CategoryAssignment.student_id == Student.id,
            CategoryAssignment.category_id == category.id,
            CategoryAssignment.ended_on.is_(None)))
    raise RuleError("notice-audience", "audience")


def _check(draft: NoticeDraft, now: datetime) -> None:
    if not draft.title.strip():
        raise RuleError("empty", "title")
    if len(draft.title) > TITLE_MAX:
        raise RuleError("too-long", "title", max=TITLE_MAX)
    if not draft.body.strip():
        raise RuleError("empty", "body")
    if len(draft.body) > BODY_MAX:
        raise RuleError("too-long", "body", max=BODY_MAX)
    if draft.deadline is None:
        raise RuleError("empty", "deadline")
    if draft.deadline <= now:
        raise RuleError("notice-deadline-past", "deadline")


def publish(author: User, draft: NoticeDraft, *, now: datetime, corrects: Notice | None = None,
            ip: str = "", submission_key: str | None = None) -> Notice:
    """Publish a notice to its audience (or, for a correction, to the corrected notice's
    students), audited as "notice.publish".

    :raise RuleError: beside the field that is wrong; "notice-no-students" when the audience
        is empty; "notice-corrected-already" when ``corrects`` has a correction.
    :raise DuplicateSubmission: if the same form published a notice already.
    """
    if submission_key and db.session.scalar(
            select(Notice.id).where(Notice.submission_key == submission_key)) is not None:
        raise DuplicateSubmission()
    if not writes_notices(author):
        raise RuleError("not-allowed")
    _check(draft, now)
    if corrects is not None:
        if corrects.author_id != author.id:
            raise RuleError("not-allowed")
        if db.session.scalar(select(Notice.id).where(Notice.corrects_id == corrects.id)):
            raise RuleError("notice-corrected-already", conflict=True)
        audience, values = corrects.audience, tuple(corrects.audience_values)
        students = select(NoticeRecipient.student_id).where(
            NoticeRecipient.notice_id == corrects.id)
    else:
        audience, values = draft.audience, draft.values
        condition = audience_condition(author, audience, values)
        students = select(Student.id).where(condition)
    if not db.session.scalar(select(students.exists())):
        raise RuleError("notice-no-students", "audience")
    notice = Notice(
        author_id=author.id, audience=audience, audience_values=list(values),
        title=draft.title.strip(), body=draft.body.strip(),
        must_acknowledge=bool(draft.must_acknowledge or draft.pledge.strip()),
        pledge=draft.pledge.strip(), deadline=draft.deadline,
        corrects_id=corrects.id if corrects else None, published_at=now,
        submission_key=submission_key or None,
    )
    db.session.add(notice)
    db.session.flush()
    ids = students.subquery()
    db.session.execute(insert(NoticeRecipient).from_select(
        ["notice_id", "student_id", "pledged"],
        select(literal(notice.id), ids.c[0], literal(False)),
    ))
    count = db.session.scalar(select(func.count()).where(NoticeRecipient.notice_id == notice.id))
    record_event("notice.publish", author, now=now, ip=ip,
                 detail=f"notice:{notice.id} students:{count}"
                 + (f" corrects:{corrects.id}" if corrects else ""))
    db.session.flush()
    return notice


def acknowledge(recipient: NoticeRecipient, *, pledged: bool, now: datetime, ip: str = ""
                ) -> bool:
    """The student acknowledges the notice (ticking its pledge when it has one), once: a
    second acknowledgement changes nothing. Return whether this one counted.

    :raise RuleError: "notice-pledge" when the notice has a pledge that was not ticked.
    """
    notice = recipient.notice
    if notice.pledge and not pledged:
        raise RuleError("notice-pledge", "pledge")
    result = db.session.execute(
        update(NoticeRecipient)
        .where(NoticeRecipient.id == recipient.id, NoticeRecipient.acknowledged_at.is_(None))
        .values(acknowledged_at=now, pledged=bool(notice.pledge))
        .execution_options(synchronize_session=False)
    )
    counted = bool(result.rowcount)
    if counted:
        record_event("notice.acknowledge", None, recipient.student_id, now=now, ip=ip,
                     detail=f"notice:{notice.id}")
    db.session.flush()
    db.session.refresh(recipient)
    return counted


# -- what the student reads ---------------------------------------------------------------------


def student_notices(student: Student) -> list[tuple[Notice, NoticeRecipient, int | None]]:
    """The student's notices with their own acknowledgement and the id of the notice that
    corrects each (None): the ones still to acknowledge first, then the newest."""
    correction = select(Notice.id).where(Notice.corrects_id == NoticeRecipient.notice_id) \
        .correlate(NoticeRecipient).limit(1).scalar_subquery()
    waiting = case((and_(Notice.must_acknowledge, NoticeRecipient.acknowledged_at.is_(None)),
                    0), else_=1)
    rows = db.session.execute(
        select(Notice, NoticeRecipient, correction)
        .join(NoticeRecipient, NoticeRecipient.notice_id == Notice.id)
        .where(NoticeRecipient.student_id == student.id)
        .order_by(waiting, Notice.published_at.desc(), Notice.id.desc())
        .limit(30)
    ).all()
    return [tuple(r) for r in rows]


# -- coverage -----------------------------------------------------------------------------------


@dataclass
class ClassCoverage:
    class_name: str
    students: int
    acknowledged: int

    @property
    def percent(self) -> int:
        return percent(self.acknowledged, self.students)


def percent(part: int, whole: int) -> int:
    """``part`` of ``whole`` in whole percent, rounded down (100 only when all are in)."""
    return part * 100 // whole if whole else 100


def _recipients_seen_by(user: User) -> Select:
    return select(NoticeRecipient).join(Student, NoticeRecipient.student_id == Student.id) \
        .where(student_filter(user))


def coverage(notice: Notice, user: User) -> list[ClassCoverage]:
    """The notice's coverage by class, over the students ``user`` may see (one query)."""
    rows = db.session.execute(
        select(Student.class_name, func.count(NoticeRecipient.id),
               func.count(NoticeRecipient.acknowledged_at))
        .join(Student, NoticeRecipient.student_id == Student.id)
        .where(NoticeRecipient.notice_id == notice.id, student_filter(user))
        .group_by(Student.class_name).order_by(Student.class_name)
    ).all()
    return [ClassCoverage(name, total, acked) for name, total, acked in rows]


def stragglers(notice: Notice, user: User, class_name: str | None = None) -> list[Student]:
    """The students of ``user``'s caseload the notice went to who have not acknowledged it,
    by class and name."""
    query = (select(Student).join(NoticeRecipient, NoticeRecipient.student_id == Student.id)
             .where(NoticeRecipient.notice_id == notice.id,
                    NoticeRecipient.acknowledged_at.is_(None), student_filter(user))
             .order_by(Student.class_name, Student.student_number))
    if class_name:
        query = query.where(Student.class_name == class_name)
    return list(db.session.scalars(query))


def acknowledgements(notice: Notice, user: User) -> list[tuple[Student, NoticeRecipient]]:
    """Every student of the notice ``user`` may see, with their acknowledgement (the export)."""
    return [tuple(r) for r in db.session.execute(
        select(Student, NoticeRecipient)
        .join(NoticeRecipient, NoticeRecipient.student_id == Student.id)
        .where(NoticeRecipient.notice_id == notice.id, student_filter(user))
        .order_by(Student.class_name, Student.student_number))]


def notice_totals(notice_ids: list[int], user: User) -> dict[int, tuple[int, int]]:
    """{notice id: (students, acknowledged)} over the students ``user`` may see (one query)."""
    if not notice_ids:
        return {}
    rows = db.session.execute(
        select(NoticeRecipient.notice_id, func.count(NoticeRecipient.id),
               func.count(NoticeRecipient.acknowledged_at))
        .join(Student, NoticeRecipient.student_id == Student.id)
        .where(NoticeRecipient.notice_id.in_(notice_ids), student_filter(user))
        .group_by(NoticeRecipient.notice_id)
    ).all()
    return {notice_id: (total, acked) for notice_id, total, acked in rows}


def open_coverage(user: User, limit: int = 5) -> list[tuple[Notice, int, int]]:
    """The notices to acknowledge that have not reached 100 % among ``user``'s students,
    newest first, with (students, acknowledged): the landing page's list (two queries)."""
    rows = db.session.execute(
        select(NoticeRecipient.notice_id, func.count(NoticeRecipient.id),
               func.count(NoticeRecipient.acknowledged_at))
        .join(Student, NoticeRecipient.student_id == Student.id)
        .join(Notice, Notice.id == NoticeRecipient.notice_id)
        .where(student_filter(user), Notice.must_acknowledge, true())
        .group_by(NoticeRecipient.notice_id)
        .having(func.count(NoticeRecipient.acknowledged_at) < func.count(NoticeRecipient.id))
        .order_by(NoticeRecipient.notice_id.desc()).limit(limit)
    ).all()
    notices = {n.id: n for n in db.session.scalars(
        select(Notice).where(Notice.id.in_([r[0] for r in rows])))} if rows else {}
    return [(notices[notice_id], total, acked) for notice_id, total, acked in rows]


def corrections_of(notice_ids: list[int]) -> dict[int, Notice]:
    """{corrected notice id: its correction} (one query)."""
    if not notice_ids:
        return {}
    return {n.corrects_id: n for n in db.session.scalars(
        select(Notice).where(Notice.corrects_id.in_(notice_ids)))}
