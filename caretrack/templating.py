"""Template filters and globals: dates in the college's timezone, labels, categories."""

import re
from datetime import date, datetime
from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from caretrack.access import TEMPLATE_PREDICATES
from caretrack.labels import CONCERN_BADGE, label
from caretrack.navigation import nav_items


def local_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """Show a UTC datetime in the college's timezone."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def local_date(value: date | None, fmt: str = "yyyy-MM-dd") -> str:
    if value is None:
        return ""
    return format_date(value, fmt)


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
    app.add_template_global(nav_items)
    app.add_template_global(CONCERN_BADGE, "concern_badge")
    app.jinja_env.globals.update(TEMPLATE_PREDICATES)
