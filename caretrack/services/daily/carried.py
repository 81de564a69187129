"""The carry-forward, in SQL: each student's status on a day and on the day before, the counts
over a caseload or the college, and the lists of non-responders and changes."""

from datetime import date, timedelta

from sqlalchemy import and_, case, func, literal, or_, select, true
from sqlalchemy.orm import aliased

from caretrack.access import caseload_filter
from caretrack.extensions import db
from caretrack.models import DailyStatus, Health, StatusSource, Student, User
from caretrack.services.daily.values import BEIJING, HUBEI, DayStatus, StatusValues, Totals

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
        self.changed = and_(
            self.confirmed,
            or_(
                on_day.province != prev_province,
                on_day.city != prev_city,
                on_day.on_campus != prev_on_campus,
                on_day.health != prev_health,
            ),
        )

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


def statuses_for(student_ids: list[int], day: date) -> dict[int, DayStatus]:
    """Return the carried status on ``day`` of several students, in one query per 900."""
    result: dict[int, DayStatus] = {}
    carried = Carried(day)
    for chunk in chunks(list(student_ids)):
        query = carried.join(select(*carried.columns())).where(Student.id.in_(chunk))
        for row in db.session.execute(query):
            status = carried.status_of(row)
            result[status.student_id] = status
    return result


def _counted(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def tally(day: date, condition=None) -> dict[int, Totals]:
    """Return each counsellor's totals for ``day`` over the students matching ``condition``
    (one query)."""
    carried = Carried(day)
    health_columns = [_counted(carried.health == h.value) for h in Health]
    source_columns = [_counted(carried.on_day.source == s.value) for s in StatusSource]
    query = carried.join(
        select(
            Student.counsellor_id,
            func.count(Student.id),
            _counted(carried.confirmed),
            _counted(carried.changed),
            _counted(carried.province.in_(HUBEI)),
            _counted(carried.province.in_(BEIJING)),
            _counted(carried.on_campus == true()),
            *health_columns,
            *source_columns,
        )
    ).group_by(Student.counsellor_id)
    if condition is not None:
        query = query.where(condition)
    result = {}
    for row in db.session.execute(query):
        counsellor_id, students, confirmed, changes, hubei, beijing, on_campus = row[:7]
        result[counsellor_id] = Totals(
            students=students, confirmed=int(confirmed), changes=int(changes),
            hubei=int(hubei), beijing=int(beijing), on_campus=int(on_campus),
            health={h.value: int(n) for h, n in zip(Health, row[7:7 + len(Health)], strict=True)},
            by_source={s.value: int(n) for s, n in zip(
                StatusSource, row[7 + len(Health):], strict=True)},
        )
    return result


def caseload_totals(counsellor: User, day: date) -> Totals:
    """Return the totals of one counsellor's caseload for ``day``."""
    return tally(day, caseload_filter(counsellor)).get(counsellor.id, Totals())


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

