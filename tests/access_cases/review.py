from caretrack.models import ConcernLevel
from tests.access_cases import Case


def high_concern(world):
    world.college.other_student.concern_level = ConcernLevel.HIGH


CASES = {
    "review.index": Case("/review/", {"deputy"}, prepare=high_concern,
                         shows=lambda world, role: ([world.college.other_student], [])),
    "review.review": Case("/review/{student}", {"deputy"}),
    "review.flag": Case(
        "/review/flag/{student}", {"counsellor"}, method="POST", data={"reason": "情绪低落"},
        ok=(302,),
    ),
}
