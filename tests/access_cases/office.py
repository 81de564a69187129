"""The university office: every college's reports and their lists, nothing else."""

from tests.access_cases import Case

OFFICE = {"office"}


def office_lists(world, role):
    """The office's list of every student: the students of both colleges."""
    c = world.college
    return [c.own_student, c.other_student, c.foreign_student], []


CASES = {
    "office.board": Case("/office/", OFFICE),
    "office.students": Case("/office/students?what=students", OFFICE, shows=office_lists),
    "office.report": Case("/office/university-report.xlsx", OFFICE, ok=(302,)),
}
