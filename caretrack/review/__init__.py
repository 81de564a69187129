"""Re-export of the blueprint until the package defines it itself."""

from caretrack.review.views import bp  # noqa: F401
