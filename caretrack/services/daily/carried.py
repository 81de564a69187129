"""The carry-forward, in SQL: each student's status on a day and on the day before, the counts
over a caseload or the college, and the lists of non-responders and changes."""

from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import Select, and_, bindparam, case, func, literal, or_, select, true
from sqlalchemy.orm import aliased

from caretrack.access import current_records
from caretrack.extensions import db
from caretrack.models import (
    DailyStatus,
    Health,
    ReportState,
    RiskArea,
    StatusSource,
    Student,
    User,
)
from caretrack.services.daily.values import (
    BEIJING,
    HUBEI,
    DayStatus,
    StatusValues,
    Totals,
    normalise_city,
)

#: Aliases of the status tables in the carry-forward queries (made once: building an alias
#: and adapting its columns costs more than running a caseload's query).
_ON_DAY = aliased(DailyStatus, name="on_day")
_EVE = aliased(DailyStatus, name="eve")
_OLDER = aliased(DailyStatus, name="older")


def _older(name: str, day: date):
    """SQL: a column of the student's latest status before ``day``, or NULL when there is none.

    Only reached (COALESCE stops at the first value) for a student without a status on the day
    before; the others cost two lookups by day, not a search per student.
    """
    row = _OLDER
    return (
        select(getattr(row, name))
        .where(row.student_id == Student.id, row.day < day)
        .order_by(row.day.desc())
        .limit(1)
        .correlate(Student)
        .scalar_subquery()
    )


def in_risk_area_condition(day: date, province, city):
    """SQL: whether a status's place (``province``, ``city`` columns) is in Hubei or in an area
    on the college's risk-area list on ``day`` (a listed province, or a listed city of it; one
    query for the list)."""
    areas = db.session.execute(select(RiskArea.province, RiskArea.city).where(
        RiskArea.from_date <= day, or_(RiskArea.to_date.is_(None), RiskArea.to_date >= day),
    )).all()
    listed = [
        and_(province == area_province,
             city.in_(_city_spellings(area_city)) if area_city else true())
        for area_province, area_city in areas
    ]
    return or_(province.in_(HUBEI), *listed)


def _city_spellings(name: str) -> tuple[str, ...]:
    """A city as statuses may hold it: with and without the trailing 市."""
    short = normalise_city(name)
    return (short, short + "市")


class Carried:
    """SQL expressions of every student's status on ``day`` and on the day before.

    The status of the day before is the eve's row, else the latest older one; the status on
    the day is the day's own row, else the one of the day before.
    """

    def __init__(self, day: date):
        self.day = day
        self.on_day = _ON_DAY
        self.eve = _EVE
        normal = literal(Health.NORMAL.value)
        self.province = self.current("province", Student.province)
        self.city = self.current("city", Student.city)
        self.on_campus = self.current("on_campus", Student.on_campus)
        self.health = self.current("health", normal)
        prev_province = self.previous("province", Student.province)
        prev_city = self.previous("city", Student.city)
        prev_on_campus = self.previous("on_campus", Student.on_campus)
        prev_health = self.previous("health", normal)
        on_day = self.on_day
        self.confirmed = on_day.id.is_not(None)
        self.missing = on_day.id.is_(None)
        #: Changed after the day's report was submitted / approved.
        self.after_submission = on_day.changed_after == ReportState.SUBMITTED.value
        self.after_approval = on_day.changed_after == ReportState.APPROVED.value
        #: A change recorded on the day before, after that day's report was approved: it
        #: belongs in this day's changes.
        self.late_from_eve = self.eve.changed_after == ReportState.APPROVED.value
        self.changed = or_(
            and_(
                self.confirmed,
                or_(
                    on_day.province != prev_province,
                    on_day.city != prev_city,
                    on_day.on_campus != prev_on_campus,
                    on_day.health != prev_health,
                ),
            ),
            self.late_from_eve,
        )
        self.in_hubei = self.province.in_(HUBEI)
        self.in_beijing = self.province.in_(BEIJING)
        self.in_risk_area = in_risk_area_condition(day, self.province, self.city)
        #: Abnormal health, or in Hubei or a risk area: the college report's sheet of concern.
        self.of_concern = or_(self.health != Health.NORMAL.value, self.in_hubei,
                              self.in_risk_area)

    def previous(self, name: str, *default):
        """SQL: the value of ``name`` in the student's status before the day (or ``default``)."""
        return func.coalesce(getattr(self.eve, name), _older(name, self.day), *default)

    def current(self, name: str, *default):
        """SQL: the value of ``name`` in the student's status on the day (or ``default``)."""
        return func.coalesce(
            getattr(self.on_day, name), getattr(self.eve, name), _older(name, self.day),
            *default,
        )

    def join(self, query):
        """Add the day's and the eve's statuses to a query over ``Student`` (outer joins)."""
        return query.select_from(Student).outerjoin(
            self.on_day,
            and_(self.on_day.student_id == Student.id, self.on_day.day == self.day),
        ).outerjoin(
            self.eve,
            and_(self.eve.student_id == Student.id, self.eve.day == self.day - timedelta(days=1)),
        )

    def columns(self) -> list:
        return [
            Student.id, Student.province, Student.city, Student.on_campus,
            *[self.current(name) for name in (
                "id", "day", "province", "city", "on_campus", "health", "note", "recorded_at",
                "source",
            )],
            *[self.previous(name) for name in ("province", "city", "on_campus", "health")],
        ]

    def status_of(self, row) -> DayStatus:
        (student_id, s_province, s_city, s_on_campus, cur_id, cur_day, province, city,
         on_campus, health, note, recorded_at, source, p_province, p_city, p_on_campus,
         p_health) = row[:17]
        roster = StatusValues(
            s_province or "", s_city or "", bool(s_on_campus), Health.NORMAL.value
        )
        previous = roster if p_health is None else StatusValues(
            p_province, p_city, bool(p_on_campus), p_health
        )
        values = roster if cur_id is None else StatusValues(
            province, city, bool(on_campus), health
        )
        return DayStatus(
            student_id=student_id, day=self.day, values=values, previous=previous,
            note=note or "", status_day=cur_day, recorded_at=recorded_at, source=source,
            row_id=cur_id if cur_day == self.day else None,
        )


def chunks(items: list, size: int = 900):
    """Yield ``items`` in slices of ``size`` (under the limit of bound parameters)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


@lru_cache(maxsize=4)
def _statuses_query(day: date) -> tuple[Carried, Select]:
    """The carry-forward query of ``day`` for the students ``:student_ids``, built once: building
    it, and SQLAlchemy's cache key of a new statement, cost more than running it for one
    student, as every check-in does. One statement object keeps its cache key."""
    carried = Carried(day)
    return carried, carried.join(select(*carried.columns())).where(
        Student.id.in_(bindparam("student_ids", expanding=True)))


def statuses_for(student_ids: list[int], day: date) -> dict[int, DayStatus]:
    """Return the carried status on ``day`` of several students, in one query per 900."""
    result: dict[int, DayStatus] = {}
    carried, statuses = _statuses_query(day)
    for chunk in chunks(list(student_ids)):
        for row in db.session.execute(statuses, {"student_ids": chunk}):
            status = carried.status_of(row)
            result[status.student_id] = status
    return result


def _counted(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


#: The students a tally counts: every current record, one counsellor's (``:counsellor_id``),
#: or some students (``:student_ids``).
TALLY_SCOPES = {
    "all": lambda: current_records(),
    "counsellor": lambda: and_(Student.counsellor_id == bindparam("counsellor_id"),
                               current_records()),
    "students": lambda: and_(Student.id.in_(bindparam("student_ids", expanding=True)),
                             current_records()),
}


def _tally_select(day: date, condition=None) -> Select:
    carried = Carried(day)
    health_columns = [_counted(carried.health == h.value) for h in Health]
    source_columns = [_counted(carried.on_day.source == s.value) for s in StatusSource]
    query = carried.join(
        select(
            Student.counsellor_id,
            func.count(Student.id),
            _counted(carried.confirmed),
            _counted(carried.changed),
            _counted(carried.in_hubei),
            _counted(carried.in_beijing),
            _counted(carried.on_campus == true()),
            _counted(carried.after_submission),
            _counted(carried.after_approval),
            *health_columns,
            *source_columns,
        )
    ).group_by(Student.counsellor_id)
    if condition is not None:
        query = query.where(condition)
    return query


@lru_cache(maxsize=16)
def tally_query(day: date, scope: str) -> Select:
    """The tally of ``day`` over a :data:`TALLY_SCOPES` scope, built once per day and scope:
    building its 30 sums and their cache key costs more than running it for a few students
    (a status write counts its students before and after)."""
    return _tally_select(day, TALLY_SCOPES[scope]())


def totals_of(rows) -> dict[int, Totals]:
    """Each counsellor's :class:`Totals` from the rows of a tally query."""
    result = {}
    for row in rows:
        (counsellor_id, students, confirmed, changes, hubei, beijing, on_campus,
         after_submission, after_approval) = row[:9]
        result[counsellor_id] = Totals(
            students=students, confirmed=int(confirmed), changes=int(changes),
            hubei=int(hubei), beijing=int(beijing), on_campus=int(on_campus),
            after_submission=int(after_submission), after_approval=int(after_approval),
            health={h.value: int(n) for h, n in zip(Health, row[9:9 + len(Health)], strict=True)},
            by_source={s.value: int(n) for s, n in zip(
                StatusSource, row[9 + len(Health):], strict=True)},
        )
    return result


def tally(day: date, condition=None) -> dict[int, Totals]:
    """Return each counsellor's totals for ``day`` over the students matching ``condition``
    (one query). The pages read the kept numbers instead (:mod:`.tallies`)."""
    return totals_of(db.session.execute(_tally_select(day, condition)))


def caseload_totals(counsellor: User, day: date) -> Totals:
    """Return the totals of one counsellor's caseload for ``day``: a past day's numbers kept
    by a purge of its statuses, once they were purged; else their kept row when the day is
    kept (:mod:`.tallies`)."""
    from caretrack.services.clock import college_today
    from caretrack.services.daily.tallies import counsellor_totals
    from caretrack.services.retention import kept_day_totals

    kept = kept_day_totals(day, counsellor) if day < college_today() else None
    if kept is not None:
        return kept.get(counsellor.id, Totals())
    return counsellor_totals(counsellor, day)


#: What the daily page's list shows: non-responders, changes, all, or the students confirmed
#: from one source (a :class:`StatusSource` value).
SHOW_CHOICES = ("missing", "changes", "all", *(s.value for s in StatusSource))


def students_query(condition, day: date, show: str):
    """Return a query of the students matching ``condition``, filtered to the day's
    non-responders, changes, or all, in class order."""
    carried = Carried(day)
    query = carried.join(select(Student)).where(condition)
    if show == "missing":
        query = query.where(carried.missing)
    elif show == "changes":
        query = query.where(carried.changed)
    elif show in {s.value for s in StatusSource}:
        query = query.where(carried.on_day.source == show)
    return query.order_by(Student.class_name, Student.student_number)


#: The board's numbers, each the condition of its list of students (see :func:`board_query`):
#: the place, health, confirmation and change counts the board shows.
#: Abnormal health (the university office counts fever apart from the others).
ABNORMAL = (Health.FEVER.value, Health.SYMPTOMS.value, Health.SUSPECTED.value,
            Health.CONFIRMED.value)
ISOLATED = (Health.ISOLATED_HOME.value, Health.ISOLATED_CENTRE.value)

BOARD_LISTS = {
    "students": lambda c: true(),
    "confirmed": lambda c: c.confirmed,
    "missing": lambda c: c.missing,
    "changes": lambda c: c.changed,
    "after_submission": lambda c: c.after_submission,
    "after_approval": lambda c: c.after_approval,
    "hubei": lambda c: c.in_hubei,
    "beijing": lambda c: c.in_beijing,
    "elsewhere": lambda c: or_(c.province.is_(None), c.province.not_in(HUBEI + BEIJING)),
    "on_campus": lambda c: c.on_campus == true(),
    "of_concern": lambda c: c.of_concern,
    "risk_area": lambda c: c.in_risk_area,
    "abnormal": lambda c: c.health.in_(ABNORMAL),
    "isolated": lambda c: c.health.in_(ISOLATED),
    **{h.value: (lambda c, h=h: c.health == h.value) for h in Health},
    **{f"source_{s.value}": (lambda c, s=s: c.on_day.source == s.value) for s in StatusSource},
}


def board_query(condition, day: date, what: str):
    """Return a query of the students matching ``condition`` who are in the board's list
    ``what`` (a :data:`BOARD_LISTS` key) on ``day``, in counsellor, class and number order."""
    carried = Carried(day)
    query = carried.join(select(Student)).join(
        User, User.id == Student.counsellor_id
    ).where(condition, BOARD_LISTS[what](carried))
    return query.order_by(User.username, Student.class_name, Student.student_number)


def status_rows(day: date, condition, *extra):
    """Return the carried-forward columns (and ``extra`` columns) of the students matching
    ``condition(carried)`` (all when None), in counsellor, class and number order."""
    carried = Carried(day)
    query = carried.join(
        select(*carried.columns(), *extra).join(User, User.id == Student.counsellor_id)
    )
    if condition is not None:
        query = query.where(condition(carried))
    return carried, query.order_by(User.username, Student.class_name, Student.student_number)

