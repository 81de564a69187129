"""Regenerate docs/screenshots/ from the demo college: `make screenshots`.

Serves a freshly migrated and seeded demo on a local port and photographs each role's landing
page, the student page, the review queue, the daily board, the sign-off and the university
office's board, in Chinese, and a few in English and at phone width.
"""

import os
import shutil
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

from caretrack import create_app
from caretrack.demo import DEMO_PASSWORD, seed_demo
from caretrack.extensions import db
from caretrack.models import Referral, Student, TimelineEntry, User, now_utc
from caretrack.services.clock import local_today
from tests.e2e.conftest import CHROMIUM, LAUNCH_ARGS, QuietHandler

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"


def busiest_student(username: str) -> int:
    """The counsellor's student with the most timeline entries: a page with something on it."""
    counsellor = db.session.scalars(select(User).where(User.username == username)).one()
    return db.session.scalars(
        select(Student.id)
        .join(TimelineEntry, TimelineEntry.student_id == Student.id)
        .where(Student.counsellor_id == counsellor.id)
        .group_by(Student.id)
        .order_by(func.count(TimelineEntry.id).desc(), Student.id)
    ).first()


def busiest_supervisor() -> str:
    """The supervisor with the most referrals: an inbox with something in it."""
    return db.session.scalars(
        select(User.username)
        .join(Referral, Referral.supervisor_id == User.id)
        .group_by(User.id)
        .order_by(func.count(Referral.id).desc(), User.username)
    ).first()


def main(shots_of=None, out: Path = OUT) -> None:
    """Photograph the demo's pages into ``out``: the list of docs/screenshots, or the list
    ``shots_of(student, supervisor, yesterday)`` returns (file, user, path, language,
    width)."""
    folder = tempfile.mkdtemp(prefix="caretrack-shots-")
    home = Path(folder) / "home"
    os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_CACHE_HOME"] = str(home)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/demo.db")
    app.debug = False
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo()
        db.session.commit()
        student = busiest_student("counsellor1")
        supervisor = busiest_supervisor()
        # Yesterday is a whole day of reports (today's depends on the hour the script runs).
        yesterday = (local_today(now_utc()) - timedelta(days=1)).isoformat()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    shots = [
        # (file, user, path, language, width)
        ("counsellor-landing-zh", "counsellor1", "/", "zh_CN", 1280),
        ("caseload-zh", "counsellor1", "/students/", "zh_CN", 1280),
        ("student-zh", "counsellor1", f"/students/{student}", "zh_CN", 1280),
        ("student-en", "counsellor1", f"/students/{student}", "en", 1280),
        ("daily-report-zh", "counsellor1", "/reports/daily/", "zh_CN", 1280),
        ("supervisor-inbox-zh", supervisor, "/", "zh_CN", 1280),
        ("deputy-dashboard-zh", "deputy", "/", "zh_CN", 1280),
        ("deputy-dashboard-en", "deputy", "/", "en", 1280),
        ("review-queue-zh", "deputy", "/review/", "zh_CN", 1280),
        # 经管学院's four stages: the league secretary's board, the deputy's and the
        # secretary's sign-off, the university office's board.
        ("daily-board-zh", "league", f"/reports/board/?date={yesterday}", "zh_CN", 1280),
        ("sign-off-deputy-zh", "deputy", f"/reports/sign-off/?date={yesterday}", "zh_CN", 1280),
        ("sign-off-secretary-en", "secretary", f"/reports/sign-off/?date={yesterday}", "en",
         1280),
        ("office-board-zh", "office", f"/office/?date={yesterday}", "zh_CN", 1280),
        ("office-board-phone-zh", "office", f"/office/?date={yesterday}", "zh_CN", 390),
        ("admin-accounts-zh", "admin", "/", "zh_CN", 1280),
        ("counsellor-landing-phone-zh", "counsellor1", "/", "zh_CN", 390),
        ("student-phone-zh", "counsellor1", f"/students/{student}", "zh_CN", 390),
    ]
    if shots_of is not None:
        shots = shots_of(student, supervisor, yesterday)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for name, user, path, language, width in shots:
            context = browser.new_context(
                viewport={"width": width, "height": 900 if width > 500 else 844},
                device_scale_factor=1 if width > 500 else 2,
                locale="zh-CN" if language.startswith("zh") else "en-US",
            )
            page = context.new_page()
            page.goto(f"{base}/login?lang={language}")
            page.fill("#username", user)
            page.fill("#password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            response = page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={language}")
            if response is None or response.status != 200:
                raise SystemExit(f"{path} as {user}: HTTP {response and response.status}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            print(f"{out / name}.png  {page.title()}")
            context.close()
        browser.close()
    server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
