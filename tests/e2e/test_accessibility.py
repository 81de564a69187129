"""The pages of the browser journeys pass axe-core (WCAG 2.1 AA: no serious or critical
finding) and the Nu HTML checker (no error), in Chinese and in English, at desktop and phone
width.

Each page is loaded once per language and width and axe-core runs on it there; the HTML the
server sent is kept (once per page and language: it is the same at every width) and the Nu
checker runs once, over all of them, at the end.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from caretrack.models import Referral, Student, now_utc
from caretrack.services import checkin
from caretrack.services.clock import local_today
from tests.e2e.checkers import Findings, add_axe, nu_errors, run_axe
from tests.e2e.conftest import DEMO_PASSWORD, watch_console
from tests.e2e.steps import user

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
#: The pages also checked at phone width: those a counsellor and a student open on a phone
#: (the long lists, slow to check, fold the same way as the student page).
PHONE_PAGES = ("/students/<id>", "/students/<id>/follow-ups/new", "/students/<id>/deliveries/new",
               "/checkin/c/<token>", "/checkin/p/<token>")


def _pages(db) -> dict[str, list[str]]:
    """Each user's pages (the paths of the journeys), read from the demo college."""
    counsellor = user(db, "counsellor1")
    student = db.session.scalars(select(Student).where(
        Student.counsellor_id == counsellor.id).order_by(Student.id)).first()
    referral = db.session.scalars(select(Referral).where(
        Referral.state.in_(("open", "accepted"))).order_by(Referral.id)).first()
    other = db.session.scalars(select(Student).where(
        Student.counsellor_id == user(db, "counsellor5").id).order_by(Student.id.desc())).first()
    now = now_utc()
    yesterday = (local_today(now) - timedelta(days=1)).isoformat()
    class_link = f"/checkin/c/{checkin.class_token(other.college_id, other.class_name, now)}"
    personal_link = f"/checkin/p/{checkin.personal_token(other, now)}"
    db.session.commit()
    s = f"/students/{student.id}"
    pages = {
        "anonymous": ["/login"],
        "student": [class_link, personal_link],
        "counsellor1": [
            "/", "/students/", s, f"{s}/follow-ups/new", f"{s}/deliveries/new",
            f"{s}/referrals/new", f"{s}/notes/new", f"{s}/categories/new", f"{s}/concern",
            "/rechecks/", "/reports/daily/", "/reports/daily/chase", "/reports/daily/upload",
            "/checkin/links/", "/account", "/groups/", "/jobs/",
        ],
        referral.supervisor.username: ["/referrals/", f"/referrals/{referral.id}"],
        "deputy": [
            "/dashboard", "/review/", f"/review/{student.id}", "/retention/", f"{s}/access-log",
            "/reports/sign-off/", f"/reports/sign-off/?date={yesterday}",
        ],
        # 经管学院 has the merge stage: the league secretary's board approves the reports.
        "league": [
            "/reports/board/", "/reports/board/approve-all",
            "/reports/board/students?what=missing", f"/reports/board/counsellors/{counsellor.id}/",
            "/reports/sign-off/", f"/reports/sign-off/?date={yesterday}",
        ],
        "secretary": ["/reports/sign-off/", f"/reports/sign-off/?date={yesterday}"],
        # 外国语学院 has none: its deputy approves the reports on the board.
        "sfl_deputy": ["/reports/board/", "/reports/sign-off/"],
        "office": ["/", "/office/", f"/office/?date={yesterday}",
                   "/office/students?what=missing", f"/office/students?what=fever&date={yesterday}"],
        "university": ["/colleges/", "/colleges/new", "/admin/users", "/admin/users/new"],
        "admin": ["/admin/users", "/admin/audit", "/admin/roster", "/admin/roster/import",
                  "/admin/categories", "/admin/status-rules", "/retention/"],
    }
    # The referral form of a student with an open referral says so at once.
    referred = referral.student
    pages.setdefault(referred.counsellor.username, []).append(
        f"/students/{referred.id}/referrals/new")
    return pages


def _pattern(path: str) -> str:
    """The route of a path: its ids and tokens as placeholders."""
    path = re.sub(r"/checkin/([cp])/[^/?]+", r"/checkin/\1/<token>", path)
    return re.sub(r"/\d+", "/<id>", path)


def _check(context, base_url, username, paths, label, findings, errors):
    page = context.new_page()
    watch_console(page, errors)
    # A stylesheet, script or icon that fails to load is an error too.
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)
    if username not in ("anonymous", "student"):
        page.goto(f"{base_url}/login")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
    for path in paths:
        response = page.goto(base_url + path)
        assert response.ok, f"{path}: {response.status}"
        run_axe(page, f"{label} {username} {path}", findings)
        findings.documents.setdefault(f"{label.split()[0]} {path}", response.text())
    page.close()


def sweep(browser, base_url, db, errors, language: str) -> tuple[Findings, list]:
    """Load every page in ``language`` at both widths, run axe-core on each and the Nu
    checker once over their HTML."""
    pages = _pages(db)
    findings = Findings()
    for width, options in (("desktop", DESKTOP), ("phone", PHONE)):
        for username, paths in pages.items():
            if width == "phone":
                paths = [p for p in paths if _pattern(p) in PHONE_PAGES]
            if not paths:
                continue
            context = browser.new_context(locale="zh-CN", **options)
            add_axe(context)
            # ?lang= on the first page keeps the language for the visit.
            first = [f"{paths[0]}?lang={language}"] + paths[1:]
            _check(context, base_url, username, first, f"{language} {width}", findings,
                   errors)
            context.close()
    return findings, nu_errors(findings.documents)


#: The two languages' sweeps are two tests, which two workers run side by side.
XDIST_GROUP_PER_TEST = True


@pytest.mark.parametrize("language", ["zh", "en"])
def test_journey_pages_pass_axe_and_the_nu_checker(browser, base_url, app_db, console_errors,
                                                   language):
    findings, nu = sweep(browser, base_url, app_db, console_errors, language)
    print(f"\naxe-core: {findings.pages_checked} page views, findings by impact "
          f"{findings.axe_summary()}; Nu: {len(findings.documents)} documents, "
          f"{len(nu)} errors")
    failing = findings.failing_axe()
    report = "\n".join(f"axe {impact} {rule} ×{count} on {page}: {target} – {summary}"
                       for page, rule, impact, count, target, summary in failing)
    report += "\n" + "\n".join(f"Nu on {page}: {message} [{extract}]"
                               for page, message, extract in nu)
    assert not failing and not nu, report
