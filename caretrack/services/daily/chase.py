"""The chase list: the counsellor's students without a status today, called one by one at the
students' cut-off (CHECKIN_DEADLINE), with the reminder texts to send them.

A contact is a follow-up (:func:`caretrack.services.entries.record_follow_up`); "confirmed, no
change" also records today's status through the one status-writing path
(:func:`caretrack.services.daily.statuses.apply_statuses`, source counsellor). A student whose
status arrived meanwhile (their own check-in, a sheet) keeps it: the follow-up is written, the
status is not touched.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from caretrack.access import working_caseload_filter
from caretrack.extensions import db
from caretrack.models import Health, Student, TimelineEntry, User
from caretrack.services import entries
from caretrack.services.checkin.links import existing_link_urls
from caretrack.services.checkin.submit import cutoff
from caretrack.services.clock import local_today
from caretrack.services.daily.carried import Carried, statuses_for, students_query
from caretrack.services.daily.statuses import StatusInput, apply_statuses
from caretrack.services.daily.values import DayStatus
from caretrack.services.errors import RuleError

#: The ways a chase reaches a student.
CHANNELS = (entries.Channel.PHONE, entries.Channel.SMS, entries.Channel.WECHAT)


class Outcome(StrEnum):
    """What a contact from the chase list found."""

    #: Reached; the carried status still holds: today's status is confirmed.
    UNCHANGED = "unchanged"
    #: Reached; something changed: the status form follows.
    CHANGED = "changed"
    NOT_REACHED = "not_reached"


#: The health a reached student is recorded as observed with, from the status they confirm.
_OBSERVED = {
    Health.NORMAL: entries.HealthObserved.NORMAL,
    Health.FEVER: entries.HealthObserved.SYMPTOMS,
    Health.SYMPTOMS: entries.HealthObserved.SYMPTOMS,
    Health.SUSPECTED: entries.HealthObserved.SYMPTOMS,
    Health.CONFIRMED: entries.HealthObserved.SYMPTOMS,
}


# -- the list -----------------------------------------------------------------------------------


def chase_condition(counsellor: User, class_name: str = ""):
    """SQL: the counsellor's students (their own and those they cover today), of one class
    when ``class_name`` is given."""
    condition = working_caseload_filter(counsellor)
    return and_(condition, Student.class_name == class_name) if class_name else condition


def chase_query(counsellor: User, day: date, class_name: str = ""):
    """Return a query of the counsellor's students without a status on ``day``, in class and
    number order."""
    return students_query(chase_condition(counsellor, class_name), day, "missing")


@dataclass
class ChaseRow:
    """One student to chase: their last known status and since when it is unconfirmed."""

    student: Student
    status: DayStatus

    @property
    def last_confirmed(self) -> date | None:
        """The day of the student's latest status (None: never confirmed, roster values)."""
        return self.status.status_day

    @property
    def days_unconfirmed(self) -> int | None:
        """Days in a row without a status, today included (None: never confirmed)."""
        last = self.status.status_day
        return None if last is None else (self.status.day - last).days


def chase_rows(students: list[Student], day: date) -> list[ChaseRow]:
    """The rows of a page of students: their carried statuses in one query."""
    statuses = statuses_for([s.id for s in students], day)
    return [ChaseRow(s, statuses[s.id]) for s in students]


def classes_to_chase(counsellor: User, day: date) -> list[tuple[str, int]]:
    """(class, students without a status on ``day``) of the counsellor's classes that have
    some, in class order (one query)."""
    carried = Carried(day)
    query = carried.join(select(Student.class_name, func.count(Student.id))).where(
        working_caseload_filter(counsellor), carried.missing,
    ).group_by(Student.class_name).order_by(Student.class_name)
    return [(name, count) for name, count in db.session.execute(query)]


def past_cutoff(now: datetime) -> bool:
    """Whether the students' check-in cut-off of today has passed: time to chase."""
    return now > cutoff(local_today(now))


# -- reminder texts -----------------------------------------------------------------------------


@dataclass
class Reminders:
    """The texts to copy: one per student of a page, and one for a class's group."""

    #: Student id -> the text for that student.
    personal: dict[int, str]
    #: The text for the class's group (None when no class is chosen or nobody is missing).
    for_class: str | None = None


def _deadline_text() -> str:
    return current_app.config["CHECKIN_DEADLINE"]


def reminders(counsellor: User, day: date, students: list[Student], class_name: str = ""
              ) -> Reminders:
    """The reminder texts for a page of students, and for ``class_name``'s group naming every
    student of the class still without a status (three queries)."""
    deadline = _deadline_text()
    classes = sorted({(s.college_id, s.class_name) for s in students}
                     | ({(counsellor.college_id, class_name)} if class_name else set()))
    personal_links, class_links = existing_link_urls([s.id for s in students], classes)
    texts = {}
    for student in students:
        link = personal_links.get(student.id) or class_links.get(
            (student.college_id, student.class_name))
        text = _("%(name)s, please check in today (location and health) by %(time)s.",
                 name=student.name, time=deadline)
        texts[student.id] = f"{text} {link}" if link else text
    for_class = None
    if class_name:
        names = list(db.session.scalars(
            chase_query(counsellor, day, class_name).with_only_columns(Student.name)))
        if names:
            for_class = _("Class %(class_name)s: today's check-in (location and health) is "
                          "due by %(time)s. Not answered yet: %(names)s. Please check in now.",
                          class_name=class_name, time=deadline, names=_(", ").join(names))
            link = class_links.get((counsellor.college_id, class_name))
            if link:
                for_class = f"{for_class} {link}"
    return Reminders(texts, for_class)


# -- contacts -----------------------------------------------------------------------------------


def _follow_up(student: Student, by: User, channel: str, reached: bool, health: str,
               note: str, now: datetime, ip: str, key: str | None) -> TimelineEntry:
    if channel not in CHANNELS:
        raise RuleError("chase-channel", "channel")
    return entries.record_follow_up(
        student, by, channel=channel, reached=reached, health=health, body=note.strip(),
        now=now, ip=ip, submission_key=key,
    )


def _observed(status: DayStatus) -> str:
    return str(_OBSERVED.get(status.values.health, entries.HealthObserved.UNKNOWN))


@dataclass
class ContactResult:
    entry: TimelineEntry
    #: Whether today's status was recorded by this contact.
    confirmed: bool = False
    #: Whether the student had a status today already (nothing was recorded over it).
    already: bool = False


def record_contact(
    student: Student, by: User, *, channel: str, outcome: str, now: datetime, note: str = "",
    ip: str = "", submission_key: str | None = None,
) -> ContactResult:
    """Record a contact from the chase list: a follow-up, and with "confirmed, no change"
    today's status too (source counsellor) unless the student has one already.

    :raise RuleError: "chase-outcome", "chase-channel" (channel), the follow-up's and the
        status's refusals ("not-allowed", "not-your-student").
    :raise DuplicateSubmission: if the form was recorded already.
    """
    if outcome not in {o.value for o in Outcome}:
        raise RuleError("chase-outcome")
    status = statuses_for([student.id], local_today(now))[student.id]
    reached = outcome != Outcome.NOT_REACHED
    health = _observed(status) if outcome == Outcome.UNCHANGED else str(
        entries.HealthObserved.UNKNOWN)
    entry = _follow_up(student, by, channel, reached, health, note, now, ip, submission_key)
    result = ContactResult(entry, already=status.confirmed)
    if outcome == Outcome.UNCHANGED and not status.confirmed:
        apply_statuses(by, [StatusInput(student.id, status.values)], now, ip=ip)
        result.confirmed = True
    return result


@dataclass
class BulkResult:
    #: Students whose status this confirmed.
    confirmed: int = 0
    #: Students who had a status today already (follow-up written, status kept).
    already: int = 0


def confirm_contacted(
    by: User, students: list[Student], *, channel: str, now: datetime, note: str = "",
    ip: str = "", submission_key: str | None = None,
) -> BulkResult:
    """Record, for each of several students reached by ``channel``, a follow-up and today's
    unchanged status, as :func:`record_contact` does one by one (the caller commits them as
    one transaction).

    :raise RuleError: "chase-none-selected", "chase-channel" (channel), "not-allowed" or
        "not-your-student" when one is not the counsellor's (nothing is written).
    :raise DuplicateSubmission: if the form was recorded already.
    """
    if not students:
        raise RuleError("chase-none-selected", "selected")
    statuses = statuses_for([s.id for s in students], local_today(now))
    result = BulkResult()
    to_confirm = []
    for student in students:
        status = statuses[student.id]
        key = f"{submission_key}:{student.id}" if submission_key else None
        _follow_up(student, by, channel, True, _observed(status), note, now, ip, key)
        if status.confirmed:
            result.already += 1
        else:
            to_confirm.append(StatusInput(student.id, status.values))
    if to_confirm:
        result.confirmed = apply_statuses(by, to_confirm, now, ip=ip).confirmed
    return result
