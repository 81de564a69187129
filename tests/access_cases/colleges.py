"""The colleges: the university admin's alone."""

from tests.access_cases import Case

UNIVERSITY = {"university_admin"}


def college_args(world, role):
    """A college (the university admin sees every one; there is none it may not)."""
    return {"college": world.college.elsewhere.id}, None


CASES = {
    "colleges.index": Case("/colleges/", UNIVERSITY),
    "colleges.edit": Case("/colleges/{college}", UNIVERSITY, args=college_args),
}
