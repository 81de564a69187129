"""Personal and class check-in links: derived, never stored, rotated by a generation counter.

A token is HMAC-SHA256(SECRET_KEY, scope + generation), 144 bits in URL-safe base64; the
database keeps only its SHA-256 digest (to find the link) and the generation (to derive it
again for the counsellor's lists). Rotating increments the generation, so the old token finds
nothing and answers like any unknown one. Revoking a personal link also increments the
generation and marks it revoked: no token of it works, and none is handed out, until the
counsellor issues a new one (a rotation).
"""

import base64
import hashlib
import hmac
from datetime import datetime

from flask import current_app
from sqlalchemy import insert, select, tuple_

from caretrack.extensions import db
from caretrack.models import CheckinLink, LinkKind, Student, User
from caretrack.services.audit import record_event

#: Bytes of HMAC output kept in a token (144 bits).
TOKEN_BYTES = 18


def _scope(kind: str, key) -> str:
    return f"caretrack-checkin:{kind}:{key}"


def _token(kind: str, key, generation: int) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(secret, f"{_scope(kind, key)}:{generation}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:TOKEN_BYTES]).decode().rstrip("=")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: A class is named by its college and its name: ``(college id, class name)``.
ClassKey = tuple[int, str]


def _class_scope(key: ClassKey) -> str:
    return f"{key[0]}:{key[1]}"


def _link_token(link: CheckinLink) -> str:
    if link.kind == LinkKind.PERSONAL:
        key = link.student_id
    else:
        key = link.class_name if link.unscoped else _class_scope((link.college_id,
                                                                  link.class_name))
    return _token(link.kind, key, link.generation)


def find_link(kind: str, token: str) -> CheckinLink | None:
    """The current link of ``kind`` whose token is ``token``; None for an unknown, rotated,
    revoked or malformed one (they are indistinguishable)."""
    if not token or len(token) > 64:
        return None
    link = db.session.scalars(
        select(CheckinLink).where(CheckinLink.digest == _digest(token), CheckinLink.kind == kind)
    ).one_or_none()
    if link is None or not hmac.compare_digest(_link_token(link), token):
        return None
    return None if link.revoked_at is not None else link


def _ensure(kind: str, keys: list, now: datetime) -> dict:
    """The links of ``keys`` (student ids, or :data:`ClassKey` of classes), creating the
    missing ones."""
    found: dict = {}
    for start in range(0, len(keys), 900):
        chunk = keys[start:start + 900]
        if kind == LinkKind.PERSONAL:
            found.update({link.student_id: link for link in db.session.scalars(
                select(CheckinLink).where(CheckinLink.student_id.in_(chunk)))})
        else:
            found.update({(link.college_id, link.class_name): link
                          for link in db.session.scalars(select(CheckinLink).where(
                              CheckinLink.kind == LinkKind.CLASS,
                              tuple_(CheckinLink.college_id, CheckinLink.class_name).in_(
                                  chunk)))})
    missing = [key for key in keys if key not in found]
    if missing:
        if kind == LinkKind.PERSONAL:
            rows = [{"student_id": key, "digest": _digest(_token(kind, key, 1))}
                    for key in missing]
        else:
            rows = [{"college_id": key[0], "class_name": key[1],
                     "digest": _digest(_token(kind, _class_scope(key), 1))} for key in missing]
        db.session.execute(insert(CheckinLink.__table__), [
            {"kind": str(kind), "generation": 1, "unscoped": False, "rotated_at": now, **row}
            for row in rows])
        return _ensure(kind, keys, now)
    return found


def personal_token(student: Student, now: datetime) -> str:
    """The student's current personal link token (created on first use); it answers 404 while
    the link is revoked."""
    return _link_token(_ensure(LinkKind.PERSONAL, [student.id], now)[student.id])


def class_token(college_id: int, class_name: str, now: datetime) -> str:
    """The current link token of a college's class (created on first use)."""
    key = (college_id, class_name)
    return _link_token(_ensure(LinkKind.CLASS, [key], now)[key])


def link_url(kind: str, token: str) -> str:
    """The absolute address of a link, from CARETRACK_BASE_URL."""
    base = current_app.config["CARETRACK_BASE_URL"].rstrip("/")
    return f"{base}/checkin/{'p' if kind == LinkKind.PERSONAL else 'c'}/{token}"


def existing_link_urls(student_ids: list[int], classes_: list[ClassKey]
                       ) -> tuple[dict[int, str], dict[ClassKey, str]]:
    """The absolute links that exist already (none is created): {student id: personal link}
    and {(college id, class name): class link}, in two queries."""
    personal: dict[int, str] = {}
    classes: dict[ClassKey, str] = {}
    if student_ids:
        for link in db.session.scalars(select(CheckinLink).where(
                CheckinLink.kind == LinkKind.PERSONAL, CheckinLink.student_id.in_(student_ids),
                CheckinLink.revoked_at.is_(None))):
            personal[link.student_id] = link_url(LinkKind.PERSONAL, _link_token(link))
    if classes_:
        for link in db.session.scalars(select(CheckinLink).where(
                CheckinLink.kind == LinkKind.CLASS,
                tuple_(CheckinLink.college_id, CheckinLink.class_name).in_(classes_))):
            classes[link.college_id, link.class_name] = link_url(LinkKind.CLASS,
                                                                 _link_token(link))
    return personal, classes


def personal_links(condition, now: datetime, class_name: str | None = None
                   ) -> list[tuple[Student, str | None]]:
    """(student, absolute personal link, None while revoked) for the students matching
    ``condition`` (an access filter), in class and number order."""
    query = select(Student).where(condition).order_by(Student.class_name, Student.student_number)
    if class_name:
        query = query.where(Student.class_name == class_name)
    students = db.session.scalars(query).all()
    links = _ensure(LinkKind.PERSONAL, [s.id for s in students], now)
    return [(s, None if links[s.id].revoked_at is not None
             else link_url(LinkKind.PERSONAL, _link_token(links[s.id]))) for s in students]


def classes_of(condition) -> list[str]:
    """The class names of the students matching ``condition``, sorted."""
    return list(db.session.scalars(
        select(Student.class_name).where(condition).distinct().order_by(Student.class_name)))


def class_keys_of(condition) -> list[ClassKey]:
    """The classes (college id, class name) of the students matching ``condition``, sorted."""
    return [(college_id, name) for college_id, name in db.session.execute(
        select(Student.college_id, Student.class_name).where(condition).distinct()
        .order_by(Student.class_name, Student.college_id))]


def class_links(condition, now: datetime) -> list[tuple[str, str]]:
    """(class name, absolute class link) for the classes of the students matching
    ``condition`` (one college's: a user's caseload)."""
    keys = class_keys_of(condition)
    links = _ensure(LinkKind.CLASS, keys, now)
    return [(key[1], link_url(LinkKind.CLASS, _link_token(links[key]))) for key in keys]


def _rotate(links, now: datetime) -> None:
    for link in links:
        link.unscoped = False  # from now on derived from the college and the class
        link.generation += 1
        link.digest = _digest(_link_token(link))
        link.rotated_at = now


def rotate_student(student: Student, by: User, now: datetime, ip: str = "") -> None:
    """Issue the student a new personal link (also after a revocation); the old one answers
    404 from now on."""
    link = _ensure(LinkKind.PERSONAL, [student.id], now)[student.id]
    _rotate([link], now)
    link.revoked_at = None
    record_event("checkin.rotate_student", by, student.id, now=now, ip=ip)
    db.session.flush()


def revoke_student(student: Student, by: User, now: datetime, ip: str = "") -> None:
    """Revoke the student's personal link: it answers 404, like an unknown one, and no new
    one is handed out until :func:`rotate_student` issues it. The class link still works."""
    link = _ensure(LinkKind.PERSONAL, [student.id], now)[student.id]
    if link.revoked_at is None:
        _rotate([link], now)  # the leaked token no longer even matches a digest
        link.revoked_at = now
        record_event("checkin.revoke_student", by, student.id, now=now, ip=ip)
    db.session.flush()


def rotate_class(college_id: int, class_name: str, by: User, now: datetime,
                 ip: str = "") -> None:
    """Replace the link of a college's class; the old one, and the phones it remembered, stop
    working."""
    key = (college_id, class_name)
    _rotate([_ensure(LinkKind.CLASS, [key], now)[key]], now)
    record_event("checkin.rotate_class", by, detail=class_name, now=now, ip=ip)
    db.session.flush()


def rotate_caseload(condition, by: User, now: datetime, ip: str = "") -> int:
    """Replace every personal and class link of the students matching ``condition`` (a revoked
    personal link stays revoked); return how many links changed."""
    ids = list(db.session.scalars(select(Student.id).where(condition)))
    links = [*_ensure(LinkKind.PERSONAL, ids, now).values(),
             *_ensure(LinkKind.CLASS, class_keys_of(condition), now).values()]
    _rotate(links, now)
    record_event("checkin.rotate_caseload", by, detail=f"{len(links)} links", now=now, ip=ip)
    db.session.flush()
    return len(links)
