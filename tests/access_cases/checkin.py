"""Check-in routes. The student's pages need no account: the link is what grants access, so
every role holding a current link gets the page and a rotated link answers 404 to everyone.
The distribution pages are the counsellor's."""

from caretrack.extensions import db
from caretrack.models import now_utc
from caretrack.services import checkin
from tests.access_cases import ROLES, Case

ANYONE = set(ROLES)
COUNSELLOR = {"counsellor"}


def personal_args(world, role):
    """A current personal link, and one that was rotated away."""
    student = world.college.own_student
    old = checkin.personal_token(student, now_utc())
    checkin.rotate_student(student, world.college.counsellor, now_utc())
    current = checkin.personal_token(student, now_utc())
    db.session.commit()
    return {"token": current}, {"token": old}


def class_args(world, role):
    """A current class link, and one that was rotated away."""
    student = world.college.own_student
    name, college_id = student.class_name, student.college_id
    old = checkin.class_token(college_id, name, now_utc())
    checkin.rotate_class(college_id, name, world.college.counsellor, now_utc())
    current = checkin.class_token(college_id, name, now_utc())
    db.session.commit()
    return {"token": current}, {"token": old}


def _notice_and_request(world):
    from datetime import timedelta

    from caretrack.services import notices, return_requests
    from caretrack.services.notices import NoticeDraft
    from caretrack.services.return_requests import ReturnAsk

    c = world.college
    now = now_utc()
    notice = notices.publish(c.counsellor, NoticeDraft(
        title="请阅读", body="正文", audience="caseload", deadline=now + timedelta(days=1)),
        now=now)
    request = return_requests.ask(c.own_student, ReturnAsk(
        reason="job", wanted_on=(now + timedelta(days=2)).date(), travel_from="北京"), now=now)
    return {"notice": notice.id, "request": request.id}


def personal_with_notice_args(world, role):
    """The student's notice and request, by the current link and by a rotated one."""
    ids = _notice_and_request(world)
    current, old = personal_args(world, role)
    return {**current, **ids}, {**old, **ids}


CASES = {
    "checkin.personal": Case("/checkin/p/{token}", ANYONE, args=personal_args),
    "checkin.class_link": Case("/checkin/c/{token}", ANYONE, args=class_args),
    "checkin.verify": Case("/checkin/c/{token}/verify", ANYONE, method="POST",
                           data={"student_number": "x", "phone_digits": "0000"},
                           args=class_args),
    "checkin.forget": Case("/checkin/c/{token}/forget", ANYONE, method="POST", ok=(302,),
                           args=class_args),
    "checkin.acknowledge": Case("/checkin/p/{token}/notices/{notice}/ack", ANYONE,
                                method="POST", ok=(302,), args=personal_with_notice_args),
    "checkin.ask_return": Case("/checkin/p/{token}/return", ANYONE, method="POST", ok=(302,),
                               data={"return-reason": "exam", "return-wanted_on": "2099-03-01",
                                     "return-travel_from": "北京"},
                               args=personal_args, writes="return_requests"),
    "checkin.withdraw_return": Case("/checkin/p/{token}/return/{request}/withdraw", ANYONE,
                                    method="POST", ok=(302,), args=personal_with_notice_args,
                                    writes="timeline_entries"),
    "checkin.links": Case("/checkin/links/", COUNSELLOR),
    "checkin.links_xlsx": Case("/checkin/links/students.xlsx", COUNSELLOR),
    "checkin.qr_page": Case("/checkin/links/qr", COUNSELLOR),
    "checkin.rotate_student": Case("/checkin/links/students/{student}/rotate", COUNSELLOR,
                                   method="POST", ok=(302,)),
    "checkin.revoke_student": Case("/checkin/links/students/{student}/revoke", COUNSELLOR,
                                   method="POST", ok=(302,)),
    "checkin.rotate_class": Case("/checkin/links/classes/rotate", COUNSELLOR, method="POST",
                                 data={"class_name": "2017级会计学1班"}, ok=(302,)),
    "checkin.rotate_caseload": Case("/checkin/links/rotate", COUNSELLOR, method="POST",
                                    ok=(302,)),
}
