"""One normaliser for places: provinces and prefecture-level cities as people write them
("湖北省武汉市", "湖北 武汉", "武汉", "武汉市", "Hubei"), found in the vendored provinces-and-cities
dataset the check-in page offers (:mod:`caretrack.services.checkin.places`).

A place found there is stored by its codes and its names ("42"/"4201", "湖北"/"武汉"); one
that is not keeps its text, without codes. Two places are the same when their codes are
(:func:`place_key`); a municipality's districts are the municipality ("天津市/和平区" is 天津).
"""

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from caretrack.services.spreadsheets import clean_text

_SEPARATORS = re.compile(r"[\s,，/、\-|]+")
#: The endings of a prefecture's name that people leave out ("大兴安岭地区" → "大兴安岭").
_ENDINGS = re.compile(r"(?:地区|盟|市)$")
#: The peoples an autonomous prefecture's name holds: its short name is what comes before
#: them ("恩施土家族苗族自治州" → "恩施", also written "恩施州").
_PEOPLES = ("土家族", "苗族", "朝鲜族", "藏族", "羌族", "彝族", "布依族", "侗族", "哈尼族", "壮族",
            "傣族", "白族", "景颇族", "傈僳族", "回族", "蒙古族", "蒙古", "柯尔克孜", "哈萨克")


def _short_names(label: str) -> set[str]:
    """The names people write for a prefecture-level city besides its full name."""
    if label.endswith("自治州"):
        cut = min((label.index(p) for p in _PEOPLES if p in label), default=len(label) - 3)
        return {label[:cut], label[:cut] + "州"} if cut >= 2 else set()
    short = _ENDINGS.sub("", label)
    return {short} if len(short) >= 2 else set()


@dataclass(frozen=True)
class Place:
    #: As stored: the province's short name ("湖北") and the city's ("武汉").
    province: str
    city: str
    #: GB/T 2260 codes ("42", "4201"); "" when the dataset does not have the place.
    province_code: str = ""
    city_code: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """What two places are compared by: their codes, or their text when they have none."""
        return (self.province_code or self.province, self.city_code or self.city)


@cache
def _index():
    """(provinces by every name, cities by every name: [(province, city)])."""
    from caretrack.services.checkin.places import provinces
    from caretrack.services.daily.values import PROVINCES

    english = {short: eng for short, _full, eng in PROVINCES}
    by_name, cities = {}, {}
    for province in provinces():
        for name in (province.value, province.label, english.get(province.value, "")):
            if name:
                by_name[name.lower()] = province
        for city in province.cities:
            for name in {city.value, city.label, *_short_names(city.label)}:
                cities.setdefault(name, []).append((province, city))
    return by_name, cities


def _province(text: str):
    from caretrack.services.daily.values import normalise_province

    by_name, _cities = _index()
    return by_name.get(text.lower()) or by_name.get(normalise_province(text).lower())


def _city_in(province, text: str):
    if len(province.cities) == 1:
        return province.cities[0]  # a municipality (any district of it), Hong Kong, Macao
    _by_name, cities = _index()
    for name in (text, _ENDINGS.sub("", text)):
        found = [c for p, c in cities.get(name, []) if p is province]
        if found:
            return found[0]
    return None


def _split(text: str) -> tuple[str, str]:
    """A place in one cell into (province text, city text)."""
    parts = [p for p in _SEPARATORS.split(text) if p]
    if len(parts) >= 2:
        if _province(parts[0]) is None and _province(parts[-1]) is not None:
            return parts[-1], " ".join(parts[:-1])  # "Wuhan, Hubei"
        return parts[0], " ".join(parts[1:])
    by_name, _cities = _index()
    for name in sorted((n for n in by_name if not n.isascii()), key=len, reverse=True):
        if text.startswith(name) and len(text) > len(name):
            return name, text[len(name):]
    return text, ""


@lru_cache(maxsize=8192)
def normalise_place(province: str, city: str = "") -> Place:
    """The place that a province cell and a city cell name (either may hold both, or the
    city alone); unknown text is kept, cleaned, without codes."""
    province, city = clean_text(province or ""), clean_text(city or "")
    if not province and not city:
        return Place("", "")
    if not city or _province(province) is None:
        combined = province if not city else f"{province} {city}".strip()
        province, city = _split(combined)
    found = _province(province)
    if found is None:
        # a city without its province: "武汉", "武汉市"
        _by_name, cities = _index()
        matches = cities.get(province) or cities.get(_ENDINGS.sub("", province)) or []
        if len({p.code for p, _c in matches}) == 1 and not city:
            owner, match = matches[0]
            return Place(owner.value, match.value, owner.code, match.code)
        from caretrack.services.daily.values import normalise_city, normalise_province

        return Place(normalise_province(province), normalise_city(city))
    if not city and len(found.cities) != 1:
        return Place(found.value, "", found.code, "")
    match = _city_in(found, city)
    if match is None:
        from caretrack.services.daily.values import normalise_city

        return Place(found.value, normalise_city(city), found.code, "")
    return Place(found.value, match.value, found.code, match.code)


def place_key(province: str, city: str) -> tuple[str, str]:
    """What a stored place is compared by (see :attr:`Place.key`)."""
    return normalise_place(province, city).key


def place_codes(province: str, city: str) -> dict[str, str]:
    """The codes to store beside a place's names: {"province_code": ..., "city_code": ...}."""
    place = normalise_place(province, city)
    return {"province_code": place.province_code, "city_code": place.city_code}
