"""In the browser: a counsellor creates an API token on the account page, copies it from the
page that shows it once, uses it, and revokes it; the pages fit a phone screen."""

import os

from playwright.sync_api import expect

SHOTS = os.environ.get("CARETRACK_SHOTS")  # a folder: save screenshots of the pages there


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _fits(page):
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def _students(page, base_url, secret):
    return page.request.get(f"{base_url}/api/v1/students",
                            headers={"Authorization": f"Bearer {secret}"}).status


def test_a_counsellor_creates_uses_and_revokes_a_token(browser, base_url):
    for width, height, locale in ((1280, 900, "zh-CN"), (390, 844, "en")):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale=locale)
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(f"{base_url}/login?lang={locale[:2]}")
        page.fill("#username", "counsellor1")
        page.fill("#password", "caretrack-demo")
        page.click("button[type=submit]")
        page.goto(f"{base_url}/account")
        if locale == "en":
            page.select_option("#locale", "en")
            page.locator("form.card button[type=submit]").first.click()
        name = f"campus app {width}"
        page.fill("#name", name)
        page.locator("#scope-1").check()
        page.select_option("#days", "90")
        _shot(page, f"account-{width}-{locale}")
        _fits(page)
        page.locator("#api-tokens button[type=submit]").first.click()
        secret = page.locator("#token-secret").input_value()
        assert secret.startswith("ct_")
        page.locator("[data-copy]").click()
        assert page.evaluate("navigator.clipboard.readText()") == secret
        _shot(page, f"token-created-{width}-{locale}")
        _fits(page)
        assert _students(page, base_url, secret) == 200
        page.locator("a.btn-primary[href*='#api-tokens']").click()
        row = page.locator("#api-tokens li", has_text=name)
        expect(row).to_be_visible()
        _shot(page, f"account-listed-{width}-{locale}")
        row.locator("button[type=submit]").click()
        expect(page.locator("#api-tokens li", has_text=name).locator(".badge")).to_be_visible()
        assert _students(page, base_url, secret) == 401
        if locale == "en":
            page.select_option("#locale", "zh_CN")
            page.locator("form.card button[type=submit]").first.click()
        context.close()
