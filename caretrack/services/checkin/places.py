"""China's provinces and prefecture-level cities (GB/T 2260 codes), for the check-in page.

The mainland's divisions come from the vendored ``caretrack/data/china_division`` dataset
(see its README); Hong Kong, Macao and Taiwan are added here. Names are stored the way the daily
status stores them: the province's short name ("湖北") and the city without "市" ("武汉").
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from caretrack.services.daily.values import MUNICIPALITIES, normalise_city, normalise_province

DATA = Path(__file__).resolve().parent.parent.parent / "data" / "china_division"
#: What the check-in stores as the province of a student outside mainland China.
ABROAD = "境外"
#: Dataset entries that group a municipality's districts or a province's directly governed
#: counties; shown as the province's "other places".
_GROUPINGS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_EXTRA = [("71", "台湾省"), ("81", "香港特别行政区"), ("82", "澳门特别行政区")]


@dataclass(frozen=True)
class City:
    code: str
    #: As shown ("武汉市").
    label: str
    #: As stored ("武汉").
    value: str


@dataclass(frozen=True)
class Province:
    code: str
    label: str
    value: str
    cities: tuple[City, ...]


@cache
def provinces() -> tuple[Province, ...]:
    """Every province-level division with its prefecture-level cities, in code order."""
    raw_provinces = json.loads((DATA / "provinces.json").read_text(encoding="utf-8"))
    raw_cities = json.loads((DATA / "cities.json").read_text(encoding="utf-8"))
    by_province: dict[str, list[City]] = {}
    for city in raw_cities:
        by_province.setdefault(city["provinceCode"], []).append(city)
    result = []
    entries = [(p["code"], p["name"]) for p in raw_provinces] + _EXTRA
    for code, name in sorted(entries):
        value = normalise_province(name)
        cities = []
        for city in by_province.get(code, []):
            if city["name"] in _GROUPINGS:
                continue
            cities.append(City(city["code"], city["name"], normalise_city(city["name"])))
        if value in MUNICIPALITIES or not cities:
            cities = [City(code + "01", name, value)]
        result.append(Province(code, name, value, tuple(cities)))
    return tuple(result)


@cache
def _lookup() -> dict[str, Province]:
    return {p.value: p for p in provinces()}


def find_province(value: str) -> Province | None:
    """The province stored as ``value`` (any spelling normalise_province knows), or None."""
    return _lookup().get(normalise_province(value or ""))


def city_in(province: Province, value: str) -> City | None:
    """The city of ``province`` stored as ``value`` ("武汉", "武汉市"), or None."""
    wanted = normalise_city(value or "")
    return next((c for c in province.cities if c.value == wanted), None)
