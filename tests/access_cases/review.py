from caretrack.models import ConcernLevel
from tests.access_cases import Case


def high_concern(world):
    world.college.other_student.concern_level = ConcernLevel.HIGH


CASES = {
    # The secretary reads the queue (what the deputy sees); the deputy alone reviews.
    "review.index": Case("/review/", {"deputy", "secretary"}, prepare=high_concern,
                         shows=lambda world, role: ([world.college.other_student], [])),
    "review.review": Case("/review/{student}", {"deputy"}),
    "review.flag": Case(
        "/review/flag/{student}", {"counsellor"}, method="POST", data={"reason": "情绪低落"},
        ok=(302,),
    ),
}
