"""Finding 5: the security headers on every route of ``app.url_map`` (as the access matrix
walks it), signed in and not, whatever the answer; no caching of anything but static files;
and no inline script or style attribute the policy would refuse."""

import re
from pathlib import Path

import pytest

from caretrack import create_app
from tests.test_access_matrix import all_endpoints

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def urls(app):
    """One URL for each rule, its placeholders filled with plausible values."""
    for rule in app.url_map.iter_rules():
        values = {}
        for name, converter in rule._converters.items():
            kind = type(converter).__name__
            if kind == "AnyConverter":
                values[name] = sorted(converter.items)[0]
            else:
                values[name] = {"IntegerConverter": 1, "PathConverter": "css/app.css"}.get(
                    kind, "x")
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule.endpoint, method, rule.build(values, append_unknown=False)[1]


def check(response, endpoint):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (endpoint, name)
    policy = response.headers["Content-Security-Policy"]
    for part in ("default-src 'self'", "script-src 'self'", "object-src 'none'",
                 "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in policy, (endpoint, part)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    if endpoint != "static":
        assert response.headers["Cache-Control"] == "no-store", endpoint
    else:
        assert response.headers.get("Cache-Control") != "no-store"


@pytest.mark.parametrize("role", [None, "counsellor", "deputy", "admin"])
def test_every_route_answers_with_the_security_headers(app, client, auth, college, role):
    if role:
        auth.login(getattr(college, {"deputy": "deputy", "admin": "admin"}.get(role, role)))
    seen = set()
    for endpoint, method, url in urls(app):
        if endpoint == "auth.logout":
            continue
        response = client.open(url, method=method)
        check(response, endpoint)
        response.close()
        seen.add(endpoint)
    assert seen >= all_endpoints(app) - {"auth.logout"}


def test_a_student_page_and_an_export_are_never_cached(client, auth, college):
    auth.login(college.counsellor)
    for url in (f"/students/{college.own_student.id}", "/students/export/xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store"


def test_hsts_in_production_only(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app = create_app("production", env={"SECRET_KEY": "k" * 40})
    with app.app_context():
        response = app.test_client().get("/login", base_url="https://example.edu.cn")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_template_has_inline_script_style_or_handlers():
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\b(src|type=\"application/json\"))[^>]*>",
                        r"\sstyle=\"", r"\son[a-z]+=\"", r"<style", r"javascript:"):
            if re.search(pattern, text):
                found.append((path.name, pattern))
    assert not found
