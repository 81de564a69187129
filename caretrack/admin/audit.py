"""The admin's audit log browser (routes on the admin blueprint)."""

from caretrack.admin.views import bp  # noqa: F401
