"""Sign-in rules: loading the user behind a cookie, signing in and out, passwords, safe
redirects. Each verb writes its own audit event."""

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import User
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError


def load_user_from_cookie_id(cookie_id: str) -> User | None:
    """Return the user whose login cookie carries ``cookie_id`` ("<id>:<session token>").

    A cookie issued before the user's last logout, password change or deactivation carries an
    old session token and loads nobody.
    """
    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = db.session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def sign_in(username: str, password: str, *, now: datetime | None = None,
            ip: str = "") -> User | None:
    """Return the active user with these credentials (or None) and audit the attempt."""
    user = authenticate(username, password)
    if user is None:
        record_event("login.failed", None, detail=username[:64], now=now, ip=ip)
    else:
        record_event("login", user, now=now, ip=ip)
    return user


def sign_out(user: User, *, now: datetime | None = None, ip: str = "") -> None:
    """End every session of ``user`` and audit it."""
    user.end_sessions()
    record_event("logout", user, now=now, ip=ip)
    db.session.flush()


def change_password(user: User, current_password: str, new_password: str, *,
                    now: datetime | None = None, ip: str = "") -> None:
    """Set a new password, end every other session of the user, and audit it.

    :raise RuleError: "current-password-wrong" when ``current_password`` is not the user's.
    """
    if not user.check_password(current_password):
        raise RuleError("current-password-wrong", "current_password")
    user.set_password(new_password)
    user.end_sessions()
    record_event("password.change", user, now=now, ip=ip)
    db.session.flush()


def save_preferences(user: User, *, locale: str, email: str) -> None:
    """Keep the user's interface language and email address."""
    user.locale = locale
    user.email = email.strip() or None
    db.session.flush()


def is_safe_next(target: str | None) -> bool:
    """Whether ``target`` is a path on this site (a single leading slash, no scheme or host)."""
    if not target:
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
