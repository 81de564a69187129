"""Daily status, the counsellor's daily report and the deputy secretary's board."""

from flask import Blueprint

bp = Blueprint("reports", __name__)
