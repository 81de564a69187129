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
    name = world.college.own_student.class_name
    old = checkin.class_token(name, now_utc())
    checkin.rotate_class(name, world.college.counsellor, now_utc())
    current = checkin.class_token(name, now_utc())
    db.session.commit()
    return {"token": current}, {"token": old}


CASES = {
    "checkin.personal": Case("/checkin/p/{token}", ANYONE, args=personal_args),
    "checkin.class_link": Case("/checkin/c/{token}", ANYONE, args=class_args),
    "checkin.verify": Case("/checkin/c/{token}/verify", ANYONE, method="POST",
                           data={"student_number": "x", "phone_digits": "0000"},
                           args=class_args),
    "checkin.forget": Case("/checkin/c/{token}/forget", ANYONE, method="POST", ok=(302,),
                           args=class_args),
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
