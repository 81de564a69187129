"""Re-export of the blueprint until the package defines it itself."""

from caretrack.students import exports  # noqa: E402,F401,I001
from caretrack.students.views import bp  # noqa: F401
