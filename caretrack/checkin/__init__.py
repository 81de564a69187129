"""Students' own daily check-in (no account: a class link or a personal link), and the
counsellor's distribution of the links."""

from flask import Blueprint

bp = Blueprint("checkin", __name__, cli_group="checkin")

from caretrack.checkin import cli, links, student  # noqa: E402,F401
