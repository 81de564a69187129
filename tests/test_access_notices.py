"""The notices' and early-return requests' predicates, without HTTP."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from caretrack import access
from caretrack.extensions import db
from caretrack.services import notices, return_requests
from caretrack.services.notices import NoticeDraft
from caretrack.services.return_requests import ReturnAsk

NOW = datetime(2020, 2, 10, 1, 0, tzinfo=UTC)


def publish(author, audience="caseload", values=()):
    return notices.publish(author, NoticeDraft(
        title="通知", body="正文", audience=audience, values=values,
        deadline=NOW + timedelta(days=1)), now=NOW)


def test_who_writes_notices_and_to_whom(college):
    assert access.notice_audiences(college.counsellor) == ("caseload", "classes")
    assert "college" in access.notice_audiences(college.deputy)
    for user in (college.supervisor, college.admin):
        assert not access.writes_notices(user) and access.notice_audiences(user) == ()
    assert access.sees_stragglers(college.counsellor) and not access.sees_stragglers(
        college.deputy)


def test_a_counsellor_sees_their_own_notices_and_those_reaching_their_students(college):
    own = publish(college.counsellor)
    other = publish(college.other_counsellor)
    whole = publish(college.deputy, "college")
    seen = set(db.session.scalars(access.visible_notices(college.counsellor)))
    assert seen == {own, whole}
    assert set(db.session.scalars(access.visible_notices(college.deputy))) == {own, other, whole}
    assert not db.session.scalars(access.visible_notices(college.supervisor)).all()
    with pytest.raises(NotFound):
        access.get_notice_or_404(other.id, college.counsellor)
    assert access.can_correct_notice(college.counsellor, own)
    assert not access.can_correct_notice(college.counsellor, whole)


def test_a_student_reaches_only_their_own_notices_and_requests(college):
    theirs = publish(college.other_counsellor)
    request = return_requests.ask(college.other_student, ReturnAsk(
        reason="exam", wanted_on=(NOW + timedelta(days=3)).date(), travel_from="北京"),
        now=NOW)
    with pytest.raises(NotFound):
        access.get_student_notice_or_404(college.own_student, theirs.id)
    with pytest.raises(NotFound):
        access.get_student_return_request_or_404(college.own_student, request.id)
    assert access.get_student_return_request_or_404(college.other_student, request.id) is request


def test_return_requests_of_other_counsellors_students_are_404(college):
    request = return_requests.ask(college.other_student, ReturnAsk(
        reason="job", wanted_on=(NOW + timedelta(days=3)).date(), travel_from="上海"), now=NOW)
    db.session.commit()
    for user in (college.counsellor, college.supervisor, college.admin):
        with pytest.raises(NotFound):
            access.get_return_request_or_404(request.id, user)
    assert access.get_return_request_or_404(request.id, college.deputy) is request
    assert access.can_recommend_return(college.other_counsellor, request)
    assert not access.can_recommend_return(college.deputy, request)
    assert access.can_decide_return(college.deputy)
    assert not access.can_decide_return(college.other_counsellor)
    assert db.session.scalars(select(access.visible_return_requests(college.counsellor)
                                     .subquery())).all() == []
