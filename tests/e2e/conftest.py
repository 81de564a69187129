"""Browser tests: the app served on 127.0.0.1 from a thread, on a copy of the demo college,
driven by Playwright in Debian's Chromium, in the Chinese interface.

Without Chromium these tests are skipped with a clear message – unless CARETRACK_E2E_REQUIRED
is set (as in CI), where a missing browser is a failure.
"""

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import WSGIRequestHandler

CHROMIUM = os.environ.get("CARETRACK_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("CARETRACK_E2E_REQUIRED") == "1"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DEMO_PASSWORD = "caretrack-demo"


class QuietHandler(WSGIRequestHandler):
    """Serve without the access log: a failing test shows the app's errors, not every GET."""

    def log_request(self, *args, **kwargs):
        pass


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    if Path(CHROMIUM).exists() or REQUIRED:
        return
    skip = pytest.mark.skip(reason=f"browser tests skipped: no Chromium at {CHROMIUM} "
                                   "(apt-get install chromium fonts-noto-cjk)")
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required for the browser tests and is missing at {CHROMIUM}")
    return {"executable_path": CHROMIUM, "args": LAUNCH_ARGS}


@pytest.fixture(scope="session", autouse=True)
def _browser_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("chromium-home")
    os.environ["XDG_CONFIG_HOME"] = str(home)
    os.environ["XDG_CACHE_HOME"] = str(home)


@contextmanager
def serve_demo_copy(demo_template, purpose: str):
    """Serve a copy of the demo college (migrated from empty and seeded once per session, see
    tests/conftest.py) on a free local port, with CSRF on; the server's ``app_for_tests`` is
    the app."""
    from werkzeug.serving import make_server

    from caretrack.extensions import db

    with demo_template.copy_app(
        purpose, WTF_CSRF_ENABLED=True, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000"
    ) as app:
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        server.app_for_tests = app
        try:
            yield server
        finally:
            server.shutdown()
            thread.join(timeout=5)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(demo_template):
    """The journeys' copy of the demo college, served on a free local port."""
    with serve_demo_copy(demo_template, "e2e") as server:
        yield server


@pytest.fixture(scope="session")
def base_url(live_server):
    return f"http://127.0.0.1:{live_server.server_port}"


@pytest.fixture
def console_errors():
    """Every console error and uncaught exception of the test's pages (a refusal of the
    Content-Security-Policy is one); the test fails if there is any."""
    errors: list[str] = []
    yield errors
    assert not errors, f"console errors: {errors}"


def watch_console(page, errors: list[str]) -> None:
    """Collect the page's console errors; a 4xx page the test asks for is not one (the
    browser logs its status as "Failed to load resource")."""
    page.on("console", lambda m: errors.append(f"{m.text} ({page.url})")
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None)
    page.on("pageerror", lambda e: errors.append(f"{e} ({page.url})"))


@pytest.fixture
def page(page, console_errors):
    watch_console(page, console_errors)
    return page


@pytest.fixture
def login(page, base_url):
    """Sign in through the login form as a demo user; returns the page."""

    def sign_in(username: str):
        page.goto(f"{base_url}/login")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return sign_in


@pytest.fixture
def app_db(live_server):
    """An app context on the live server's database, to find test data and check results."""
    from caretrack.extensions import db

    with live_server.app_for_tests.app_context():
        yield db
        db.session.remove()


@pytest.fixture
def sign_in(browser, base_url, console_errors):
    """Open a browser window of its own for a demo user and sign in through the login form.

    Several users can be signed in at once in one test (the supervisor, then the counsellor);
    their windows close after the test.
    """
    contexts = []

    def open_as(username: str):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        watch_console(page, console_errors)
        page.goto(f"{base_url}/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("button", name="退出登录")).to_be_attached()
        return page

    yield open_as
    for context in contexts:
        context.close()
