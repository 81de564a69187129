"""The app-wide defences: the response headers, the sessions' idle and absolute limits, the
rate limiter's keys and limits, and the trusted proxies.

The headers are a small ``after_request`` hook of our own rather than Flask-Talisman: the app
needs six fixed headers, no nonce (every script is a file under static/), HTTPS is forced by the
proxy in front of it, and ``Cache-Control: no-store`` depends on the endpoint - the hook is
fifteen lines that a test reads against every route.
"""

import time

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix

from caretrack.extensions import limiter
from caretrack.models import User
from caretrack.web import client_address

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def set_security_headers(response):
    """Every response: the CSP and its companions; HSTS in production; and no caching of
    anything but the static files (every page and export may show a student)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("HSTS"):
        response.headers["Strict-Transport-Security"] = HSTS
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


# -- sessions ------------------------------------------------------------------------------------


def start_session(user: User) -> None:
    """Sign ``user`` in on a fresh session: nothing of the session before survives but the
    chosen language, so a session fixed before sign-in is worth nothing after it."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    now = int(time.time())
    session["signed_in_at"] = now
    session["seen_at"] = now
    session.permanent = True
    login_user(user)


def end_stale_session():
    """Sign out a session idle longer than SESSION_IDLE or older than SESSION_MAX_AGE."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = time.time()
    config = current_app.config
    started = session.get("signed_in_at", 0)
    seen = session.get("seen_at", 0)
    if (now - seen > config["SESSION_IDLE"].total_seconds()
            or now - started > config["SESSION_MAX_AGE"].total_seconds()):
        language = session.get("lang")
        logout_user()
        session.clear()
        if language:
            session["lang"] = language
        flash(_("Your session has ended; please sign in again."), "warning")
        target = request.full_path if request.method == "GET" else ""
        return redirect(url_for("auth.login", next=target.rstrip("?") or None))
    if now - seen > 30:  # re-sign the cookie at most every 30 s
        session["seen_at"] = int(now)
    return None


# -- rate limits ---------------------------------------------------------------------------------


def address_key() -> str:
    return client_address() or "unknown"


def account_key() -> str:
    """The account a sign-in names (its username, case and spaces aside), or the account a
    second-factor step belongs to."""
    pending = session.get("pending_user")
    if request.endpoint and request.endpoint.startswith("auth.two_factor") and pending:
        return f"user:{str(pending).split(':', 1)[0]}"
    return "name:" + (request.form.get("username") or "").strip().lower()[:64]


def config_limit(name: str):
    return lambda: current_app.config[name]


def failed() -> bool:
    """Whether the view marked this request a failed try (``g.failed_try``)."""
    return bool(g.get("failed_try"))


def wait_minutes(limit) -> int:
    """Minutes until the breached ``limit`` (a Flask-Limiter RequestLimit) lets a try through."""
    return max(1, round((limit.reset_at - time.time()) / 60))


def init_app(app: Flask) -> None:
    if app.config.get("PROXY_HOPS"):
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    limiter.init_app(app)
    app.after_request(set_security_headers)
    app.before_request(end_stale_session)
