"""In the browser: another counsellor's student is a 404 page; the pages a counsellor opens
all day fit a phone screen."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from caretrack.models import Student, User
from tests.e2e.conftest import watch_console


def _student_of(app_db, username):
    counsellor = app_db.session.scalars(select(User).where(User.username == username)).one()
    return app_db.session.scalars(
        select(Student).where(Student.counsellor_id == counsellor.id).order_by(Student.id)
    ).first()


def test_typing_another_counsellors_student_url_shows_the_404_page(login, base_url, app_db):
    other = _student_of(app_db, "counsellor2")
    page = login("counsellor1")
    response = page.goto(f"{base_url}/students/{other.id}")
    assert response.status == 404
    expect(page.locator("h1")).to_contain_text("未找到")
    expect(page.locator("body")).not_to_contain_text(other.name)


@pytest.fixture
def phone(browser, console_errors):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    watch_console(page, console_errors)
    yield page
    context.close()


def _fits_the_screen(page):
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def test_counsellor_pages_fit_a_phone(phone, base_url, app_db):
    student = _student_of(app_db, "counsellor1")
    phone.goto(f"{base_url}/login")
    phone.fill("#username", "counsellor1")
    phone.fill("#password", "caretrack-demo")
    phone.click("button[type=submit]")
    phone.wait_for_load_state()
    for path in ("/", "/students/", f"/students/{student.id}",
                 f"/students/{student.id}/follow-ups/new"):
        response = phone.goto(base_url + path)
        assert response.status == 200, path
        _fits_the_screen(phone)
    # Every control of the follow-up form can be reached and the form can be sent.
    expect(phone.get_by_role("heading", name="记录跟进")).to_be_visible()
    controls = phone.locator("form#entry-form :is(input, select, textarea, button)"
                             ":visible").all()
    assert len(controls) >= 10, "the follow-up form's fields should be on the page"
    for control in controls:
        control.scroll_into_view_if_needed()
        box = control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1
    # The menu opens and reaches the other pages.
    phone.click(".navbar-toggler")
    expect(phone.locator("#mainnav")).to_be_visible()
