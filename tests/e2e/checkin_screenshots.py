"""Photograph the students' check-in as its users see it: `make screenshots`.

    .venv/bin/python -m tests.e2e.checkin_screenshots [--out DIR] [--all]

Serves a freshly migrated and seeded demo college on a local port and, in Chinese and in
English, on a phone (390x844) and at desktop width, photographs a student's way in by the class
link (the identity check, a refused answer), the check-in page on their first visit (with the
privacy notice), the confirmation after reporting a fever, and counsellor1's distribution
pages (class links with the group message, the QR codes with one revoked link). Writes the few kept for the README
(docs/screenshots/checkin-*.png), or every one with --all (to --out, for review).
"""

import argparse
import os
import shutil
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from sqlalchemy import delete, select
from werkzeug.serving import make_server

from caretrack import create_app
from caretrack.demo import DEMO_PASSWORD, seed_demo
from caretrack.extensions import db
from caretrack.models import CheckIn, DailyStatus, Student, User, now_utc
from caretrack.services import checkin
from caretrack.services.clock import local_today
from tests.e2e.conftest import CHROMIUM, LAUNCH_ARGS, QuietHandler

ROOT = Path(__file__).resolve().parents[2]
#: The shots the README shows.
KEPT = {"checkin-identify-phone-zh", "checkin-form-phone-zh", "checkin-done-phone-zh",
        "checkin-form-phone-en", "checkin-links-zh", "checkin-qr-zh"}


def first_timers(count: int) -> list[Student]:
    """Students of counsellor1 with a phone, yesterday's status normal (so the page offers
    "same as yesterday") and none yet today, made new to the check-in (their season's
    self-reports are removed) so that the page shows the privacy notice of a first visit."""
    counsellor = db.session.scalars(select(User).where(User.username == "counsellor1")).one()
    today = local_today(now_utc())
    yesterday_normal = select(DailyStatus.student_id).where(
        DailyStatus.day == today - timedelta(days=1), DailyStatus.health == "normal")
    confirmed = select(DailyStatus.student_id).where(DailyStatus.day == today)
    students = list(db.session.scalars(
        select(Student).where(
            Student.counsellor_id == counsellor.id, Student.phone != "",
            Student.id.in_(yesterday_normal), Student.id.not_in(confirmed),
        ).order_by(Student.id).limit(count)))
    db.session.execute(delete(CheckIn).where(CheckIn.student_id.in_([s.id for s in students])))
    return students


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--all", action="store_true", help="write every shot, not only the kept")
    parser.add_argument("--seeded", type=Path,
                        help="a demo database seeded earlier (copied; it is seeded otherwise)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="caretrack-checkin-shots-")
    os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_CACHE_HOME"] = str(Path(folder) / "home")
    if args.seeded:
        shutil.copy(args.seeded, f"{folder}/demo.db")
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/demo.db")
    app.debug = False
    with app.app_context():
        if not args.seeded:
            upgrade(directory=str(ROOT / "migrations"))
            seed_demo()
            db.session.commit()
        found = first_timers(8)
        students = [(s.student_number, s.phone[-4:], s.class_name) for s in found]
        class_urls = {s.class_name: f"/checkin/c/{checkin.class_token(s.college_id, s.class_name, now_utc())}"  # noqa: E501
                      for s in found}
        # One revoked personal link on the QR page: its card offers to issue a new one.
        counsellor = db.session.scalars(select(User).where(User.username == "counsellor1")).one()
        classmate = db.session.scalars(select(Student).where(
            Student.class_name == students[0][2], Student.student_number != students[0][0])
            .order_by(Student.student_number)).first()
        checkin.revoke_student(classmate, counsellor, now_utc())
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    args.out.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str, full_page: bool = True) -> None:
        if args.all or name in KEPT:
            page.screenshot(path=str(args.out / f"{name}.png"), full_page=full_page)
            print(f"{args.out / name}.png  {page.title()}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        runs = [(lang, width) for lang in ("zh", "en") for width in (390, 1280)]
        for (lang, width), (number, digits, class_name) in zip(runs, students, strict=False):
            phone = width < 500
            suffix = f"{'phone' if phone else 'desktop'}-{lang}"
            language = "zh_CN" if lang == "zh" else "en"
            context = browser.new_context(
                viewport={"width": width, "height": 844 if phone else 900},
                device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone,
                locale="zh-CN" if lang == "zh" else "en-US",
            )
            page = context.new_page()
            url = base + class_urls[class_name]
            page.goto(f"{url}?lang={language}")
            shoot(page, f"checkin-identify-{suffix}")
            page.fill("#student_number", number)
            page.fill("#phone_digits", "0000" if digits != "0000" else "1111")
            page.click("button[type=submit]")
            shoot(page, f"checkin-refused-{suffix}")
            page.fill("#student_number", number)
            page.fill("#phone_digits", digits)
            page.click("button[type=submit]")
            page.wait_for_selector(".ck-hello")
            shoot(page, f"checkin-form-{suffix}")
            page.select_option("#province", "湖北")
            page.select_option("#city", "武汉")
            page.check("input[name=health][value=fever]")
            page.fill("#temperature", "37.8")
            page.locator(".ck-form button[type=submit]").click()
            page.wait_for_selector("#done")
            shoot(page, f"checkin-done-{suffix}")
            context.close()

        for lang in ("zh", "en"):
            language = "zh_CN" if lang == "zh" else "en"
            for width in (390, 1280):
                phone = width < 500
                suffix = "" if not phone else "-phone"
                context = browser.new_context(
                    viewport={"width": width, "height": 844 if phone else 900},
                    device_scale_factor=2 if phone else 1,
                    locale="zh-CN" if lang == "zh" else "en-US")
                page = context.new_page()
                page.goto(f"{base}/login?lang={language}")
                page.fill("#username", "counsellor1")
                page.fill("#password", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                page.goto(f"{base}/checkin/links/?lang={language}")
                shoot(page, f"checkin-links{suffix}-{lang}", full_page=False)
                first_class = students[0][2]
                page.goto(f"{base}/checkin/links/qr?class={first_class}&lang={language}")
                shoot(page, f"checkin-qr{suffix}-{lang}", full_page=False)
                context.close()
        browser.close()
    server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
