"""The one place that decides who may see and do what.

Every view that touches a student loads it through :func:`get_student_or_404`, and every list
starts from :func:`visible_students` (or the SQL condition :func:`student_filter`). A student the
user may not see is a 404, exactly like a student that does not exist. Views are guarded with
:func:`requires` and one of the named predicates below; templates receive the same predicates
as Jinja globals, so no template compares roles.
"""

from collections.abc import Callable
from datetime import date
from functools import wraps

from flask import abort, g, has_app_context
from flask_login import current_user, login_required
from sqlalchemy import Select, and_, exists, false, literal, or_, select, true, union
from sqlalchemy.sql.elements import ColumnElement

from caretrack.extensions import db
from caretrack.models import (
    Absence,
    AbsenceCover,
    Audience,
    AuditEvent,
    CheckinLink,
    College,
    DailyReport,
    Job,
    LinkKind,
    MessageLog,
    Notice,
    NoticeRecipient,
    Referral,
    ReferralState,
    ReturnRequest,
    Role,
    Student,
    StudentMerge,
    TimelineEntry,
    User,
)

#: Referral states during and after which the supervisor keeps access to the student.
SUPERVISOR_VISIBLE_STATES = (ReferralState.OPEN, ReferralState.ACCEPTED, ReferralState.DONE)


def _signed_in(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active


# -- colleges -----------------------------------------------------------------------------------


def college_id_of(user_or_college: "User | College | int | None") -> int | None:
    """The college id of an account (None for the university's accounts), a college or an id."""
    if user_or_college is None or isinstance(user_or_college, int):
        return user_or_college
    if isinstance(user_or_college, College):
        return user_or_college.id
    return user_or_college.college_id


def in_college(user_or_college) -> ColumnElement[bool]:
    """Return the SQL condition on ``Student`` that selects the students of the user's college
    (nothing for an account of no college). Every other condition on students includes it."""
    college_id = college_id_of(user_or_college)
    return false() if college_id is None else Student.college_id == college_id


def college_accounts(user_or_college) -> ColumnElement[bool]:
    """Return the SQL condition on ``User`` that selects the accounts of the user's college
    (nothing for an account of no college)."""
    college_id = college_id_of(user_or_college)
    return false() if college_id is None else User.college_id == college_id


def same_college(user: User, other: "User | Student") -> bool:
    """Whether ``other`` (an account or a student) belongs to the user's college."""
    return user.college_id is not None and other.college_id == user.college_id


def manages_colleges(user: User) -> bool:
    """Whether the user manages the colleges and each college's admin (a university admin)."""
    return _signed_in(user) and user.role == Role.UNIVERSITY_ADMIN


def manages_accounts(user: User) -> bool:
    """Whether the user opens and changes accounts: a college's admin their college's, the
    university admin the colleges' admins."""
    return can_manage_roster(user) or manages_colleges(user)


def manageable_accounts(user: User) -> Select[tuple[User]]:
    """Return a query of the accounts ``user`` manages: a college admin every account of the
    college; the university admin the admins (of every college, and of the university)."""
    if can_manage_roster(user):
        return select(User).where(college_accounts(user))
    if manages_colleges(user):
        return select(User).where(User.role.in_(
            (Role.ADMIN, Role.UNIVERSITY_ADMIN, Role.UNIVERSITY_OFFICE)))
    return select(User).where(false())


def get_account_or_404(user_id: int, user: User) -> User:
    """Load one account ``user`` manages.

    :raise 404: if it does not exist or ``user`` does not manage it.
    """
    return _one_or_404(manageable_accounts(user).where(User.id == user_id))


def assignable_roles(user: User) -> tuple[str, ...]:
    """The roles ``user`` may give an account: a college admin the college's roles, the
    university admin a college's admin or another university admin."""
    if can_manage_roster(user):
        return (Role.COUNSELLOR, Role.SUPERVISOR, Role.DEPUTY_SECRETARY, Role.ADMIN)
    if manages_colleges(user):
        return (Role.ADMIN, Role.UNIVERSITY_ADMIN, Role.UNIVERSITY_OFFICE)
    return ()


def reads_university_reports(user: User) -> bool:
    """Whether the user reads every college's daily reports and the university report, and
    nothing else: no timeline, no note, no student page (the university office)."""
    return _signed_in(user) and user.role == Role.UNIVERSITY_OFFICE


# -- roles as capabilities --------------------------------------------------------------------


def keeps_caseload(user: User) -> bool:
    """Whether the user has a caseload of their own (a counsellor)."""
    return _signed_in(user) and user.role == Role.COUNSELLOR


def sees_whole_college(user: User) -> bool:
    """Whether the user reads every student of their college: lists, timelines, dashboard,
    board, exports (the deputy secretary, and the secretary, who sees what the deputy
    sees)."""
    return _signed_in(user) and user.role in (Role.DEPUTY_SECRETARY, Role.SECRETARY)


def acts_for_college(user: User) -> bool:
    """Whether the user takes the deputy secretary's actions for the whole college: reviews,
    early-return decisions, transfers, absences and cover, notices to the college, revoking a
    referral, the retention policy (the deputy secretary; not the secretary, who reads and
    approves the college's report)."""
    return _signed_in(user) and user.role == Role.DEPUTY_SECRETARY


def has_referral_inbox(user: User) -> bool:
    """Whether the user works from an inbox of students referred to them (a supervisor)."""
    return _signed_in(user) and user.role == Role.SUPERVISOR


def is_supervisor_account(user: User | None) -> bool:
    """Whether ``user`` is an active supervisor's account (one a referral may be made to)."""
    return user is not None and user.active and user.role == Role.SUPERVISOR


def needs_two_factor(user: User) -> bool:
    """Whether the user's role must sign in with a second factor (where the install requires
    it): the deputy, the admin, and every role that sees more than one counsellor's caseload
    (the supervisors); a counsellor, who sees one caseload, may choose to."""
    return _signed_in(user) and user.role in (
        Role.DEPUTY_SECRETARY, Role.SECRETARY, Role.ADMIN, Role.SUPERVISOR
    )


def can_read_cases(user: User) -> bool:
    """Whether the user's role reads case content at all: the counsellors, the supervisors,
    the deputy and the secretary (not the admins, the league secretary, the university
    office: they read reports or manage accounts)."""
    return _signed_in(user) and (user.role in (Role.COUNSELLOR, Role.SUPERVISOR)
                                 or sees_whole_college(user))


def can_manage_roster(user: User) -> bool:
    """Whether the user manages their college's accounts, roster, the categories and the
    audit log (a college's admin)."""
    return _signed_in(user) and user.role == Role.ADMIN and user.college_id is not None


def reads_review_queue(user: User) -> bool:
    """Whether the user reads the review queue of high-concern and flagged students (the
    deputy who works it, the secretary who sees what the deputy sees)."""
    return sees_whole_college(user)


def can_review(user: User) -> bool:
    """Whether the user works the review queue: records reviews (the deputy secretary)."""
    return acts_for_college(user)


def signing_stages(college) -> list[str]:
    """The sign-off stages of ``college`` after the counsellors' reports, in order."""
    from caretrack.models import DEFAULT_STAGES, Stage

    return [s["stage"] for s in (college.stages or DEFAULT_STAGES)
            if s["stage"] != Stage.REPORTS]


def signs_stage(user: User, stage: str) -> bool:
    """Whether ``user`` acts at ``stage`` of their college's sign-off (its role, and the
    college has that stage)."""
    from caretrack.models import STAGE_ROLES, Stage

    return (_signed_in(user) and user.college is not None and stage in signing_stages(user.college)
            and STAGE_ROLES[Stage(stage)] == user.role)


def can_sign_off_reports(user: User) -> bool:
    """Whether the user approves or returns the counsellors' daily reports: the stage after
    them in the college's sign-off (the league secretary; the deputy where the college has no
    merge stage)."""
    return _signed_in(user) and user.college is not None and signs_stage(
        user, signing_stages(user.college)[0])


def reads_college_board(user: User) -> bool:
    """Whether the user reads the college's daily board: the counsellors' reports, their
    numbers and lists, and its exports (whoever signs off the counsellors' reports, and the
    deputy and the secretary, who read the whole college)."""
    return can_sign_off_reports(user) or (sees_whole_college(user) and user.college is not None)


def report_student_filter(user: User) -> ColumnElement[bool]:
    """Return the SQL condition on ``Student`` of the students whose day the user's reports
    list (the board's numbers and lists): the whole college for those who sign off its
    reports (the league secretary too, who reads no timeline), else the students the user
    may see."""
    if can_sign_off_reports(user) or takes_part_in_sign_off(user):
        return and_(in_college(user), current_records())
    return student_filter(user)


def takes_part_in_sign_off(user: User) -> bool:
    """Whether the user has a stage in their college's sign-off (and sees its chain)."""
    return _signed_in(user) and user.college is not None and any(
        signs_stage(user, stage) for stage in signing_stages(user.college))


def files_daily_report(user: User) -> bool:
    """Whether the user files a daily report for a caseload."""
    return keeps_caseload(user)


def works_rechecks(user: User) -> bool:
    """Whether the user has a re-check list (their own, or the whole college's: the deputy
    and the secretary)."""
    return keeps_caseload(user) or sees_whole_college(user)


def has_dashboard(user: User) -> bool:
    """Whether the user has a dashboard of the students they may see."""
    return keeps_caseload(user) or sees_whole_college(user)


def reads_daily_statuses(user: User) -> bool:
    """Whether the user reads the daily statuses and reports of a day (their caseload's, or the
    whole college's: the deputy and the secretary); branch api."""
    return keeps_caseload(user) or sees_whole_college(user)


def reads_full_timeline(user: User) -> bool:
    """Whether the user reads a visible student's whole case (timeline, categories, concern,
    re-checks), rather than only the referrals made to them (a supervisor)."""
    return can_read_cases(user) and not has_referral_inbox(user)


def manages_retention(user: User) -> bool:
    """Whether the user records their college's retention policy: when its emergency ended,
    how long each data class of its students is kept (the deputy secretary and the college's
    admin; the university admin manages colleges and their admins, not their data)."""
    return acts_for_college(user) or can_manage_roster(user)


def sees_retention(user: User) -> bool:
    """Whether the user reads the retention policy and its purges (numbers, no names) and is
    warned of a coming purge: the deputy secretary, the secretary and the admin."""
    return sees_whole_college(user) or can_manage_roster(user)


def sees_access_log(user: User) -> bool:
    """Whether the user reads who opened, exported or changed a student's record (the audit
    events of one student): the deputy secretary and the secretary."""
    return sees_whole_college(user)


def exports_student_record(user: User) -> bool:
    """Whether the user downloads one student's whole record (the college's answer to the
    student's request under PIPL art. 45): the deputy secretary and the secretary. The admin
    never reads case timelines, so not the admin."""
    return sees_whole_college(user)


#: ``college=EVERY_COLLEGE``: the accounts of all colleges (the nightly jobs, the CLI).
EVERY_COLLEGE = object()


def counsellor_accounts(college, *, active_only: bool = True) -> ColumnElement[bool]:
    """Return the SQL condition on ``User`` that selects the counsellors' accounts of
    ``college`` (an account's, a college or its id; :data:`EVERY_COLLEGE` for all), the active
    ones unless ``active_only`` is false."""
    return accounts_with_role(Role.COUNSELLOR, college, active_only=active_only)


def reporting_counsellors(college) -> ColumnElement[bool]:
    """Return the SQL condition on ``User`` that selects the counsellors (active or not) whose
    daily reports the board of ``college`` (an account's, a college or its id) lists: the
    board and a counsellor's page agree."""
    return counsellor_accounts(college, active_only=False)


def accounts_with_role(role: str, college, *, active_only: bool = True) -> ColumnElement[bool]:
    """Return the SQL condition on ``User`` that selects the accounts of one role in
    ``college`` (see :func:`counsellor_accounts`), the active ones unless ``active_only`` is
    false, e.g. the supervisors a counsellor may refer to."""
    condition = User.role == role
    if college is not EVERY_COLLEGE:
        condition = and_(condition, college_accounts(college))
    return and_(condition, User.active) if active_only else condition


# -- which students -----------------------------------------------------------------------------


def caseload_filter(counsellor: User | int) -> ColumnElement[bool]:
    """Return the SQL condition on ``Student`` that selects one counsellor's caseload."""
    counsellor_id = counsellor if isinstance(counsellor, int) else counsellor.id
    return and_(Student.counsellor_id == counsellor_id, current_records())


def current_records() -> ColumnElement[bool]:
    """Return the SQL condition on ``Student`` that leaves out records merged into another
    (pointers kept so old links resolve; see :func:`get_student_or_404`)."""
    return Student.merged_into_id.is_(None)


def _today(today: date | None) -> date:
    from caretrack.services.clock import college_today

    return today if today is not None else college_today()


def absence_open_on(today: date) -> ColumnElement[bool]:
    """Return the SQL condition on ``Absence``: not cancelled, and ``today`` (a college day) is
    one of its days."""
    return and_(
        Absence.cancelled_at.is_(None), Absence.starts_on <= today, Absence.ends_on >= today
    )


def covered_filter(user: User | int, today: date | None = None) -> ColumnElement[bool]:
    """Return the SQL condition on ``Student`` that selects the students ``user`` covers on
    ``today`` (the college's day, by default now): those of a counsellor away that day, of
    the classes the user covers (or of the whole caseload). Dated, not copied: once the
    window closes the condition selects nothing."""
    user_id = user if isinstance(user, int) else user.id
    return exists().where(
        AbsenceCover.covering_id == user_id,
        Absence.id == AbsenceCover.absence_id,
        Absence.counsellor_id == Student.counsellor_id,
        absence_open_on(_today(today)),
        or_(AbsenceCover.class_name.is_(None), AbsenceCover.class_name == Student.class_name),
    )


def working_caseload_filter(user: User, today: date | None = None) -> ColumnElement[bool]:
    """Return the SQL condition on ``Student`` that selects the students a counsellor works
    with on ``today``: their own caseload and the students they cover. The absent counsellor
    keeps their own caseload (see the README's "Who sees what")."""
    if not keeps_caseload(user):
        return false()
    day = _today(today)
    # One condition per user and day in a request: the pages use it in several statements.
    built = g.get("_working_caseloads") if has_app_context() else None
    if built is not None and (user.id, day) in built:
        return built[user.id, day]
    condition = _working_caseload(user, day)
    if has_app_context():
        g.setdefault("_working_caseloads", {})[user.id, day] = condition
    return condition


def _working_caseload(user: User, day: date) -> ColumnElement[bool]:
    """Build :func:`working_caseload_filter`'s condition."""
    # Whose caseloads these are (the user's, and the colleagues' they cover that day), stated
    # first though the conditions after imply it: a database then finds the students by the
    # counsellor's index instead of testing every student of the college against the cover.
    counsellors = union(
        select(literal(user.id)),
        select(Absence.counsellor_id).join(AbsenceCover, AbsenceCover.absence_id == Absence.id)
        .where(AbsenceCover.covering_id == user.id, absence_open_on(day)),
    )
    return and_(Student.counsellor_id.in_(counsellors),
                or_(caseload_filter(user), covered_filter(user, day)))


def _covered_parts(user_id: int, today: date) -> frozenset[tuple[int, str | None]]:
    """The (absent counsellor, class or None for the whole caseload) pairs ``user_id`` covers
    on ``today``: one query, kept for the rest of the request (a list asks for every row)."""
    from flask import g, has_request_context

    key = ("covered_parts", user_id, today)
    cache = g.setdefault("access_cache", {}) if has_request_context() else {}
    if key not in cache:
        cache[key] = frozenset(db.session.execute(
            select(Absence.counsellor_id, AbsenceCover.class_name)
            .join(AbsenceCover, AbsenceCover.absence_id == Absence.id)
            .where(AbsenceCover.covering_id == user_id, absence_open_on(today))).all())
    return cache[key]


def is_covering(user: User, student: Student, today: date | None = None) -> bool:
    """Whether ``user`` covers ``student`` on ``today`` (one query a request, however many
    students are asked about)."""
    if not keeps_caseload(user) or student.counsellor_id == user.id:
        return False
    parts = _covered_parts(user.id, _today(today))
    return ((student.counsellor_id, None) in parts
            or (student.counsellor_id, student.class_name) in parts)


def covers_caseload_of(user: User, counsellor: User, today: date | None = None) -> bool:
    """Whether ``user`` covers all or part of ``counsellor``'s caseload on ``today``, and so
    may file that caseload's daily report."""
    return keeps_caseload(user) and user.id != counsellor.id and bool(db.session.scalar(
        select(AbsenceCover.id).join(Absence, Absence.id == AbsenceCover.absence_id).where(
            AbsenceCover.covering_id == user.id, Absence.counsellor_id == counsellor.id,
            absence_open_on(_today(today)),
        ).limit(1)
    ))


def files_daily_report_for(user: User, counsellor: User, today: date | None = None) -> bool:
    """Whether ``user`` files ``counsellor``'s daily report: their own, or a colleague's (of
    the same college) whose absence they cover today."""
    return files_daily_report(counsellor) and same_college(user, counsellor) and (
        user.id == counsellor.id or covers_caseload_of(user, counsellor, today)
    )


def get_covered_counsellor_or_404(counsellor_id: int, user: User) -> User:
    """Load the counsellor whose caseload ``user`` covers today.

    :raise 404: for anyone else.
    """
    counsellor = db.session.get(User, counsellor_id)
    if counsellor is None or not files_daily_report_for(user, counsellor) \
            or counsellor.id == user.id:
        abort(404)
    return counsellor


def records_absences(user: User) -> bool:
    """Whether the user records absences: a counsellor their own, the deputy anyone's."""
    return keeps_caseload(user) or acts_for_college(user)


def manages_absence_of(user: User, counsellor: User) -> bool:
    """Whether ``user`` may record, end, extend or cancel ``counsellor``'s absences: the
    counsellor themself, or the deputy secretary."""
    return keeps_caseload(counsellor) and same_college(user, counsellor) and (
        (keeps_caseload(user) and user.id == counsellor.id) or acts_for_college(user)
    )


def visible_absences(user: User) -> Select[tuple[Absence]]:
    """Return a query of the absences ``user`` may see: the deputy's all of them, a
    counsellor's their own and those they cover (all of the user's college)."""
    if acts_for_college(user):
        return select(Absence).where(
            Absence.counsellor_id.in_(select(User.id).where(college_accounts(user))))
    if keeps_caseload(user):
        return select(Absence).where(or_(
            Absence.counsellor_id == user.id,
            exists().where(AbsenceCover.absence_id == Absence.id,
                           AbsenceCover.covering_id == user.id),
        ))
    return select(Absence).where(false())


def _one_or_404(query: Select):
    """The one row of ``query``.

    :raise 404: if there is none.
    """
    found = db.session.scalars(query).one_or_none()
    if found is None:
        abort(404)
    return found


def get_absence_or_404(absence_id: int, user: User) -> Absence:
    """Load one absence the user may see.

    :raise 404: if it does not exist or ``user`` may not see it.
    """
    return _one_or_404(visible_absences(user).where(Absence.id == absence_id))


def student_filter(user: User) -> ColumnElement[bool]:
    """Return the SQL condition on ``Student`` that selects the students ``user`` may see."""
    if not _signed_in(user) or user.college_id is None:
        return false()
    if keeps_caseload(user):
        return and_(in_college(user), working_caseload_filter(user))
    if sees_whole_college(user):
        return and_(in_college(user), current_records())
    if has_referral_inbox(user):
        return in_college(user) & current_records() & exists().where(
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
        _follow_merge(student_id, user)
        refuse(user, student_id, f"student:{student_id}")
    return student


def _follow_merge(student_id: int, user: User) -> None:
    """Send a GET of a record merged into another to the same page of the surviving record,
    when ``user`` may see that one (an old link resolves); else return.

    :raise: the redirect (an HTTP exception answered as a 302).
    """
    from flask import redirect, request, url_for

    survivor_id = db.session.scalar(
        select(Student.merged_into_id).where(Student.id == student_id))
    if survivor_id is None or request.method != "GET" or not request.endpoint:
        return
    if db.session.scalar(visible_students(user).with_only_columns(Student.id).where(
            Student.id == survivor_id)) is None:
        return
    args = {**(request.view_args or {}), "student_id": survivor_id}
    if "student_id" not in (request.view_args or {}):
        return
    abort(redirect(url_for(request.endpoint, **args, **request.args.to_dict())))


def refuse(user: User, student_id: int | None, detail: str):
    """Audit a refused look at a student ("student.refused") and answer 404.

    :raise 404: always.
    """
    from flask import has_request_context

    from caretrack.services.audit import record_refusal
    from caretrack.web import client_address

    ip = client_address() if has_request_context() else ""
    record_refusal(user, student_id, detail=detail, ip=ip)
    abort(404)


def can_record_for(user: User, student: Student) -> bool:
    """Whether ``user`` may add entries to the student's timeline: their counsellor, or a
    colleague covering the counsellor's absence today."""
    return keeps_caseload(user) and (
        student.counsellor_id == user.id or is_covering(user, student)
    )


def get_recordable_student_or_404(student_id: int, user: User) -> Student:
    """Load a student whose timeline ``user`` records (their counsellor).

    :raise 404: for anyone else, and for a student the user may not see.
    """
    student = get_student_or_404(student_id, user)
    if not can_record_for(user, student):
        refuse(user, student_id, f"record:{student_id}")
    return student


def get_recordable_students_or_404(student_ids: list[int], user: User) -> list[Student]:
    """Load several students whose timelines ``user`` records (their counsellor), in the
    order given.

    :raise 404: if any of them is not the user's (nothing is loaded for the others).
    """
    ids = list(dict.fromkeys(student_ids))
    found = {s.id: s for s in db.session.scalars(
        visible_students(user).where(Student.id.in_(ids), working_caseload_filter(user))
    )} if ids and keeps_caseload(user) else {}
    if len(found) != len(ids):
        abort(404)
    return [found[i] for i in ids]


def can_transfer_students(user: User) -> bool:
    """Whether the user moves students to another counsellor's caseload (the deputy secretary
    from the case lists, the admin from the roster)."""
    return acts_for_college(user) or can_manage_roster(user)


def can_assign_supervisors(user: User) -> bool:
    """Whether the user sets students' academic supervisors (roster data: the admin)."""
    return can_manage_roster(user)


def takes_bulk_actions(user: User) -> bool:
    """Whether the user's lists offer bulk actions at all (which ones: see
    :func:`caretrack.services.bulk.may_use`)."""
    return can_read_cases(user) or can_manage_roster(user)


def transfer_filter(user: User) -> ColumnElement[bool]:
    """Return the SQL condition on ``Student`` that selects the students ``user`` may move to
    another counsellor: every current record of their college for the deputy and the admin,
    none for others."""
    return and_(in_college(user), current_records()) if can_transfer_students(user) else false()


def roster_students(user: User) -> Select[tuple[Student]]:
    """Return a query of the students whose roster data (names, numbers, assignments) ``user``
    may manage: the admin's and the deputy secretary's view of the whole college."""
    if can_manage_roster(user) or acts_for_college(user):
        return select(Student).where(in_college(user), current_records())
    return select(Student).where(false())


def visible_reports(user: User) -> Select[tuple[DailyReport]]:
    """Return a query of the counsellors' daily reports of the user's college that the user
    reads on the board (see :func:`reads_college_board`)."""
    if not reads_college_board(user):
        return select(DailyReport).where(false())
    return select(DailyReport).where(
        DailyReport.counsellor_id.in_(select(User.id).where(reporting_counsellors(user))))


def get_report_or_404(report_id: int, user: User) -> DailyReport:
    """Load one daily report of the user's college board.

    :raise 404: if it does not exist or is of another college.
    """
    return _one_or_404(visible_reports(user).where(DailyReport.id == report_id))


def visible_merges(user: User) -> Select[tuple[StudentMerge]]:
    """Return a query of the merges of student records the user may see (their college's)."""
    if not can_manage_roster(user):
        return select(StudentMerge).where(false())
    return select(StudentMerge).join(Student, Student.id == StudentMerge.survivor_id).where(
        in_college(user))


def get_merge_or_404(merge_id: int, user: User) -> StudentMerge:
    """Load one merge the user may see.

    :raise 404: if it does not exist or is of another college.
    """
    return _one_or_404(visible_merges(user).where(StudentMerge.id == merge_id))


def visible_audit_events(user: User) -> Select[tuple[AuditEvent]]:
    """Return a query of the audit events a college's admin reads: those of an account of
    the college, or about one of its students, and those of nobody about no student but
    those that name another college (a failed sign-in to another college's or the
    university's account, another college's purge)."""
    if not can_manage_roster(user):
        return select(AuditEvent).where(false())
    elsewhere = select(User.username).where(or_(User.college_id.is_(None),
                                                User.college_id != user.college_id))
    names_another_college = or_(
        and_(AuditEvent.action.in_(("login.failed", "login.throttled")),
             AuditEvent.detail.in_(elsewhere)),
        and_(AuditEvent.detail.like("college:%"),
             AuditEvent.detail.not_like(f"college:{user.college_id} %")),
    )
    return select(AuditEvent).where(or_(
        and_(AuditEvent.user_id.is_(None), AuditEvent.student_id.is_(None),
             ~names_another_college),
        AuditEvent.user_id.in_(select(User.id).where(college_accounts(user))),
        AuditEvent.student_id.in_(select(Student.id).where(in_college(user))),
    ))


# -- timelines and referrals ------------------------------------------------------------------


def entry_filter(user: User) -> ColumnElement[bool]:
    """Return the SQL condition on ``TimelineEntry`` that selects the entries of a visible
    student's timeline that ``user`` may read: a supervisor reads only the entries of the
    referrals made to them; the other case readers read the whole timeline."""
    if has_referral_inbox(user):
        return TimelineEntry.referral_id.in_(
            select(Referral.id).where(Referral.supervisor_id == user.id)
        )
    return true()


def visible_referrals(user: User) -> Select[tuple[Referral]]:
    """Return a query of the referrals ``user`` may see."""
    if has_referral_inbox(user):
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
        refused = db.session.get(Referral, referral_id)
        refuse(user, refused.student_id if refused else None, f"referral:{referral_id}")
    return referral


def is_referral_supervisor(user: User, referral: Referral) -> bool:
    """Whether ``user`` is the supervisor the referral was made to (and takes its steps)."""
    return has_referral_inbox(user) and referral.supervisor_id == user.id


def may_revoke_referrals_of(user: User, student: Student) -> bool:
    """Whether ``user`` may revoke referrals of this student at all: the student's counsellor or
    the deputy secretary."""
    return can_record_for(user, student) or acts_for_college(user)


def is_referral_revoker(user: User, referral: Referral) -> bool:
    """Whether ``user`` is one who may revoke the referral while it is open: the counsellor who
    made it, or the deputy secretary."""
    return _signed_in(user) and (
        user.id == referral.referred_by_id
        or (acts_for_college(user) and same_college(user, referral.student)))


def can_revoke_referral(user: User, referral: Referral) -> bool:
    """Whether ``user`` may revoke ``referral`` now: its counsellor or the deputy, while open."""
    return referral.state == ReferralState.OPEN and is_referral_revoker(user, referral)


# -- students' check-in links ------------------------------------------------------------------


def distributes_checkin_links(user: User) -> bool:
    """Whether the user hands out and rotates check-in links (for their own caseload and the
    classes they cover)."""
    return keeps_caseload(user)


def get_student_by_checkin_link_or_404(token: str) -> Student:
    """Load the student of a personal check-in link.

    :raise 404: for an unknown, malformed or rotated link, all alike.
    """
    from caretrack.services.checkin.links import find_link

    link = find_link(LinkKind.PERSONAL, token)
    student = db.session.get(Student, link.student_id) if link is not None else None
    if student is None:
        abort(404)
    return student


def get_class_link_or_404(token: str) -> CheckinLink:
    """Load a class check-in link.

    :raise 404: for an unknown, malformed or rotated link, all alike.
    """
    from caretrack.services.checkin.links import find_link

    link = find_link(LinkKind.CLASS, token)
    if link is None:
        abort(404)
    return link


def get_caseload_class_or_404(class_name: str, user: User) -> str:
    """A class with at least one student of the user's caseload (their own, or one they cover
    today).

    :raise 404: for any other class name.
    """
    found = distributes_checkin_links(user) and db.session.scalar(
        select(Student.id).where(working_caseload_filter(user),
                                 Student.class_name == class_name).limit(1)
    )
    if not found:
        abort(404)
    return class_name


# -- notices and early-return requests --------------------------------------------------------


def writes_notices(user: User) -> bool:
    """Whether the user publishes notices to students (a counsellor to their caseload, the
    deputy secretary to the college) and follows their coverage."""
    return keeps_caseload(user) or acts_for_college(user)


def notice_audiences(user: User) -> tuple[str, ...]:
    """The audiences the user may address: a counsellor their caseload or some of its
    classes; the deputy secretary the college, a programme, a cohort, classes or a care
    category."""
    if keeps_caseload(user):
        return (Audience.CASELOAD, Audience.CLASSES)
    if acts_for_college(user):
        return (Audience.COLLEGE, Audience.PROGRAMME, Audience.COHORT, Audience.CLASSES,
                Audience.CATEGORY)
    return ()


def visible_notices(user: User) -> Select[tuple[Notice]]:
    """Return a query of the notices ``user`` may see: the deputy every notice written in the
    college; a counsellor the notices they wrote and those that went to any of their students."""
    if acts_for_college(user):
        return select(Notice).where(
            Notice.author_id.in_(select(User.id).where(college_accounts(user))))
    if keeps_caseload(user):
        reached = exists().where(
            NoticeRecipient.notice_id == Notice.id,
            NoticeRecipient.student_id == Student.id,
            caseload_filter(user),
        )
        return select(Notice).where((Notice.author_id == user.id) | reached)
    return select(Notice).where(false())


def get_notice_or_404(notice_id: int, user: User) -> Notice:
    """Load one notice the user may see.

    :raise 404: if it does not exist or ``user`` may not see it.
    """
    return _one_or_404(visible_notices(user).where(Notice.id == notice_id))


def can_correct_notice(user: User, notice: Notice) -> bool:
    """Whether ``user`` may publish a correction of ``notice``: its author."""
    return writes_notices(user) and notice.author_id == user.id


def sees_stragglers(user: User) -> bool:
    """Whether the coverage page names who has not acknowledged (with their phone): only for
    the audience's counsellor, their own students; the deputy sees the numbers."""
    return keeps_caseload(user)


def get_student_notice_or_404(student: Student, notice_id: int) -> NoticeRecipient:
    """The student's own copy of a notice (the link's student only).

    :raise 404: for a notice that did not go to this student.
    """
    return _one_or_404(select(NoticeRecipient).where(
        NoticeRecipient.notice_id == notice_id, NoticeRecipient.student_id == student.id))


def handles_return_requests(user: User) -> bool:
    """Whether the user works early-return requests (the counsellor of the student, the
    deputy secretary who decides)."""
    return keeps_caseload(user) or acts_for_college(user)


def visible_return_requests(user: User) -> Select[tuple[ReturnRequest]]:
    """Return a query of the early-return requests ``user`` may see (of visible students)."""
    query = select(ReturnRequest).join(Student, ReturnRequest.student_id == Student.id)
    if not handles_return_requests(user):
        return query.where(false())
    return query.where(student_filter(user))


def get_return_request_or_404(request_id: int, user: User) -> ReturnRequest:
    """Load one early-return request the user may see.

    :raise 404: if it does not exist or ``user`` may not see its student.
    """
    found = db.session.scalars(
        visible_return_requests(user).where(ReturnRequest.id == request_id)
    ).one_or_none()
    if found is None:
        refused = db.session.get(ReturnRequest, request_id)
        refuse(user, refused.student_id if refused else None, f"return:{request_id}")
    return found


def can_recommend_return(user: User, request: ReturnRequest) -> bool:
    """Whether ``user`` recommends on the request and records the arrival: the student's
    counsellor."""
    return can_record_for(user, request.student)


def can_decide_return(user: User) -> bool:
    """Whether ``user`` approves or declines early-return requests (the deputy secretary)."""
    return acts_for_college(user)


def get_student_return_request_or_404(student: Student, request_id: int) -> ReturnRequest:
    """The link's student's own request.

    :raise 404: for another student's request, or one that does not exist.
    """
    return _one_or_404(select(ReturnRequest).where(
        ReturnRequest.id == request_id, ReturnRequest.student_id == student.id))


# -- jobs (imports, exports, long work) -------------------------------------------------------


def runs_jobs(user: User) -> bool:
    """Whether the user may have jobs of their own (any signed-in account)."""
    return _signed_in(user)


def job_filter(user: User) -> ColumnElement[bool]:
    """Return the SQL condition on ``Job`` that selects the jobs ``user`` may see: their own
    (what a job found or made can hold what only its owner may read)."""
    if not _signed_in(user):
        return false()
    return Job.owner_id == user.id


def visible_jobs(user: User) -> Select[tuple[Job]]:
    """Return a query of the jobs ``user`` may see."""
    return select(Job).where(job_filter(user))


def owns_job(user: User, job: Job) -> bool:
    """Whether ``job`` is ``user``'s own."""
    return _signed_in(user) and job.owner_id == user.id


def get_job_or_404(job_id: int, user: User) -> Job:
    """Load one of the user's own jobs.

    :raise 404: if it does not exist or is someone else's.
    """
    return _one_or_404(visible_jobs(user).where(Job.id == job_id))


# -- class group robots and the message log --------------------------------------------------


def manages_class_groups(user: User) -> bool:
    """Whether the user sets the robots of their classes' groups (a counsellor)."""
    return keeps_caseload(user)


def own_classes_filter(user: User) -> ColumnElement[bool]:
    """SQL on ``Student``: the students of the user's own caseload (not those they cover):
    their classes are the ones whose group robot the user sets."""
    if not manages_class_groups(user):
        return false()
    return caseload_filter(user)


def get_own_class_or_404(class_name: str, user: User) -> str:
    """A class of the user's own caseload, whose group robot they may set.

    :raise 404: for any other class name.
    """
    found = db.session.scalar(select(Student.id).where(
        own_classes_filter(user), Student.class_name == class_name).limit(1))
    if not found:
        abort(404)
    return class_name


def message_log_filter(user: User) -> ColumnElement[bool]:
    """SQL on ``MessageLog``: the messages the user sent or that are shown to them."""
    if not _signed_in(user):
        return false()
    return or_(MessageLog.sent_by_id == user.id, MessageLog.counsellor_id == user.id)


# -- guarding views -----------------------------------------------------------------------------


def requires(predicate: Callable[[User], bool]):
    """Guard a view (or a blueprint's ``before_request``): sign-in first, then ``predicate``.

    :raise 404: when the signed-in user fails ``predicate``, so a page the user may not use
        looks like one that does not exist.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if not predicate(current_user):
                abort(404)
            return view(*args, **kwargs)

        return guarded

    return decorator


#: The predicates templates may call, e.g. ``{% if sees_whole_college(current_user) %}``.
TEMPLATE_PREDICATES = {
    f.__name__: f
    for f in (
        keeps_caseload, sees_whole_college, acts_for_college, has_referral_inbox,
        can_read_cases, can_manage_roster, can_review, reads_review_queue, can_sign_off_reports,
        files_daily_report,
        works_rechecks, has_dashboard, reads_full_timeline, can_record_for,
        is_referral_supervisor, is_referral_revoker, may_revoke_referrals_of, can_revoke_referral,
        distributes_checkin_links, writes_notices, can_correct_notice, sees_stragglers,
        handles_return_requests, can_recommend_return, can_decide_return,
        records_absences, manages_absence_of, manages_retention, sees_retention,
        sees_access_log, exports_student_record, manages_colleges, manages_accounts,
        takes_part_in_sign_off, reads_university_reports, can_transfer_students,
        can_assign_supervisors,
        takes_bulk_actions, manages_class_groups, reads_college_board,
    )
}
