"""The province and city options of the check-in page, as HTML built once per process.

Every name and value is escaped by ``Markup.format`` (``_option``, ``_group``).

The 34 provinces and 340 cities are the same for every student but the one selected; looping
over them in Jinja cost a third of the page's time (6 ms a request), joining prepared strings
costs a few microseconds.
"""

from functools import cache

from markupsafe import Markup

from caretrack.services.checkin.places import Province, provinces

EMPTY = Markup('<option value="">—</option>')
OPTION = Markup('<option value="{}">{}</option>')
SELECTED = Markup('<option value="{}" selected>{}</option>')
GROUP = Markup('<optgroup label="{}" data-province="{}">{}</optgroup>')


def _option(value: str, label: str, selected: bool) -> Markup:
    return (SELECTED if selected else OPTION).format(value, label)


def _group(province: Province, city: str | None) -> Markup:
    options = Markup("").join(_option(c.value, c.label, c.value == city)
                              for c in province.cities)
    return GROUP.format(province.label, province.value, options)


@cache
def _groups() -> tuple[tuple[str, Markup], ...]:
    """(province value, its <optgroup> with nothing selected), in the dataset's order."""
    return tuple((p.value, _group(p, None)) for p in provinces())


def province_options(selected: str | None) -> Markup:
    """The <option>s of the province select, ``selected`` (a stored value) selected."""
    return EMPTY + Markup("").join(
        _option(p.value, p.label, p.value == selected) for p in provinces())


def city_options(province: str | None, city: str | None) -> Markup:
    """The <optgroup>s of the city select (one per province), ``city`` of ``province``
    selected."""
    parts = [EMPTY]
    for p, (value, group) in zip(provinces(), _groups(), strict=True):
        parts.append(_group(p, city) if city and value == province else group)
    return Markup("").join(parts)
