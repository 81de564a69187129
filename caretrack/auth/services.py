"""Sign-in rules: loading the user behind a cookie, checking passwords, safe redirects."""

from urllib.parse import urlsplit

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import User


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


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every other session of the user."""
    user.set_password(new_password)
    user.end_sessions()
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
