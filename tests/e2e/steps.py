"""Steps the browser journeys share: the navigation, finding a student, reading a flash."""

import re
from dataclasses import dataclass
from datetime import date

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from caretrack.models import Student, User, now_utc
from caretrack.services.clock import local_today


@dataclass(frozen=True)
class StudentRef:
    """What a journey needs to know of a student, read once from the database."""

    id: int
    number: str
    name: str

    @classmethod
    def of(cls, student: Student) -> "StudentRef":
        return cls(student.id, student.student_number, student.name)


def user(db, username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def reread(db) -> None:
    """Forget what the test's session loaded, so the next query sees the server's writes."""
    db.session.rollback()
    db.session.expire_all()


def today() -> date:
    """The college's day now (call inside the app_db context)."""
    return local_today(now_utc())


def nav_link(page: Page, label: str) -> Locator:
    """A link of the navigation bar by its label, whatever badge it carries."""
    name = re.compile(rf"^\s*{re.escape(label)}(\s+\d+)?\s*$")
    return page.locator("#mainnav").get_by_role("link", name=name)


def nav_badge(page: Page, label: str) -> Locator:
    """The red count on a navigation link."""
    return nav_link(page, label).locator("[data-badge]")


def flash(page: Page) -> Locator:
    """The page's flashed message of success (not an alert that is part of the page)."""
    return page.locator('.alert-success[role="alert"]')


def open_student(page: Page, student: StudentRef) -> None:
    """Find the student in the list by number, as a person would, and open their page."""
    nav_link(page, "学生").click()
    page.get_by_label("姓名或学号").fill(student.number)
    page.get_by_role("button", name="筛选").click()
    row = page.locator(f'tr[data-student-id="{student.id}"]')
    row.get_by_role("link", name=student.name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(student.name)


def timeline_entry(page: Page, kind: str, text: str) -> Locator:
    """The timeline entries of one kind that show ``text``."""
    return page.locator(f"article.timeline-entry.kind-{kind}", has_text=text)
