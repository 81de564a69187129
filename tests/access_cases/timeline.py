"""Access cases of the student timeline's forms and of the admin's audit log."""

from datetime import date

from caretrack.extensions import db
from caretrack.models import EntryKind
from caretrack.services.timeline import add_entry
from tests import factories
from tests.access_cases import Case

RECORDER = {"counsellor"}

FOLLOW_UP = {
    "occurred_at": "2020-02-10T10:00", "channel": "phone", "reached": "1", "health": "normal",
    "body": "电话联系，一切正常", "check_again_in_days": "2",
}
DELIVERY = {
    "occurred_at": "2020-02-10T10:00", "items-0-name": "口罩", "items-0-quantity": "20",
    "place": "dormitory", "received": "1", "delivered_by": "李老师",
}


def _args_with(name: str, make):
    """Arguments whose ``name`` is an object made by ``make(world, student)`` for each
    student; a student that does not exist gets an object id that does not exist either."""

    def args(world, role):
        user = world.user(role)
        result = []
        for student in (world.visible_student(role), world.invisible_student(role)):
            if student is None:
                result.append(None)
                continue
            made_id = make(world, student).id if hasattr(student, "counsellor_id") else 999999
            db.session.commit()
            result.append({"student": student.id, "user": user.id, name: made_id})
        return tuple(result)

    return args


def _entry(world, student):
    return add_entry(student, EntryKind.NOTE, student.counsellor, body="电话未接通")


def _assignment(world, student):
    return factories.AssignmentFactory(student=student, started_on=date(2020, 2, 1))


def _referral(world, student):
    return factories.ReferralFactory(student=student, referred_by=student.counsellor,
                                     supervisor=factories.SupervisorFactory())


CASES = {
    "students.follow_up": Case("/students/{student}/follow-ups/new", RECORDER, method="POST",
                               data=FOLLOW_UP, ok=(302,), writes="timeline_entries"),
    "students.delivery": Case("/students/{student}/deliveries/new", RECORDER, method="POST",
                              data=DELIVERY, ok=(302,), writes="timeline_entries"),
    # The supervisor's id is not known here; the POST is covered in tests/test_timeline.py.
    "students.referral": Case("/students/{student}/referrals/new", RECORDER),
    "students.note": Case("/students/{student}/notes/new", RECORDER, method="POST",
                          data={"body": "家长来电询问返校安排"}, ok=(302,),
                          writes="timeline_entries"),
    "students.correction": Case(
        "/students/{student}/entries/{entry}/correct", RECORDER, method="POST",
        data={"body": "应为：电话已接通"}, ok=(302,), args=_args_with("entry", _entry),
        writes="timeline_entries",
    ),
    "students.add_category": Case("/students/{student}/categories/new", RECORDER),
    "students.end_category": Case(
        "/students/{student}/categories/{assignment}/end", RECORDER, method="POST",
        data={"ended_on": "2020-02-20", "reason": "隔离期满，无症状"}, ok=(302,),
        args=_args_with("assignment", _assignment), writes="timeline_entries",
    ),
    "students.close_suggestion": Case("/students/{student}/suggestions/999999/dismiss",
                                      RECORDER, method="POST", ok=(302,)),
    "students.concern": Case("/students/{student}/concern", RECORDER, method="POST",
                             data={"level": "high", "reason": "发热"}, ok=(302,),
                             writes="concern_changes"),
    "students.revoke_referral": Case(
        "/students/{student}/referrals/{referral}/revoke", {"counsellor", "deputy"},
        method="POST", data={"reason": "学生已联系导师"}, ok=(302,),
        args=_args_with("referral", _referral), writes="timeline_entries",
    ),
    "admin.audit": Case("/admin/audit", {"admin"}),
}
