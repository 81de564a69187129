"""The one place that decides which students, and which of their records, a user may see.

Every view that touches a student loads it through :func:`get_student_or_404`, and every list
starts from :func:`visible_students`. A student the user may not see is a 404, exactly like a
student that does not exist.
"""

from flask import abort
from sqlalchemy import Select, and_, exists, false, select, true
from sqlalchemy.sql.elements import ColumnElement

from caretrack.extensions import db
from caretrack.models import Referral, ReferralState, Role, Student, TimelineEntry, User

#: Referral states during and after which the supervisor keeps access to the student.
SUPERVISOR_VISIBLE_STATES = (ReferralState.OPEN, ReferralState.ACCEPTED, ReferralState.DONE)


def student_filter(user: User) -> ColumnElement[bool]:
    """Return the SQL condition on ``Student`` that selects the students ``user`` may see."""
    if user is None or not user.is_authenticated or not user.is_active:
        return false()
    if user.role == Role.COUNSELLOR:
        return Student.counsellor_id == user.id
    if user.role == Role.DEPUTY_SECRETARY:
        return true()
    if user.role == Role.SUPERVISOR:
        return exists().where(
            and_(
                Referral.student_id == Student.id,
                Referral.supervisor_id == user.id,
                Referral.state.in_(SUPERVISOR_VISIBLE_STATES),
            )
        )
    # The admin manages the roster (see roster_students) but never reads case content.
    return false()


def visible_students(user: User) -> Select[tuple[Student]]:
    """Return a query of the students whose case record ``user`` may see."""
    return select(Student).where(student_filter(user))


def get_student_or_404(student_id: int, user: User) -> Student:
    """Load one student the user may see.

    :raise 404: if the student does not exist or ``user`` may not see it.
    """
    student = db.session.scalars(
        visible_students(user).where(Student.id == student_id)
    ).one_or_none()
    if student is None:
        abort(404)
    return student


def entry_filter(user: User) -> ColumnElement[bool]:
    """Return the SQL condition on ``TimelineEntry`` that selects the entries of a visible
    student's timeline that ``user`` may read: a supervisor reads only the entries of the
    referrals made to them; the other case readers read the whole timeline."""
    if user.role == Role.SUPERVISOR:
        return TimelineEntry.referral_id.in_(
            select(Referral.id).where(Referral.supervisor_id == user.id)
        )
    return true()


def roster_students(user: User) -> Select[tuple[Student]]:
    """Return a query of the students whose roster data (names, numbers, assignments) ``user``
    may manage: the admin's and the deputy secretary's view of the whole college."""
    if user.is_authenticated and user.role in (Role.ADMIN, Role.DEPUTY_SECRETARY):
        return select(Student)
    return select(Student).where(false())


def can_read_cases(user: User) -> bool:
    """Whether the user's role reads case content at all (everyone but the admin)."""
    return user.is_authenticated and user.role != Role.ADMIN


def can_record_for(user: User, student: Student) -> bool:
    """Whether ``user`` may add entries to the student's timeline (their counsellor)."""
    return user.role == Role.COUNSELLOR and student.counsellor_id == user.id


def sees_whole_college(user: User) -> bool:
    """Whether the user's lists and dashboards cover the whole college."""
    return user.role == Role.DEPUTY_SECRETARY


def can_manage_roster(user: User) -> bool:
    return user.is_authenticated and user.role == Role.ADMIN


def visible_referrals(user: User) -> Select[tuple[Referral]]:
    """Return a query of the referrals ``user`` may see."""
    if user.role == Role.SUPERVISOR:
        # The supervisor's inbox keeps every referral made to them, declined and revoked too.
        return select(Referral).where(Referral.supervisor_id == user.id)
    return select(Referral).join(Student, Referral.student_id == Student.id).where(
        student_filter(user)
    )


def get_referral_or_404(referral_id: int, user: User) -> Referral:
    """Load one referral the user may see.

    :raise 404: if it does not exist or ``user`` may not see it.
    """
    referral = db.session.scalars(
        visible_referrals(user).where(Referral.id == referral_id)
    ).one_or_none()
    if referral is None:
        abort(404)
    return referral
