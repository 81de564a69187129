"""The admin configures the care categories."""

from datetime import date

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import CareCategory, Recheck
from caretrack.services.cases import assign_category
from tests import factories
from tests.helpers import text_of


def test_admin_creates_a_category_that_counsellors_then_use(client, auth, college):
    auth.login(college.admin)
    response = client.post("/admin/categories/new", data={
        "code": "quarantine_hotel", "name_zh": "酒店集中隔离", "name_en": "Hotel quarantine",
        "colour": "#20c997", "cadence_days": "1", "isolation_days": "14", "active": "y"})
    assert response.status_code == 302
    category = db.session.scalars(select(CareCategory)).one()
    assert (category.name_en, category.cadence_days, category.isolation_days) == (
        "Hotel quarantine", 1, 14)
    assert "酒店集中隔离" in text_of(client.get("/admin/categories"))
    assign_category(college.own_student, category, college.counsellor,
                    started_on=date(2099, 3, 1))
    db.session.commit()
    dues = sorted(r.due_on for r in db.session.scalars(select(Recheck)))
    assert dues == [date(2099, 3, 2), date(2099, 3, 15)]  # its cadence and its window


def test_bad_category_input_is_shown_next_to_the_field_and_kept(client, auth, college):
    factories.CategoryFactory(code="hubei")
    db.session.commit()
    auth.login(college.admin)
    response = client.post("/admin/categories/new", data={
        "code": "hubei", "name_zh": "重复", "name_en": "Duplicate", "colour": "red",
        "cadence_days": "-1"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请填写颜色，例如 #dc3545。" in body
    assert 'value="重复"' in body  # what was typed is kept
    taken = client.post("/admin/categories/new", data={
        "code": "hubei", "name_zh": "重复", "name_en": "Duplicate", "colour": "#123456",
        "cadence_days": "3"}).get_data(as_text=True)
    assert "已有其他类别使用此代码。" in taken
    assert db.session.scalars(select(CareCategory)).one().name_zh != "重复"


def test_only_the_admin_manages_categories(client, auth, college):
    auth.login(college.deputy)
    assert client.get("/admin/categories").status_code == 404


def test_saving_a_category_is_audited_with_the_address(client, auth, college):
    from caretrack.models import AuditEvent

    auth.login(college.admin)
    client.post("/admin/categories/new", data={
        "code": "fever", "name_zh": "发热", "name_en": "Fever", "colour": "#dc3545",
        "cadence_days": "1", "active": "y"})
    category = db.session.scalars(select(CareCategory)).one()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "category.save")).one()
    assert (event.user_id, event.detail, event.ip) == (
        college.admin.id, f"category:{category.id}", "127.0.0.1")
    assert "保存了关怀类别" in text_of(client.get("/admin/audit"))
