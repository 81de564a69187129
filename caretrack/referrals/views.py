"""The supervisor's referral inbox and each referral's thread."""

from flask import Blueprint

bp = Blueprint("referrals", __name__)
