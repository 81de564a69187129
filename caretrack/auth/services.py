"""Sign-in rules: loading the user behind a cookie, signing in and out, passwords, safe
redirects. Each verb writes its own audit event."""

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import pyotp
import segno
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import RecoveryCode, User, now_utc
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError
from caretrack.services.passwords import check_new_password, check_password, needs_rehash

#: How many recovery codes a user holds after enrolling (each works once).
RECOVERY_CODES = 10


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


def find_account(username: str) -> User | None:
    return db.session.scalars(select(User).where(User.username == username.strip())).first()


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None.

    An unknown username is checked against a dummy hash, so it takes as long as a wrong
    password. A hash made with older parameters is replaced by one of the current method.
    """
    user = find_account(username)
    if not check_password(user.password_hash if user else None, password):
        return None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.set_password(password)
    return user


@dataclass
class SignIn:
    """What a right password gives: the user, and whether a second factor must follow
    (``enrol``: the role needs one and the user has none yet)."""

    user: User | None
    second_factor: bool = False
    enrol: bool = False


def sign_in(username: str, password: str, *,
            require_two_factor: Callable[[User], bool] | None = None,
            now: datetime | None = None, ip: str = "") -> SignIn:
    """Check the password and audit the attempt; with the right one, say whether a second
    factor must follow (the user's own, or ``require_two_factor`` for the user's role).

    A failed sign-in keeps the username only when it is a real account's, else "unknown", so
    a password typed into the username field is never stored.
    """
    user = authenticate(username, password)
    if user is None:
        known = find_account(username)
        record_event("login.failed", None, detail=known.username if known else "unknown",
                     now=now, ip=ip)
        return SignIn(None)
    if user.totp_secret or (require_two_factor and require_two_factor(user)):
        return SignIn(user, second_factor=True, enrol=not user.totp_secret)
    record_event("login", user, now=now, ip=ip)
    return SignIn(user)


def record_throttled(username: str, *, now: datetime | None = None, ip: str = "") -> None:
    """Audit a sign-in refused unread because the account or the address must wait."""
    known = find_account(username or "")
    record_event("login.throttled", None, detail=known.username if known else "unknown",
                 now=now, ip=ip)


# -- two-factor sign-in (TOTP, RFC 6238) --------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_qr(user: User, secret: str, issuer: str) -> str:
    """The QR code (an SVG data URI) an authenticator app scans to enrol ``secret``."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


def _recovery_hash(user: User, code: str) -> str:
    normalized = code.replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(f"{user.id}:{normalized}".encode()).hexdigest()


def _matches_totp(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side), unless used already."""
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def check_second_factor(user: User, code: str, *, now: datetime | None = None) -> bool:
    """Whether ``code`` is the user's current TOTP code (each works once) or one of their
    unused recovery codes (then used up)."""
    now = now or now_utc()
    code = (code or "").strip()
    if not user.totp_secret:
        return False
    if code.isdigit() and len(code) == 6:
        step = _matches_totp(user.totp_secret, code, now, user.totp_last_step)
        if step is None:
            return False
        user.totp_last_step = step
        return True
    wanted = _recovery_hash(user, code)
    for recovery in db.session.scalars(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))):
        if hmac.compare_digest(recovery.code_hash, wanted):
            recovery.used_at = now
            return True
    return False


def pass_second_factor(user: User, code: str, *, now: datetime | None = None,
                       ip: str = "") -> bool:
    """Finish a sign-in with the second factor; audit the outcome."""
    if check_second_factor(user, code, now=now):
        record_event("login", user, detail="two-factor", now=now, ip=ip)
        db.session.flush()
        return True
    record_event("two_factor.failed", user, now=now, ip=ip)
    db.session.flush()
    return False


def record_sign_in(user: User, *, now: datetime | None = None, ip: str = "") -> None:
    """Audit a sign-in completed by enrolling a second factor."""
    record_event("login", user, detail="two-factor", now=now, ip=ip)


def unused_recovery_codes(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def new_recovery_codes(user: User, *, now: datetime | None = None, ip: str = "") -> list[str]:
    """Replace the user's recovery codes with fresh ones; return them (shown once)."""
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user, c))
                       for c in codes)
    record_event("two_factor.recovery_codes", user, now=now, ip=ip)
    db.session.flush()
    return codes


def enable_two_factor(user: User, secret: str, code: str, *, now: datetime | None = None,
                      ip: str = "") -> list[str]:
    """Turn on two-factor sign-in with ``secret`` once ``code`` proves the app has it; audit
    it; return the new recovery codes.

    :raise RuleError: "two-factor-wrong" when ``code`` is not the secret's current code.
    """
    now = now or now_utc()
    step = _matches_totp(secret, (code or "").strip(), now, None)
    if step is None:
        raise RuleError("two-factor-wrong", "code")
    user.totp_secret = secret
    user.totp_last_step = step
    record_event("two_factor.enable", user, now=now, ip=ip)
    return new_recovery_codes(user, now=now, ip=ip)


def disable_two_factor(user: User, *, required: bool, now: datetime | None = None,
                       ip: str = "") -> None:
    """Turn two-factor sign-in off (only where the role does not need it) and audit it.

    :raise RuleError: "two-factor-required" for a role that must keep it.
    """
    if required:
        raise RuleError("two-factor-required")
    user.totp_secret = None
    user.totp_last_step = None
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    record_event("two_factor.disable", user, now=now, ip=ip)
    db.session.flush()


def sign_out(user: User, *, now: datetime | None = None, ip: str = "") -> None:
    """End every session of ``user`` and audit it."""
    user.end_sessions()
    record_event("logout", user, now=now, ip=ip)
    db.session.flush()


def change_password(user: User, current_password: str, new_password: str, *,
                    now: datetime | None = None, ip: str = "") -> None:
    """Set a new password, end every other session of the user, and audit it.

    :raise RuleError: "current-password-wrong" when ``current_password`` is not the user's;
        "password-length" or "password-common" for a new password the policy refuses.
    """
    if not user.check_password(current_password):
        raise RuleError("current-password-wrong", "current_password")
    check_new_password(new_password, username=user.username)
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
