"""Early-return requests: the student's counsellor recommends and records the arrival, the
deputy decides; a request of a student the user may not see is a 404."""

from datetime import UTC, datetime, timedelta

from caretrack.extensions import db
from caretrack.services import return_requests
from caretrack.services.return_requests import ReturnAsk
from tests.access_cases import Case, counsellor_sees_own, seen_and_unseen

HANDLERS = {"counsellor", "deputy"}


def _ask(student):
    return return_requests.ask(student, ReturnAsk(
        reason="internship", wanted_on=(datetime.now(UTC) + timedelta(days=3)).date(),
        travel_from="河南 郑州"), now=datetime.now(UTC))


def request_args(world, role):
    """A request of the role's student, and one of a student it may not see."""
    c = world.college
    mine, theirs = _ask(c.own_student), _ask(c.other_student)
    foreign = _ask(c.foreign_student)
    db.session.commit()
    if role == "deputy":  # another college's student's request
        return {"request": theirs.id}, {"request": foreign.id}
    if role == "counsellor":
        return {"request": mine.id}, {"request": theirs.id}
    return {"request": mine.id}, None


def requests_for_everyone(world):
    for student in (world.college.own_student, world.college.other_student):
        _ask(student)


def step(url, roles, data, ok=(302,), writes=None):
    return Case(url, roles, method="POST", data=data, ok=ok, args=request_args, writes=writes)


CASES = {
    "returns.index": Case("/returns/", HANDLERS, prepare=requests_for_everyone,
                          shows=counsellor_sees_own),
    "returns.detail": Case("/returns/{request}", HANDLERS, args=request_args,
                           shows=seen_and_unseen),
    "returns.recommend": step("/returns/{request}/recommend", {"counsellor"},
                              {"recommend-recommendation": "approve", "recommend-note": "谈过"},
                              writes="timeline_entries"),
    # Deciding and the arrival need a recommended or approved request: a pending one is a 409.
    "returns.approve": step("/returns/{request}/approve", {"deputy"},
                            {"approve-arrival_on": "2099-03-01", "approve-plan": "隔离14天",
                             "approve-isolation_days": "14"}, ok=(409,)),
    "returns.decline": step("/returns/{request}/decline", {"deputy"},
                            {"decline-reason": "暂不返校"}, ok=(409,)),
    "returns.arrival": step("/returns/{request}/arrival", {"counsellor"},
                            {"arrival-arrived_on": "2020-03-01"}, ok=(409,)),
}
