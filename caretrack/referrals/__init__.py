"""The referral inbox and each referral's thread."""

from flask import Blueprint

bp = Blueprint("referrals", __name__)

from caretrack.referrals import views  # noqa: E402,F401
