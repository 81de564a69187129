"""Students' early-return requests: the counsellor recommends, the deputy decides, the
counsellor records the arrival."""

from flask import Blueprint

bp = Blueprint("returns", __name__)

from caretrack.returns import views  # noqa: E402,F401
