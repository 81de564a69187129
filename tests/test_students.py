"""The caseload list and the student page, for each role."""

from datetime import date

import pytest

from caretrack.extensions import db
from caretrack.services.cases import assign_category
from tests import factories
from tests.helpers import count_queries, text_of


def test_counsellor_sees_exactly_their_caseload(client, auth, college):
    auth.login(college.counsellor)
    page = text_of(client.get("/students/"))
    assert "陈小明" in page and "赵研究" in page
    assert "刘小红" not in page
    assert "2 名学生" in page


def test_deputy_sees_the_whole_college(client, auth, college):
    auth.login(college.deputy)
    page = text_of(client.get("/students/"))
    assert all(name in page for name in ("陈小明", "赵研究", "刘小红"))


def test_supervisor_sees_only_referred_students(client, auth, college):
    auth.login(college.supervisor)
    assert "赵研究" not in text_of(client.get("/students/"))
    factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                              referred_by=college.counsellor)
    db.session.commit()
    page = text_of(client.get("/students/"))
    assert "赵研究" in page and "陈小明" not in page


@pytest.mark.parametrize("state, visible", [
    ("open", True), ("accepted", True), ("done", True), ("declined", False), ("revoked", False),
])
def test_supervisor_access_follows_the_referral(client, auth, college, state, visible):
    factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                              referred_by=college.counsellor, state=state)
    db.session.commit()
    auth.login(college.supervisor)
    response = client.get(f"/students/{college.graduate.id}")
    assert response.status_code == (200 if visible else 404)


def test_admin_reads_no_case_but_manages_the_roster(client, auth, college):
    auth.login(college.admin)
    assert client.get("/students/").status_code == 404
    assert client.get(f"/students/{college.own_student.id}").status_code == 404
    roster = text_of(client.get("/admin/roster"))
    assert "陈小明" in roster and "刘小红" in roster


def test_search_by_name_and_by_number_stays_in_scope(client, auth, college):
    auth.login(college.counsellor)
    assert "陈小明" in text_of(client.get("/students/?q=小明"))
    assert "刘小红" not in text_of(client.get("/students/?q=小红"))
    number = college.own_student.student_number
    page = text_of(client.get(f"/students/?q={number}"))
    assert "陈小明" in page and "赵研究" not in page


def test_filters_and_counts_per_category(client, auth, college):
    hubei = factories.CategoryFactory(code="hubei", name_zh="在湖北", name_en="In Hubei")
    assign_category(college.own_student, hubei, college.counsellor, started_on=date(2020, 2, 1))
    assign_category(college.other_student, hubei, college.other_counsellor,
                    started_on=date(2020, 2, 1))
    db.session.commit()
    auth.login(college.counsellor)
    body = client.get("/students/").get_data(as_text=True)
    assert 'data-count="hubei">1<' in body  # only the counsellor's own student counts
    page = text_of(client.get(f"/students/?category={hubei.id}"))
    assert "陈小明" in page and "赵研究" not in page
    page = text_of(client.get("/students/?programme=master"))
    assert "赵研究" in page and "陈小明" not in page


def test_student_page_shows_profile_categories_and_concern(client, auth, college):
    category = factories.CategoryFactory(name_zh="接触过湖北人员", name_en="Hubei contact",
                                         isolation_days=14)
    assign_category(college.own_student, category, college.counsellor,
                    started_on=date(2020, 2, 1), reason="家人从武汉返回")
    db.session.commit()
    auth.login(college.counsellor)
    page = text_of(client.get(f"/students/{college.own_student.id}"))
    assert "陈小明" in page and college.own_student.student_number in page
    assert "接触过湖北人员" in page and "家人从武汉返回" in page
    assert "隔离期于 2020-02-15 结束" in page
    english = text_of(client.get(f"/students/{college.own_student.id}?lang=en"))
    assert "Hubei contact" in english and "Isolation window ends 2020-02-15" in english


def test_leading_zeros_of_student_numbers_survive(client, auth, college):
    student = factories.StudentFactory(counsellor=college.counsellor, student_number="0017001")
    db.session.commit()
    auth.login(college.counsellor)
    assert "0017001" in text_of(client.get(f"/students/{student.id}"))


def test_script_in_a_name_is_shown_literally(client, auth, college):
    college.own_student.name = "<script>alert(1)</script>"
    db.session.commit()
    auth.login(college.counsellor)
    for url in ("/students/", f"/students/{college.own_student.id}", "/students/?q=script"):
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    auth.logout()
    auth.login(college.admin)
    body = client.get("/admin/roster").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def _list_queries(client, n_students, counsellor, category):
    students = factories.StudentFactory.create_batch(n_students, counsellor=counsellor)
    for student in students[::3]:
        assign_category(student, category, counsellor, started_on=date(2020, 2, 1))
    db.session.commit()
    with count_queries() as counter:
        response = client.get("/students/")
    assert response.status_code == 200
    return counter.count


def test_caseload_list_queries_do_not_grow_with_students(app, client, auth, college):
    category = factories.CategoryFactory()
    db.session.commit()
    auth.login(college.counsellor)
    small = _list_queries(client, 10, college.counsellor, category)
    large = _list_queries(client, 490, college.counsellor, category)
    assert small == large, (small, large)
