"""Template filters and globals: dates in the college's timezone, labels, categories."""

import re
from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, g, request, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from caretrack.access import TEMPLATE_PREDICATES
from caretrack.labels import CONCERN_BADGE, label
from caretrack.navigation import nav_items
from caretrack.services.clock import college_tz

#: The formats every row uses, written with strftime: digits only, the same in every language,
#: so a table of 50 rows asks Babel nothing.
PLAIN_DATETIME = {"yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M", "MM-dd HH:mm": "%m-%d %H:%M",
                  "HH:mm": "%H:%M"}
PLAIN_DATE = {"yyyy-MM-dd": "%Y-%m-%d", "MM-dd": "%m-%d"}


def local_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """Show a UTC datetime in the college's timezone."""
    if value is None:
        return ""
    plain = PLAIN_DATETIME.get(fmt)
    if plain is not None and value.tzinfo is not None:
        return value.astimezone(_college_tz()).strftime(plain)
    return format_datetime(value, fmt)


def local_date(value: date | None, fmt: str = "yyyy-MM-dd") -> str:
    if value is None:
        return ""
    plain = PLAIN_DATE.get(fmt)
    if plain is not None:
        return value.strftime(plain)
    return format_date(value, fmt)


def _college_tz() -> ZoneInfo:
    """The college's timezone, looked up once per request."""
    tz = g.get("_college_tz")
    if tz is None:
        tz = g._college_tz = college_tz()
    return tz


def row_url(endpoint: str, key: str, value, **values) -> str:
    """``url_for(endpoint, key=value, **values)`` for a row of a table: the URL is built once
    per page around a placeholder for ``key`` and each row only puts its value in, instead of
    asking the URL map once per row (``value`` is a row id: an int)."""
    cache = g.get("_row_urls")
    if cache is None:
        cache = g._row_urls = {}
    pattern = (endpoint, key, *sorted(values.items()))
    parts = cache.get(pattern)
    if parts is None:
        url = url_for(endpoint, **{key: ROW_PLACEHOLDER}, **values)
        head, found, tail = url.partition(str(ROW_PLACEHOLDER))
        parts = cache[pattern] = (head, tail) if found else None
    if parts is None:  # not a placeholder the URL keeps as it is: build it
        return url_for(endpoint, **{key: value}, **values)
    return f"{parts[0]}{int(value)}{parts[1]}"


#: The id put in a row URL built once per page (no row has it, an int converter takes it).
ROW_PLACEHOLDER = 987654321987


def category_name(category) -> str:
    """The category's name in the interface language."""
    if category is None:
        return ""
    return category.name_for(str(get_locale()))


def delivery_quantity(item: dict) -> str:
    """A delivery line's quantity with its unit: "2箱", "1.5 kg", "20" (no unit)."""
    quantity, unit = str(item.get("quantity", "")), (item.get("unit") or "").strip()
    if not unit:
        return quantity
    return f"{quantity} {unit}" if unit[0].isascii() else f"{quantity}{unit}"


def role_name(user) -> str:
    """The user's role in the interface language."""
    return label("role", user.role)


def url_with(**changes) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    query = urlencode(args, doseq=True)
    return request.path + ("?" + query if query else "")


#: An address in a notice's plain text, shown as a link (up to a space or a CJK character).
LINK = re.compile(r"https?://[^\s<>\"'\u3000-\u9fff\uff00-\uffef]+")


def linkify(text: str) -> Markup:
    """Plain text as HTML: everything escaped, web addresses as links that open safely."""
    parts, last = [], 0
    for match in LINK.finditer(text or ""):
        url = match.group(0).rstrip(".,;:!?)")
        start, end = match.start(), match.start() + len(url)
        parts.append(escape(text[last:start]))
        parts.append(Markup('<a href="{0}" rel="noopener noreferrer nofollow" '
                            'target="_blank">{0}</a>').format(url))
        last = end
    parts.append(escape((text or "")[last:]))
    return Markup("").join(parts)


def purged_text(day: date) -> str:
    """What a text deleted under the retention policy on ``day`` says, in the reader's
    language (the database holds the Chinese sentence)."""
    return _("Content deleted under the retention policy (%(day)s)", day=local_date(day))


def entry_text(entry) -> str:
    """A timeline entry's text as the page shows it: the sentence of a purge once purged."""
    return purged_text(entry.purged_on) if entry.purged_on else entry.body


def init_app(app: Flask) -> None:
    app.add_template_filter(linkify)
    app.add_template_filter(local_datetime)
    app.add_template_filter(local_date)
    app.add_template_filter(category_name)
    app.add_template_filter(delivery_quantity)
    app.add_template_filter(entry_text)
    app.add_template_filter(purged_text)
    app.add_template_global(label)
    app.add_template_global(role_name)
    app.add_template_global(url_with)
    app.add_template_global(row_url)
    app.add_template_global(nav_items)
    app.add_template_global(CONCERN_BADGE, "concern_badge")
    app.jinja_env.globals.update(TEMPLATE_PREDICATES)
