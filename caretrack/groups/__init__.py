"""Class group robots: each class's 企业微信 or DingTalk group robot, set by the class's
counsellor, and the log of the messages sent to the groups."""

from flask import Blueprint

bp = Blueprint("groups", __name__)

from caretrack.groups import views  # noqa: E402,F401
