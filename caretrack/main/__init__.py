"""Re-export of the blueprint until the package defines it itself."""

from caretrack.main import dashboard  # noqa: E402,F401,I001
from caretrack.main.views import bp  # noqa: F401
