"""Access cases of the JSON API (session-authenticated here; tests/test_api_access.py runs
the same cases with read-only and read-write tokens)."""

from datetime import UTC, datetime

from caretrack.services.clock import local_today
from tests import factories
from tests.access_cases import CASE_READERS, ROLES, WHOLE_COLLEGE, Case, rechecks_for_everyone

RECORDER = {"counsellor"}
DAILY = {"counsellor", "deputy", "secretary"}


def _today() -> str:
    return local_today(datetime.now(UTC)).isoformat()


def _day_args(world, role):
    return {"day": _today(), "user": world.user(role).id}, None


def _students_shown(world, role):
    c = world.college
    return {
        "counsellor": ([c.own_student, c.graduate], [c.other_student]),
        "supervisor": ([c.graduate], [c.own_student, c.other_student]),
        "deputy": ([c.own_student, c.other_student, c.graduate], []),
        "secretary": ([c.own_student, c.other_student, c.graduate], []),
    }.get(role, ([], []))


def _caseload_shown(world, role):
    c = world.college
    if role == "counsellor":
        return [c.own_student, c.graduate], [c.other_student]
    if role in WHOLE_COLLEGE:
        return [c.own_student, c.other_student, c.graduate], []
    return [], []


def _rechecks_shown(world, role):
    # The deputy's own list holds the re-checks they own: none of the counsellors'.
    c = world.college
    if role == "counsellor":
        return [c.own_student, c.graduate], [c.other_student]
    return [], [c.own_student, c.other_student, c.graduate]


def _referrals_for_others(world):
    """Referrals of the other students to another supervisor: only the graduate's is the
    world supervisor's."""
    c = world.college
    elsewhere = factories.SupervisorFactory()
    for student in (c.own_student, c.other_student):
        factories.ReferralFactory(student=student, supervisor=elsewhere,
                                  referred_by=student.counsellor)


def _referral_args(world, role):
    from caretrack.extensions import db
    from caretrack.models import Referral

    c = world.college
    mine = db.session.query(Referral).filter_by(student_id=c.graduate.id).first()
    hidden = factories.ReferralFactory(student=c.other_student,
                                       supervisor=factories.SupervisorFactory(),
                                       referred_by=c.other_counsellor)
    foreign = factories.ReferralFactory(student=c.foreign_graduate,
                                        supervisor=c.foreign_supervisor,
                                        referred_by=c.foreign_counsellor)
    db.session.commit()
    user = world.user(role).id
    visible = {"referral": mine.id, "user": user}
    invisible = {"referral": foreign.id if role in WHOLE_COLLEGE else hidden.id, "user": user}
    return visible, invisible


def _token_args(world, role):
    """The role's own token, and another user's: revoking that one is a 404."""
    from caretrack.extensions import db
    from caretrack.services.api_tokens import create_token

    now = datetime.now(UTC)
    user = world.user(role)
    other = world.college.other_counsellor if role != "counsellor" else world.college.deputy
    mine, _secret = create_token(user, name="mine", scope="read", days=7, now=now)
    theirs, _secret = create_token(other, name="theirs", scope="read", days=7, now=now)
    db.session.commit()
    return {"token": mine.id, "user": user.id}, {"token": theirs.id, "user": user.id}


CASES = {
    # The account page's tokens (every user may have some; the API decides what they reach).
    "auth.create_api_token": Case("/account/tokens", set(ROLES), method="POST",
                                  data={"name": "campus app", "scope": "read", "days": "30"},
                                  writes="api_tokens"),
    "auth.revoke_api_token": Case("/account/tokens/{token}/revoke", set(ROLES),
                                  method="POST", ok=(302,), args=_token_args),
    "api.Students": Case("/api/v1/students", CASE_READERS, shows=_students_shown),
    "api.StudentDetail": Case("/api/v1/students/{student}", CASE_READERS),
    "api.Timeline": Case("/api/v1/students/{student}/timeline", CASE_READERS),
    "api.FollowUps": Case("/api/v1/students/{student}/follow-ups", RECORDER, method="POST",
                          json={"channel": "phone", "reached": True, "health": "normal",
                                "body": "电话联系"},
                          ok=(201,), writes="timeline_entries"),
    "api.Deliveries": Case("/api/v1/students/{student}/deliveries", RECORDER, method="POST",
                           json={"items": [{"name": "口罩", "quantity": 20}],
                                 "place": "dormitory", "received": True,
                                 "delivered_by": "李老师"},
                           ok=(201,), writes="timeline_entries"),
    "api.Notes": Case("/api/v1/students/{student}/notes", RECORDER, method="POST",
                      json={"body": "电话未接通"}, ok=(201,), writes="timeline_entries"),
    "api.Rechecks": Case("/api/v1/rechecks", DAILY, prepare=rechecks_for_everyone,
                         shows=_rechecks_shown),
    # The POST (the bulk upsert) of this endpoint: tests/test_api_access.py.
    "api.DayStatuses": Case("/api/v1/daily/{day}/statuses", DAILY, args=_day_args,
                            shows=_caseload_shown),
    "api.DayReports": Case("/api/v1/daily/{day}/reports", DAILY, args=_day_args),
    "api.Referrals": Case("/api/v1/referrals", CASE_READERS, prepare=_referrals_for_others,
                          shows=_students_shown),
    # Which step each role may take is the referral rules' (tests/test_api.py); here: the
    # referral is found (201 or the rule's 422) or is a 404.
    "api.ReferralSteps": Case("/api/v1/referrals/{referral}/steps", CASE_READERS,
                              method="POST", json={"step": "revoked", "version": 1},
                              ok=(201, 422), args=_referral_args),
    "api.Categories": Case("/api/v1/categories", set(ROLES)),
}
