"""Daily status and daily reports: carry-forward, changes, non-responders, the check-in sheet,
submitting and signing off reports, and the college's report.

A student's status for day D is their latest :class:`DailyStatus` on or before D (their roster
location and "normal" health when they have none). A status is *confirmed* for D when it was
recorded on D; the students without one are the day's non-responders. A *change* is a status
recorded on D that differs from the status of D - 1 in location or health.

Statuses are recorded for the college's today only. A change needs an open report (none yet, or
returned); confirming an unchanged status is always possible. An approved report is locked.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, and_, case, func, insert, literal, or_, select, true, update
from sqlalchemy.orm import aliased

from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import (
    DailyReport,
    DailyStatus,
    EntryKind,
    Health,
    ReportState,
    Role,
    StatusSource,
    Student,
    User,
)
from caretrack.services.audit import record_event
from caretrack.services.clock import college_tz, local_datetime, local_today
from caretrack.services.spreadsheets import SpreadsheetError, match_headers, read_table, xlsx_bytes
from caretrack.services.timeline import add_entry


class DailyRuleError(ValueError):
    """A step the daily-report rules refuse; ``code`` says why, ``detail`` adds data."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


# -- places and health values ----------------------------------------------------------------

#: Province-level divisions: short Chinese name, full Chinese name, English names.
PROVINCES = [
    ("北京", "北京市", "beijing"), ("天津", "天津市", "tianjin"), ("上海", "上海市", "shanghai"),
    ("重庆", "重庆市", "chongqing"), ("河北", "河北省", "hebei"), ("山西", "山西省", "shanxi"),
    ("辽宁", "辽宁省", "liaoning"), ("吉林", "吉林省", "jilin"),
    ("黑龙江", "黑龙江省", "heilongjiang"), ("江苏", "江苏省", "jiangsu"),
    ("浙江", "浙江省", "zhejiang"), ("安徽", "安徽省", "anhui"), ("福建", "福建省", "fujian"),
    ("江西", "江西省", "jiangxi"), ("山东", "山东省", "shandong"), ("河南", "河南省", "henan"),
    ("湖北", "湖北省", "hubei"), ("湖南", "湖南省", "hunan"), ("广东", "广东省", "guangdong"),
    ("海南", "海南省", "hainan"), ("四川", "四川省", "sichuan"), ("贵州", "贵州省", "guizhou"),
    ("云南", "云南省", "yunnan"), ("陕西", "陕西省", "shaanxi"), ("甘肃", "甘肃省", "gansu"),
    ("青海", "青海省", "qinghai"), ("台湾", "台湾省", "taiwan"),
    ("内蒙古", "内蒙古自治区", "innermongolia"), ("广西", "广西壮族自治区", "guangxi"),
    ("西藏", "西藏自治区", "tibet"), ("宁夏", "宁夏回族自治区", "ningxia"),
    ("新疆", "新疆维吾尔自治区", "xinjiang"), ("香港", "香港特别行政区", "hongkong"),
    ("澳门", "澳门特别行政区", "macau"),
]
_PROVINCE_NAMES = {}
for _short, _full, _english in PROVINCES:
    for _alias in (_short, _full, _english):
        _PROVINCE_NAMES[_alias] = _short
_PROVINCE_NAMES.update({"neimenggu": "内蒙古", "xizang": "西藏", "macao": "澳门"})
_CANONICAL_PROVINCES = frozenset(_PROVINCE_NAMES.values())
#: Chinese names longest first, to split "湖北省武汉市" into province and city.
_PROVINCE_PREFIXES = sorted(
    [(full, short) for short, full, _ in PROVINCES] + [(s, s) for s, _, _ in PROVINCES],
    key=lambda pair: -len(pair[0]),
)
MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
#: How the totals recognise the two places the account counts apart.
HUBEI = ("湖北", "湖北省")
BEIJING = ("北京", "北京市")
#: Where an "on campus" student is, when the sheet gives no place.
CAMPUS_LOCATION = ("北京", "北京")
_CAMPUS_WORDS = {"在校", "校内", "学校", "留校", "oncampus", "campus"}

HEALTH_ALIASES = {
    Health.NORMAL: ("正常", "健康", "良好", "无异常", "normal", "healthy", "well"),
    Health.FEVER: ("发热", "发烧", "fever"),
    Health.SYMPTOMS: (
        "咳嗽或其他症状", "咳嗽", "其他症状", "有症状", "cough", "symptoms",
        "cough or other symptoms", "cough/other symptoms",
    ),
    Health.SUSPECTED: ("疑似", "疑似病例", "suspected", "suspected case"),
    Health.CONFIRMED: ("确诊", "确诊病例", "confirmed", "confirmed case"),
    Health.ISOLATED_HOME: (
        "居家隔离", "居家观察", "isolated at home", "home isolation", "home quarantine",
    ),
    Health.ISOLATED_CENTRE: (
        "集中隔离", "隔离点隔离", "集中隔离观察", "isolated at the centre",
        "isolated at the center", "isolated at centre", "centre isolation",
        "center isolation", "quarantine centre",
    ),
}


def _key(text: str) -> str:
    return re.sub(r"[\s_\-/]+", "", str(text).lower())


_HEALTH_VALUES = frozenset(h.value for h in Health)
_HEALTH_LOOKUP = {_key(h.value): h.value for h in Health}
for _health, _aliases in HEALTH_ALIASES.items():
    for _alias in _aliases:
        _HEALTH_LOOKUP[_key(_alias)] = _health.value

_YES = {"是", "在校", "y", "yes", "true", "1", "√", "✓", "oncampus"}
_NO = {"否", "不在校", "校外", "离校", "n", "no", "false", "0", "away", "×"}


def parse_health(text: str) -> str | None:
    """Return the Health value named by ``text`` (Chinese or English), or None."""
    return _HEALTH_LOOKUP.get(_key(text))


def normalise_province(text: str) -> str:
    """Return the province's short Chinese name ("湖北省", "Hubei" → "湖北"); unknown text as is."""
    text = (text or "").strip()
    if not text or text in _CANONICAL_PROVINCES:
        return text
    key = _key(text).removesuffix("province").removesuffix("shi")
    return _PROVINCE_NAMES.get(text) or _PROVINCE_NAMES.get(key) or text


def normalise_city(text: str) -> str:
    text = (text or "").strip()
    if len(text) > 2 and text.endswith("市"):
        text = text[:-1]
    return text


def parse_location(text: str) -> tuple[str, str, bool]:
    """Split a free-text place into (province, city, on campus)."""
    text = (text or "").strip()
    if _key(text) in _CAMPUS_WORDS:
        return (*CAMPUS_LOCATION, True)
    parts = [p for p in re.split(r"[\s,，/、\-]+", text) if p]
    if len(parts) >= 2:
        first, last = normalise_province(parts[0]), normalise_province(parts[-1])
        if first not in _CANONICAL_PROVINCES and last in _CANONICAL_PROVINCES:
            province, city = last, " ".join(parts[:-1])  # "Wuhan, Hubei"
        else:
            province, city = first, " ".join(parts[1:])
    else:
        province, city = text, ""
        for prefix, short in _PROVINCE_PREFIXES:
            if text.startswith(prefix):
                province, city = short, text[len(prefix):]
                break
        province = normalise_province(province)
    city = normalise_city(city)
    if not city and province in MUNICIPALITIES:
        city = province
    return province, city, False


# -- values ----------------------------------------------------------------------------------

#: The fields whose difference from yesterday makes a change (the note does not).
TRACKED_FIELDS = ("province", "city", "on_campus", "health")


@dataclass(frozen=True)
class StatusValues:
    """Where a student is and how they are."""

    province: str
    city: str
    on_campus: bool
    health: str

    def diff(self, other: "StatusValues") -> dict[str, tuple]:
        """Return {field: (self's value, other's value)} for the tracked fields that differ."""
        if self == other:
            return {}
        return {
            name: (getattr(self, name), getattr(other, name))
            for name in TRACKED_FIELDS
            if getattr(self, name) != getattr(other, name)
        }


@dataclass
class DayStatus:
    """One student's status for a day, with the day before's, as carried forward."""

    student_id: int
    day: date
    values: StatusValues
    previous: StatusValues
    note: str = ""
    #: Day of the status row it comes from; None when the student has none yet (roster).
    status_day: date | None = None
    recorded_at: datetime | None = None
    source: str | None = None
    row_id: int | None = None

    @property
    def confirmed(self) -> bool:
        return self.status_day == self.day

    @property
    def changes(self) -> dict[str, tuple]:
        """{field: (yesterday's value, today's value)}; empty unless confirmed on the day."""
        return self.previous.diff(self.values) if self.confirmed else {}


@dataclass
class Totals:
    """Counts over a set of students for one day."""

    students: int = 0
    confirmed: int = 0
    changes: int = 0
    hubei: int = 0
    beijing: int = 0
    on_campus: int = 0
    health: dict[str, int] = field(default_factory=lambda: {h.value: 0 for h in Health})
    #: Students confirmed on the day, by where the status came from (:class:`StatusSource`).
    by_source: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in StatusSource})

    @property
    def missing(self) -> int:
        return self.students - self.confirmed

    @property
    def elsewhere(self) -> int:
        return self.students - self.hubei - self.beijing

    def add(self, other: "Totals") -> None:
        for name in ("students", "confirmed", "changes", "hubei", "beijing", "on_campus"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, value in other.health.items():
            self.health[key] = self.health.get(key, 0) + value
        for key, value in other.by_source.items():
            self.by_source[key] = self.by_source.get(key, 0) + value


# -- the carry-forward, in SQL ---------------------------------------------------------------


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


class _Carried:
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


def _chunks(items: list, size: int = 900):
    for start in range(0, len(items), size):
        yield items[start:start + size]


@lru_cache(maxsize=4)
def _statuses_query(day: date) -> tuple[_Carried, Select]:
    """The carry-forward query of ``day``, built once (building it cost more than running it
    for one student, as every check-in does)."""
    carried = _Carried(day)
    return carried, carried.join(select(*carried.columns()))


def statuses_for(student_ids: list[int], day: date) -> dict[int, DayStatus]:
    """Return the carried status on ``day`` of several students, in one query per 900."""
    result: dict[int, DayStatus] = {}
    carried, statuses = _statuses_query(day)
    for chunk in _chunks(list(student_ids)):
        query = statuses.where(Student.id.in_(chunk))
        for row in db.session.execute(query):
            status = carried.status_of(row)
            result[status.student_id] = status
    return result


def _counted(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def tally(day: date, condition=None) -> dict[int, Totals]:
    """Return each counsellor's totals for ``day`` over the students matching ``condition``
    (one query)."""
    carried = _Carried(day)
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
    return tally(day, Student.counsellor_id == counsellor.id).get(counsellor.id, Totals())


#: What the daily page's list shows: non-responders, changes, all, or the students confirmed
#: from one source (a :class:`StatusSource` value).
SHOW_CHOICES = ("missing", "changes", "all", *(s.value for s in StatusSource))


def students_query(condition, day: date, show: str):
    """Return a query of the students matching ``condition``, filtered to the day's
    non-responders, changes, or all, in class order."""
    carried = _Carried(day)
    query = carried.join(select(Student)).where(condition)
    if show == "missing":
        query = query.where(carried.missing)
    elif show == "changes":
        query = query.where(carried.changed)
    elif show in {s.value for s in StatusSource}:
        query = query.where(carried.on_day.source == show)
    return query.order_by(Student.class_name, Student.student_number)


# -- reports and the deadline ----------------------------------------------------------------


def deadline(day: date) -> datetime:
    """The instant of the day's report deadline (DAILY_REPORT_DEADLINE, college time)."""
    return local_datetime(day, time.fromisoformat(current_app.config["DAILY_REPORT_DEADLINE"]))


def is_past_deadline(day: date, now: datetime) -> bool:
    return now > deadline(day)


def get_report(counsellor_id: int, day: date) -> DailyReport | None:
    return db.session.scalars(
        select(DailyReport).where(
            DailyReport.counsellor_id == counsellor_id, DailyReport.day == day
        )
    ).one_or_none()


def changes_allowed(report: DailyReport | None) -> bool:
    """Whether the day's statuses may still change: no report yet, or a returned one."""
    return report is None or report.state == ReportState.RETURNED


def report_status(report: DailyReport | None) -> str:
    """One word for the report's state: missing, submitted, returned or approved."""
    return "missing" if report is None else report.state


# -- recording statuses ----------------------------------------------------------------------


@dataclass
class StatusInput:
    """A status to record for one student; ``note`` None keeps the current note."""

    student_id: int
    values: StatusValues
    note: str | None = None


@dataclass
class ApplyResult:
    confirmed: int = 0
    changed: int = 0


def _check_values(values: StatusValues) -> StatusValues:
    if values.health not in _HEALTH_VALUES:
        raise DailyRuleError("invalid-health", values.health)
    province = normalise_province(values.province)
    city = normalise_city(values.city)
    if values.on_campus and not province:
        province, city = CAMPUS_LOCATION
    if not province:
        raise DailyRuleError("missing-location")
    if not city and province in MUNICIPALITIES:
        city = province
    return StatusValues(province[:50], city[:50], bool(values.on_campus), values.health)


def apply_statuses(
    counsellor: User, items: list[StatusInput], now: datetime,
    source: str = StatusSource.COUNSELLOR,
) -> ApplyResult:
    """Record today's status of several of the counsellor's students at once; each change is
    also a timeline entry.

    :raise DailyRuleError: "not-your-student", "duplicate-rows", "invalid-health",
        "missing-location", or "report-locked" when a change meets a submitted or approved
        report.
    """
    day = local_today(now)
    ids = [item.student_id for item in items]
    if len(set(ids)) != len(ids):
        raise DailyRuleError("duplicate-rows")
    if counsellor.role != Role.COUNSELLOR:
        raise DailyRuleError("not-your-student")
    own = set()
    for chunk in _chunks(ids):
        own.update(db.session.scalars(
            select(Student.id).where(Student.id.in_(chunk), Student.counsellor_id == counsellor.id)
        ))
    if own != set(ids):
        raise DailyRuleError("not-your-student")
    current = statuses_for(ids, day)
    planned = []
    for item in items:
        values = _check_values(item.values)
        status = current[item.student_id]
        planned.append((item, values, status, status.values.diff(values)))
    if any(changes for *_, changes in planned) and not changes_allowed(
        get_report(counsellor.id, day)
    ):
        raise DailyRuleError("report-locked")

    inserts, updates, result = [], [], ApplyResult()
    students = {}
    changed_ids = [item.student_id for item, _, _, changes in planned if changes]
    for chunk in _chunks(changed_ids):
        students.update({s.id: s for s in db.session.scalars(
            select(Student).where(Student.id.in_(chunk)))})
    for item, values, status, changes in planned:
        note = status.note if item.note is None else item.note.strip()[:2000]
        row = {
            "province": values.province, "city": values.city, "on_campus": values.on_campus,
            "health": values.health, "note": note, "source": str(source),
            "recorded_by_id": counsellor.id, "recorded_at": now,
        }
        if status.row_id is not None:
            updates.append({"id": status.row_id, **row})
        else:
            inserts.append({"student_id": item.student_id, "day": day, **row})
        result.confirmed += 1
        if changes:
            result.changed += 1
            add_entry(
                students[item.student_id], EntryKind.STATUS_CHANGE, counsellor,
                body=note if item.note is not None else "",
                occurred_at=now, now=now,
                details={
                    "day": day.isoformat(),
                    "source": str(source),
                    "changes": {
                        name: {"from": old, "to": new} for name, (old, new) in changes.items()
                    },
                },
            )
    if inserts:
        # Core executemany: a whole caseload in one statement, without ORM bookkeeping.
        db.session.execute(insert(DailyStatus.__table__), inserts)
    if updates:
        db.session.execute(update(DailyStatus), updates)
    db.session.flush()
    return result


def record_status(
    student: Student, by: User, values: StatusValues, now: datetime, *, note: str | None = None
) -> ApplyResult:
    """Record one student's status for today (see :func:`apply_statuses`)."""
    result = apply_statuses(by, [StatusInput(student.id, values, note)], now)
    record_event("daily_status.record", by, student.id)
    return result


def confirm_unchanged(student: Student, by: User, now: datetime) -> ApplyResult:
    """Confirm that the student's carried-forward status still holds today."""
    status = statuses_for([student.id], local_today(now))[student.id]
    return record_status(student, by, status.values, now)


# -- the check-in sheet ----------------------------------------------------------------------

SHEET_COLUMNS = {
    "student_number": ("学号", "student number", "student no", "student no.", "student id"),
    "name": ("姓名", "name", "student name"),
    "province": ("省份", "所在省份", "省", "province"),
    "city": ("城市", "所在城市", "所在市", "市", "city"),
    "location": ("所在地", "当前所在地", "现居地", "所在地区", "location", "current location"),
    "on_campus": ("是否在校", "在校", "on campus"),
    "health": ("健康状况", "身体状况", "健康状态", "health", "health status"),
    "note": ("备注", "note", "notes", "remarks"),
}
MAX_SHEET_ROWS = 5000


@dataclass
class SheetProblem:
    """Why a sheet, or one of its rows, is refused: ``row`` None for the whole sheet."""

    code: str
    row: int | None = None
    value: str = ""


@dataclass
class PreviewRow:
    row: int
    student: Student
    values: StatusValues
    note: str | None
    #: The student's status now (today's, or carried forward).
    before: StatusValues
    changes: dict[str, tuple]


@dataclass
class UploadPreview:
    day: date
    rows: list[PreviewRow] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    #: Students of the caseload not in the sheet (they stay non-responders unless confirmed).
    not_in_sheet: int = 0
    report_locked: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def changed_rows(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.changes]

    @property
    def unchanged(self) -> int:
        return len(self.rows) - len(self.changed_rows)


def _parse_on_campus(text: str) -> bool | None:
    key = _key(text)
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueError(text)


def preview_upload(counsellor: User, filename: str, data: bytes, now: datetime) -> UploadPreview:
    """Read a check-in sheet and say what it would change, and every bad row; writes nothing."""
    day = local_today(now)
    preview = UploadPreview(day=day)
    try:
        table = read_table(filename, data)
        columns = match_headers(table.headers, SHEET_COLUMNS, ("student_number", "health"))
    except SpreadsheetError as exc:
        preview.problems.append(SheetProblem(exc.code, value=exc.detail))
        return preview
    if "province" not in columns and "location" not in columns:
        preview.problems.append(SheetProblem("missing-columns", value="location"))
        return preview
    if not table.rows:
        preview.problems.append(SheetProblem("no-rows"))
        return preview
    if len(table.rows) > MAX_SHEET_ROWS:
        preview.problems.append(SheetProblem("too-many-rows", value=str(MAX_SHEET_ROWS)))
        return preview

    def cell(cells: list[str], name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    caseload = {
        s.student_number: s
        for s in db.session.scalars(select(Student).where(Student.counsellor_id == counsellor.id))
    }
    # A number that lost its leading zeros in a spreadsheet program still finds its student.
    unpadded = defaultdict(list)
    for number, student in caseload.items():
        unpadded[number.lstrip("0")].append(student)
    current = statuses_for([s.id for s in caseload.values()], day)
    seen: dict[str, int] = {}
    for row_number, cells in table.rows:
        problems = []
        number = cell(cells, "student_number")
        student = caseload.get(number)
        if student is None and number and len(unpadded.get(number.lstrip("0"), [])) == 1:
            student = unpadded[number.lstrip("0")][0]
        if not number:
            problems.append(SheetProblem("missing-student-number", row_number))
        elif student is None:
            # Unknown numbers and other counsellors' students get the same answer.
            problems.append(SheetProblem("not-your-student", row_number, number))
        elif student.student_number in seen:
            problems.append(SheetProblem(
                "duplicate-row", row_number, f"{number}:{seen[student.student_number]}"
            ))
        else:
            seen[student.student_number] = row_number
        name = cell(cells, "name")
        if student is not None and name and "".join(name.split()) != "".join(student.name.split()):
            problems.append(SheetProblem("name-mismatch", row_number, f"{number}:{name}"))
        health_text = cell(cells, "health")
        health = parse_health(health_text)
        if health is None:
            problems.append(SheetProblem("invalid-health", row_number, health_text))
        on_campus_text = cell(cells, "on_campus")
        on_campus = None
        if on_campus_text:
            try:
                on_campus = _parse_on_campus(on_campus_text)
            except ValueError:
                problems.append(SheetProblem("invalid-on-campus", row_number, on_campus_text))
        if "province" in columns:
            province = normalise_province(cell(cells, "province"))
            city = normalise_city(cell(cells, "city"))
            campus_word = _key(province) in _CAMPUS_WORDS
            if campus_word:
                province, city = CAMPUS_LOCATION
            if not city and province in MUNICIPALITIES:
                city = province
        else:
            province, city, campus_word = parse_location(cell(cells, "location"))
            if not city and "city" in columns:
                city = normalise_city(cell(cells, "city"))
        if on_campus is None:
            on_campus = campus_word
            if not campus_word and student is not None:
                carried = current[student.id].values
                on_campus = carried.on_campus and (province, city) == (
                    carried.province, carried.city
                )
        if on_campus and not province:
            province, city = CAMPUS_LOCATION
        if not province:
            problems.append(SheetProblem("missing-location", row_number))
        if problems:
            preview.problems.extend(problems)
            continue
        values = StatusValues(province[:50], city[:50], on_campus, health)
        note = cell(cells, "note") if "note" in columns else None
        before = current[student.id].values
        preview.rows.append(PreviewRow(
            row=row_number, student=student, values=values, note=note, before=before,
            changes=before.diff(values),
        ))
    preview.not_in_sheet = len(caseload) - len(seen)
    if preview.changed_rows and not changes_allowed(get_report(counsellor.id, day)):
        preview.report_locked = True
        preview.problems.append(SheetProblem("report-locked"))
    if preview.problems:
        preview.rows = []
    return preview


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="daily-checkin-sheet")


#: How long a previewed sheet may wait for its confirmation.
UPLOAD_MAX_AGE = 3600


def upload_token(counsellor: User, preview: UploadPreview) -> str:
    """Sign the previewed rows, so the confirmation applies exactly what was shown."""
    rows = [
        [r.student.id, r.values.province, r.values.city, r.values.on_campus, r.values.health,
         r.note]
        for r in preview.rows
    ]
    return _serializer().dumps({"c": counsellor.id, "d": preview.day.isoformat(), "r": rows})


def apply_upload(counsellor: User, token: str, now: datetime) -> ApplyResult:
    """Record the statuses of a previewed sheet.

    :raise DailyRuleError: "upload-expired" for a bad, old or other user's token, or any error
        of :func:`apply_statuses`.
    """
    try:
        payload = _serializer().loads(token, max_age=UPLOAD_MAX_AGE)
    except (BadSignature, SignatureExpired) as exc:
        raise DailyRuleError("upload-expired") from exc
    if payload.get("c") != counsellor.id or payload.get("d") != local_today(now).isoformat():
        raise DailyRuleError("upload-expired")
    items = [
        StatusInput(student_id, StatusValues(province, city, bool(on_campus), health), note)
        for student_id, province, city, on_campus, health, note in payload["r"]
    ]
    result = apply_statuses(counsellor, items, now, source=StatusSource.UPLOAD)
    record_event("daily_status.upload", counsellor, detail=f"rows:{len(items)}")
    return result


def checkin_sheet_rows(counsellor: User, day: date) -> tuple[list[str], list[list]]:
    """Return the headers and rows of a check-in sheet pre-filled with the caseload's status."""
    carried = _Carried(day)
    query = carried.join(
        select(*carried.columns(), Student.student_number, Student.name, Student.class_name)
    ).where(Student.counsellor_id == counsellor.id).order_by(
        Student.class_name, Student.student_number
    )
    headers = [_("Student number"), _("Name"), _("Class"), _("Province"), _("City"),
               _("On campus"), _("Health"), _("Note")]
    rows = []
    for row in db.session.execute(query):
        status = carried.status_of(row)
        number, name, class_name = row[17:]
        rows.append([
            number, name, class_name, status.values.province, status.values.city,
            _("Yes") if status.values.on_campus else _("No"),
            label("health", status.values.health), status.note,
        ])
    return headers, rows


# -- submitting and reviewing reports --------------------------------------------------------


def submit_report(
    counsellor: User, day: date, now: datetime, *, note: str = "", zero: bool = False
) -> DailyReport:
    """Submit (or, once returned, resubmit) the counsellor's report of ``day``'s changes.

    With no change it is a zero report. Late when first submitted after the day's deadline.

    :raise DailyRuleError: "not-a-counsellor", "future-day", "not-zero" (detail: the number of
        changes) for a zero report of a day with changes, "already-submitted", "locked".
    """
    if counsellor.role != Role.COUNSELLOR:
        raise DailyRuleError("not-a-counsellor")
    if day > local_today(now):
        raise DailyRuleError("future-day")
    changes = caseload_totals(counsellor, day).changes
    if zero and changes:
        raise DailyRuleError("not-zero", str(changes))
    report = get_report(counsellor.id, day)
    if report is not None and report.state == ReportState.SUBMITTED:
        raise DailyRuleError("already-submitted")
    if report is not None and report.state == ReportState.APPROVED:
        raise DailyRuleError("locked")
    if report is None:
        report = DailyReport(
            counsellor_id=counsellor.id, day=day, submitted_at=now,
            late=is_past_deadline(day, now),
        )
        db.session.add(report)
    else:
        report.resubmitted_at = now
    report.state = ReportState.SUBMITTED
    report.is_zero = changes == 0
    report.changes_count = changes
    report.note = (note or "").strip()[:2000]
    db.session.flush()
    record_event("daily_report.submit", counsellor, detail=f"report:{report.id}")
    return report


def review_report(
    report: DailyReport, by: User, now: datetime, *, approve: bool, comment: str = ""
) -> DailyReport:
    """Approve (locking it) or return a submitted report, with a comment.

    :raise DailyRuleError: "not-deputy", "not-submitted" (returned or approved already),
        "comment-required" to return without a comment.
    """
    if by.role != Role.DEPUTY_SECRETARY:
        raise DailyRuleError("not-deputy")
    if report.state != ReportState.SUBMITTED:
        raise DailyRuleError("not-submitted")
    comment = (comment or "").strip()[:2000]
    if not approve and not comment:
        raise DailyRuleError("comment-required")
    report.state = ReportState.APPROVED if approve else ReportState.RETURNED
    report.reviewed_by_id = by.id
    report.reviewed_at = now
    report.review_comment = comment
    db.session.flush()
    action = "daily_report.approve" if approve else "daily_report.return"
    record_event(action, by, detail=f"report:{report.id}")
    return report


# -- the board and the college report --------------------------------------------------------


@dataclass
class BoardRow:
    counsellor: User
    report: DailyReport | None
    totals: Totals

    @property
    def status(self) -> str:
        return report_status(self.report)


@dataclass
class Board:
    day: date
    deadline: datetime
    past_deadline: bool
    rows: list[BoardRow]
    totals: Totals

    @property
    def ready(self) -> bool:
        """Whether every counsellor's report of the day is approved."""
        return bool(self.rows) and all(r.status == ReportState.APPROVED for r in self.rows)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)


def board(day: date, now: datetime) -> Board:
    """Return each counsellor's report and totals for ``day``, and the college's (3 queries)."""
    per_counsellor = tally(day)
    reports = {
        r.counsellor_id: r
        for r in db.session.scalars(select(DailyReport).where(DailyReport.day == day))
    }
    ids = set(per_counsellor) | set(reports)
    counsellors = db.session.scalars(
        select(User).where(User.id.in_(ids), User.role == Role.COUNSELLOR)
        .order_by(User.username)
    ).all() if ids else []
    totals = Totals()
    rows = []
    for counsellor in counsellors:
        mine = per_counsellor.get(counsellor.id, Totals())
        totals.add(mine)
        rows.append(BoardRow(counsellor, reports.get(counsellor.id), mine))
    return Board(day=day, deadline=deadline(day), past_deadline=is_past_deadline(day, now),
                 rows=rows, totals=totals)


def _local_text(value: datetime | None) -> str:
    return value.astimezone(college_tz()).strftime("%Y-%m-%d %H:%M") if value else ""


def location_text(values: StatusValues) -> str:
    """The place as people write it: "湖北 武汉", or "On campus"."""
    if values.on_campus:
        return _("On campus")
    if values.city and values.city != values.province:
        return f"{values.province} {values.city}"
    return values.province


@dataclass
class ChangeRow:
    student_number: str
    name: str
    class_name: str
    counsellor: str
    before: StatusValues
    after: StatusValues
    note: str


def _status_rows(day: date, condition, *extra):
    carried = _Carried(day)
    query = carried.join(
        select(*carried.columns(), *extra).join(User, User.id == Student.counsellor_id)
    )
    if condition is not None:
        query = query.where(condition(carried))
    return carried, query.order_by(User.username, Student.class_name, Student.student_number)


def changes_for(day: date, counsellor_id: int | None = None) -> list[ChangeRow]:
    """Return the day's changes since yesterday, for one counsellor or the whole college."""

    def condition(carried):
        cond = carried.changed
        return cond if counsellor_id is None else and_(cond, Student.counsellor_id == counsellor_id)

    carried, query = _status_rows(
        day, condition, Student.student_number, Student.name, Student.class_name,
        User.display_name,
    )
    rows = []
    for row in db.session.execute(query):
        status = carried.status_of(row)
        number, name, class_name, counsellor = row[17:]
        rows.append(ChangeRow(number, name, class_name, counsellor, status.previous,
                              status.values, status.note))
    return rows


def _change_text(change: ChangeRow) -> str:
    parts = []
    if location_text(change.before) != location_text(change.after):
        parts.append(_("location %(before)s → %(after)s", before=location_text(change.before),
                       after=location_text(change.after)))
    if change.before.health != change.after.health:
        parts.append(_("health %(before)s → %(after)s",
                       before=label("health", change.before.health),
                       after=label("health", change.after.health)))
    return _("; ").join(parts)


def _require_ready(day: date, now: datetime) -> Board:
    result = board(day, now)
    if not result.ready:
        raise DailyRuleError("not-ready")
    return result


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def college_report_sheets(day: date, now: datetime) -> list[tuple[str, list[str], list]]:
    """Return the sheets of the college's report of ``day``: summary, changes, every student.

    :raise DailyRuleError: "not-ready" until every report of the day is approved.
    """
    result = _require_ready(day, now)
    totals = result.totals
    summary = [
        [_("Date"), day.isoformat()],
        [_("Students"), totals.students],
        [_("In Hubei"), totals.hubei],
        [_("In Beijing"), totals.beijing],
        [_("Elsewhere"), totals.elsewhere],
        [_("On campus"), totals.on_campus],
        *[[label("health", h), totals.health[h.value]] for h in Health],
        [_("Changes since yesterday"), totals.changes],
        [_("No status confirmed for the day"), totals.missing],
        [],
        [_("Counsellor"), _("Students"), _("Report"), _("Changes"), _("Zero report"),
         _("Submitted at"), _("Late"), _("Approved by"), _("Approved at")],
    ]
    for row in result.rows:
        report = row.report
        summary.append([
            row.counsellor.display_name, row.totals.students, label("report_state", report.state),
            report.changes_count, _yes_no(report.is_zero), _local_text(report.submitted_at),
            _yes_no(report.late), report.reviewed_by.display_name if report.reviewed_by else "",
            _local_text(report.reviewed_at),
        ])
    changes = [
        [c.student_number, c.name, c.class_name, c.counsellor, location_text(c.before),
         location_text(c.after), label("health", c.before.health),
         label("health", c.after.health), c.note]
        for c in changes_for(day)
    ]
    carried, query = _status_rows(
        day, None, Student.student_number, Student.name, Student.programme, Student.class_name,
        User.display_name,
    )

    def roster():
        for row in db.session.execute(query):
            status = carried.status_of(row)
            number, name, programme, class_name, counsellor = row[17:]
            yield [
                number, name, label("programme", programme), class_name, counsellor,
                status.values.province, status.values.city, _yes_no(status.values.on_campus),
                label("health", status.values.health), _yes_no(status.confirmed),
                _yes_no(bool(status.changes)), status.note,
            ]

    return [
        (_("Summary"), [_("Item"), _("Number")], summary),
        (_("Changes since yesterday"), [_("Student number"), _("Name"), _("Class"),
                                        _("Counsellor"),
                        _("Location yesterday"), _("Location today"), _("Health yesterday"),
                        _("Health today"), _("Note")], changes),
        (_("All students"), [_("Student number"), _("Name"), _("Programme"), _("Class"),
                             _("Counsellor"), _("Province"), _("City"), _("On campus"),
                             _("Health"), _("Confirmed for the day"), _("Changed"), _("Note")],
         roster()),
    ]


def college_report_xlsx(day: date, now: datetime) -> bytes:
    """Return the college's report of ``day`` as an XLSX workbook (see college_report_sheets)."""
    return xlsx_bytes(college_report_sheets(day, now))


#: How many changes the plain-text summary lists before referring to the spreadsheet.
TEXT_CHANGES_LIMIT = 50


def college_report_text(day: date, now: datetime) -> str:
    """Return the college's report of ``day`` as plain text, ready to paste into an email.

    :raise DailyRuleError: "not-ready" until every report of the day is approved.
    """
    result = _require_ready(day, now)
    t = result.totals
    health = _("; ").join(f"{label('health', h)} {t.health[h.value]}" for h in Health)
    lines = [
        _("Students' daily status, %(day)s", day=day.isoformat()),
        "",
        _("Students: %(students)d. In Hubei: %(hubei)d; in Beijing: %(beijing)d; elsewhere: "
          "%(elsewhere)d. On campus: %(on_campus)d.", students=t.students, hubei=t.hubei,
          beijing=t.beijing, elsewhere=t.elsewhere, on_campus=t.on_campus),
        _("Health: %(list)s.", list=health),
        _("Changes since yesterday: %(num)d.", num=t.changes),
    ]
    changes = changes_for(day)
    for change in changes[:TEXT_CHANGES_LIMIT]:
        lines.append(_("- %(number)s %(name)s (%(class_name)s): %(what)s",
                       number=change.student_number, name=change.name,
                       class_name=change.class_name, what=_change_text(change)))
    if len(changes) > TEXT_CHANGES_LIMIT:
        lines.append(_("… and %(num)d more, listed in the spreadsheet.",
                       num=len(changes) - TEXT_CHANGES_LIMIT))
    if t.missing:
        lines.append(_("No status confirmed on the day: %(num)d students (their last known "
                       "status is counted).", num=t.missing))
    lines += ["", _("Reports of the counsellors:")]
    for row in result.rows:
        kind = _("zero report") if row.report.is_zero else _(
            "%(num)d changes", num=row.report.changes_count
        )
        late = _(", late") if row.report.late else ""
        lines.append(_("- %(name)s: %(what)s", name=row.counsellor.display_name,
                       what=kind + late))
    return "\n".join(lines) + "\n"


def send_college_report(day: date, now: datetime, recipients: list[str]) -> list[str]:
    """Email the college's report of ``day`` to each recipient once; return who got it now.

    :raise DailyRuleError: "not-ready" until every report of the day is approved.
    """
    from caretrack.services.mail import build_message, send_once

    body = college_report_text(day, now)
    attachment = college_report_xlsx(day, now)
    subject = _("Students' daily status, %(day)s", day=day.isoformat())
    filename = f"college-report-{day.isoformat()}.xlsx"
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sent = []
    for address in recipients:
        message = build_message(address, subject, body, [(filename, attachment, mimetype)])
        if send_once(f"college-report:{day.isoformat()}:{address}", message):
            sent.append(address)
    return sent


# -- the landing page's card -----------------------------------------------------------------


@dataclass
class LandingSummary:
    """Today's report at a glance, for the landing page of a counsellor or the deputy."""

    kind: str
    day: date
    deadline: datetime
    past_deadline: bool
    status: str = "missing"
    report: DailyReport | None = None
    totals: Totals | None = None
    #: Deputy secretary: how many reports are in each state.
    counts: dict[str, int] = field(default_factory=dict)
    expected: int = 0


def landing_summary(user: User, now: datetime) -> LandingSummary | None:
    """Return today's report card data for a counsellor or the deputy secretary, else None."""
    day = local_today(now)
    if user.role == Role.COUNSELLOR:
        report = get_report(user.id, day)
        return LandingSummary(
            kind="counsellor", day=day, deadline=deadline(day),
            past_deadline=is_past_deadline(day, now), status=report_status(report),
            report=report, totals=caseload_totals(user, day),
        )
    if user.role == Role.DEPUTY_SECRETARY:
        result = board(day, now)
        counts = {s: result.count(s) for s in ("missing", *[x.value for x in ReportState])}
        return LandingSummary(
            kind="deputy", day=day, deadline=result.deadline, past_deadline=result.past_deadline,
            totals=result.totals, counts=counts, expected=len(result.rows),
        )
    return None

