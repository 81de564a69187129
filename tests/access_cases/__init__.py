"""The access matrix's cases, one module per area; see tests/test_access_matrix.py.

Each module defines ``CASES: dict[endpoint, Case]``. A Case says how to call the endpoint and
which roles may use it at all. ``args(world, role)`` returns the URL arguments for an object
the role may see and for one it may not (either may be None when the role has no such
object); by default they come from the URL's placeholders: ``{student}`` is a student the
role may / may not see, ``{user}`` the signed-in user.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

ROLES = ("counsellor", "supervisor", "deputy", "admin")
CASE_READERS = frozenset({"counsellor", "supervisor", "deputy"})


@dataclass
class Case:
    url: str
    roles: frozenset[str] | set[str]
    method: str = "GET"
    data: dict = field(default_factory=dict)
    #: Statuses that mean "answered" for an allowed role and a visible object.
    ok: tuple[int, ...] = (200,)
    args: Callable | None = None


def default_args(case: Case, world, role: str) -> tuple[dict | None, dict | None]:
    user = world.user(role)
    if "{student}" in case.url:
        visible = world.visible_student(role)
        invisible = world.invisible_student(role)
        return (
            {"student": visible.id, "user": user.id} if visible else None,
            {"student": invisible.id, "user": user.id} if invisible else None,
        )
    return {"user": user.id, "student": 0}, None


def all_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        overlap = set(cases) & set(module.CASES)
        assert not overlap, f"endpoints with two cases: {overlap}"
        cases.update(module.CASES)
    return cases
