"""The deputy secretary's review queue of high-concern students."""

from flask import Blueprint

bp = Blueprint("review", __name__)
