"""Roster import (routes on the admin blueprint)."""

from caretrack.admin.views import bp  # noqa: F401
