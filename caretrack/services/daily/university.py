"""The university office's view of a day: each college's sign-off (the stage reached, on
time or late) and its students' numbers, the lists behind them, and the university report
(XLSX) once every college's last stage approved."""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, true
from sqlalchemy.orm import selectinload

from caretrack.access import signing_stages
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import Role, Stage, Student, User
from caretrack.models.college import College
from caretrack.models.sign_off import CollegeSignOff, SignOffStep
from caretrack.services.clock import local_datetime
from caretrack.services.daily.carried import ABNORMAL, ISOLATED, Carried, _counted, board_query
from caretrack.services.daily.sign_off import stage_deadline
from caretrack.services.errors import RuleError

#: The board's numbers, in order: (key of the students' list, heading).
NUMBERS = ("students", "hubei", "risk_area", "fever", "abnormal", "isolated", "on_campus",
           "missing", "changes")


@dataclass
class CollegeRow:
    college: College
    sign_off: CollegeSignOff | None
    #: The stage whose turn it is (``done`` once sent).
    stage: str
    late: bool
    numbers: dict[str, int] = field(default_factory=dict)
    #: Not signed off when the university's deadline passed.
    overdue: bool = False

    @property
    def done(self) -> bool:
        return self.stage == Stage.DONE


@dataclass
class OfficeBoard:
    day: date
    deadline: datetime
    rows: list[CollegeRow]
    totals: dict[str, int]

    @property
    def ready(self) -> bool:
        """Whether every college's last stage approved the day's report."""
        return bool(self.rows) and all(r.done for r in self.rows)


def university_deadline(day: date) -> datetime:
    return local_datetime(day, time.fromisoformat(current_app.config["UNIVERSITY_DEADLINE"]))


def numbers_by_college(day: date) -> dict[int, dict[str, int]]:
    """Each college's numbers of ``day`` (see :data:`NUMBERS`), in one query."""
    carried = Carried(day)
    query = carried.join(select(
        Student.college_id, func.count(Student.id), _counted(carried.in_hubei),
        _counted(carried.in_risk_area), _counted(carried.health == "fever"),
        _counted(carried.health.in_(ABNORMAL)), _counted(carried.health.in_(ISOLATED)),
        _counted(carried.on_campus == true()), _counted(carried.missing),
        _counted(carried.changed),
    )).where(Student.merged_into_id.is_(None)).group_by(Student.college_id)
    return {row[0]: dict(zip(NUMBERS, (int(n) for n in row[1:]), strict=True))
            for row in db.session.execute(query)}


def office_board(day: date, now: datetime) -> OfficeBoard:
    """Every college's sign-off of ``day`` and its numbers (four queries, whatever the number
    of colleges and students)."""
    colleges = db.session.scalars(select(College).order_by(College.code)).all()
    sign_offs = {s.college_id: s for s in db.session.scalars(
        select(CollegeSignOff).where(CollegeSignOff.day == day)
        .options(selectinload(CollegeSignOff.steps)))}
    numbers = numbers_by_college(day)
    deadline = university_deadline(day)
    rows, totals = [], dict.fromkeys(NUMBERS, 0)
    for college in colleges:
        sign_off = sign_offs.get(college.id)
        stage = sign_off.stage if sign_off else signing_stages(college)[0]
        late = any(s.late for s in sign_off.steps) if sign_off else False
        if stage != Stage.DONE and now > stage_deadline(college, stage, day):
            late = True
        mine = numbers.get(college.id, dict.fromkeys(NUMBERS, 0))
        for key in NUMBERS:
            totals[key] += mine[key]
        rows.append(CollegeRow(college, sign_off, stage, late, mine,
                               overdue=stage != Stage.DONE and now > deadline))
    return OfficeBoard(day, deadline, rows, totals)


def office_students(day: date, what: str, college_id: int | None):
    """A query of the students of one of the board's numbers (``what``), of one college or of
    all, with their college, in college, class and number order.

    :raise KeyError: for an unknown list.
    """
    if what not in NUMBERS:
        raise KeyError(what)
    condition = true() if college_id is None else Student.college_id == college_id
    return board_query(condition, day, what).order_by(None).order_by(
        Student.college_id, Student.class_name, Student.student_number)


def university_report_sheets(day: date, now: datetime) -> list[tuple]:
    """The university report's sheets: a row per college, the abnormal students (abnormal
    health, in Hubei or a risk area), each college's sign-off record.

    :raise RuleError: "university-not-ready" until every college's last stage approved.
    """
    from caretrack.services.daily.carried import statuses_for

    board = office_board(day, now)
    if not board.ready:
        raise RuleError("university-not-ready")
    headings = [_("Students"), _("In Hubei"), _("In a risk area"), label("health", "fever"),
                _("Abnormal health"), _("Isolated"), _("On campus"), _("Unconfirmed"),
                _("Changes")]
    colleges = [[r.college.name_zh, r.college.code, *[r.numbers[k] for k in NUMBERS],
                 _local(r.sign_off.sent_at)] for r in board.rows]
    colleges.append([_("The university"), "", *[board.totals[k] for k in NUMBERS], ""])
    names = {c.id: c.name_zh for c in (r.college for r in board.rows)}
    concern = db.session.scalars(board_query(true(), day, "of_concern").order_by(None).order_by(
        Student.college_id, Student.class_name, Student.student_number)).all()
    statuses = statuses_for([s.id for s in concern], day)
    abnormal = []
    for student in concern:
        status = statuses.get(student.id)
        values = status.values if status else None
        abnormal.append([names.get(student.college_id, ""), student.class_name, student.name,
                         f"{values.province} {values.city}".strip() if values else "",
                         label("health", values.health) if values else ""])
    steps = db.session.execute(
        select(College.name_zh, SignOffStep, User.display_name)
        .join(CollegeSignOff, CollegeSignOff.id == SignOffStep.sign_off_id)
        .join(College, College.id == CollegeSignOff.college_id)
        .join(User, User.id == SignOffStep.by_id)
        .where(CollegeSignOff.day == day).order_by(College.code, SignOffStep.id)).all()
    record = [[name, label("stage", step.stage),
               _("passed on") if step.action == "pass" else _("returned"), who,
               _local(step.at), _("Yes") if step.late else _("No"), step.comment]
              for name, step, who in steps]
    return [
        (_("Colleges"), [_("College"), _("Code"), *headings, _("Sent at")], colleges,
         [16, 8, 10, 10, 10, 10, 10, 10, 10, 10, 10, 18]),
        (_("Abnormal students"), [_("College"), _("Class"), _("Name"), _("Location"),
                                  _("Health")], abnormal, [16, 18, 12, 16, 12]),
        (_("Sign-off record"), [_("College"), _("Stage"), _("Step"), _("By"), _("At"),
                                _("Late"), _("Comment")], record, [16, 14, 10, 12, 18, 6, 40]),
    ]


def _local(value: datetime | None) -> str:
    from caretrack.services.clock import college_tz

    return value.astimezone(college_tz()).strftime("%Y-%m-%d %H:%M") if value else ""


def university_report_xlsx(day: date, now: datetime) -> bytes:
    """The university report of ``day`` as a workbook (see :func:`university_report_sheets`)."""
    from caretrack.services.spreadsheets import xlsx_bytes

    return xlsx_bytes(university_report_sheets(day, now), freeze_header=True)


def notify_missing_colleges(day: date, now: datetime) -> list[College]:
    """Tell the secretaries of the colleges whose report of ``day`` is not signed off yet;
    return those colleges (none before the university's deadline)."""
    from caretrack.access import accounts_with_role
    from caretrack.services.notifications import notify

    if now <= university_deadline(day):
        return []
    missing = [r.college for r in office_board(day, now).rows if not r.done]
    for college in missing:
        for user_id in db.session.scalars(
                select(User.id).where(accounts_with_role(Role.SECRETARY, college))):
            notify(user_id, "sign_off.missing", now=now)
    return missing


def send_university_report(day: date, now: datetime, recipients: list[str]) -> list[str]:
    """E-mail the university report of ``day`` to each recipient once; return who got it.

    :raise RuleError: "university-not-ready" until every college's last stage approved.
    """
    from caretrack.services.exports import MIMETYPES
    from caretrack.services.mail import build_message, send_once

    attachment = university_report_xlsx(day, now)
    subject = _("The university's students' daily status, %(day)s", day=day.isoformat())
    sent = []
    for address in recipients:
        message = build_message(address, subject, subject + "\n", [
            (f"university-report-{day.isoformat()}.xlsx", attachment, MIMETYPES["xlsx"])])
        if send_once(f"university-report:{day.isoformat()}:{address}", message):
            sent.append(address)
    return sent
