"""The values of a daily status: places and health as people write them, a student's status
for a day, and the counts over a set of students."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from caretrack.models import Health, StatusSource
from caretrack.services.errors import RuleError
from caretrack.services.places import normalise_place, place_key

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
CAMPUS_WORDS = {"在校", "校内", "学校", "留校", "oncampus", "campus"}

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


def normal_key(text: str) -> str:
    """Return ``text`` lower-cased without spaces, underscores, dashes or slashes."""
    return re.sub(r"[\s_\-/]+", "", str(text).lower())


HEALTH_VALUES = frozenset(h.value for h in Health)
_HEALTH_LOOKUP = {normal_key(h.value): h.value for h in Health}
for _health, _aliases in HEALTH_ALIASES.items():
    for _alias in _aliases:
        _HEALTH_LOOKUP[normal_key(_alias)] = _health.value

YES_WORDS = {"是", "在校", "y", "yes", "true", "1", "√", "✓", "oncampus"}
NO_WORDS = {"否", "不在校", "校外", "离校", "n", "no", "false", "0", "away", "×"}


def parse_health(text: str) -> str | None:
    """Return the Health value named by ``text`` (Chinese or English), or None."""
    return _HEALTH_LOOKUP.get(normal_key(text))


def normalise_province(text: str) -> str:
    """Return the province's short Chinese name ("湖北省", "Hubei" → "湖北"); unknown text as is."""
    text = (text or "").strip()
    if not text or text in _CANONICAL_PROVINCES:
        return text
    key = normal_key(text).removesuffix("province").removesuffix("shi")
    return _PROVINCE_NAMES.get(text) or _PROVINCE_NAMES.get(key) or text


def normalise_city(text: str) -> str:
    text = (text or "").strip()
    if len(text) > 2 and text.endswith("市"):
        text = text[:-1]
    return text


def parse_location(text: str) -> tuple[str, str, bool]:
    """Split a free-text place into (province, city, on campus)."""
    text = (text or "").strip()
    if normal_key(text) in CAMPUS_WORDS:
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
        changed = {
            name: (getattr(self, name), getattr(other, name))
            for name in TRACKED_FIELDS
            if getattr(self, name) != getattr(other, name)
        }
        # one place in two spellings is no move: places compare by their codes
        if ("province" in changed or "city" in changed) and place_key(
                self.province, self.city) == place_key(other.province, other.city):
            changed.pop("province", None)
            changed.pop("city", None)
        return changed


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
    #: Changes recorded while the day's report was submitted, waiting for review.
    after_submission: int = 0
    #: Changes recorded after the day's report was approved (they go into tomorrow's changes).
    after_approval: int = 0
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
        for name in ("students", "confirmed", "changes", "hubei", "beijing", "on_campus",
                     "after_submission", "after_approval"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, value in other.health.items():
            self.health[key] = self.health.get(key, 0) + value
        for key, value in other.by_source.items():
            self.by_source[key] = self.by_source.get(key, 0) + value



def check_values(values: StatusValues) -> StatusValues:
    """Return ``values`` with the place normalised (the campus when on campus without one).

    :raise RuleError: "invalid-health" (health), "missing-location" (province).
    """
    if values.health not in HEALTH_VALUES:
        raise RuleError("invalid-health", "health", detail=values.health)
    place = normalise_place(values.province, values.city)
    province, city = place.province, place.city
    if values.on_campus and not province:
        province, city = CAMPUS_LOCATION
    if not province:
        raise RuleError("missing-location", "province")
    if not city and province in MUNICIPALITIES:
        city = province
    return StatusValues(province[:50], city[:50], bool(values.on_campus), values.health)
