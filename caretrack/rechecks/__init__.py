"""Re-export of the blueprint until the package defines it itself."""

from caretrack.rechecks.views import bp  # noqa: F401
