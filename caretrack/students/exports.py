"""Exports of the caseload list (routes on the students blueprint)."""

from caretrack.students.views import bp  # noqa: F401
