"""Personal access tokens: create (the secret is shown once), find by secret, revoke."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from caretrack.extensions import db
from caretrack.models import ApiToken, TokenScope, User
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError

#: What every secret starts with, so a leaked one is recognisable (e.g. by secret scanners).
SECRET_PREFIX = "ct_"  # noqa: S105 - a marker, not a secret
#: The expiries a user may choose, in days.
EXPIRY_DAYS = (7, 30, 90, 365)


def digest(secret: str) -> str:
    """Return the stored form of a secret: its hex SHA-256 digest."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    user: User, *, name: str, scope: str, days: int, now: datetime, ip: str = ""
) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its secret (256 random bits), which is
    not stored and cannot be shown again.

    :raise RuleError: "empty" for a blank name, "api-token-scope" or "api-token-expiry" for a
        scope or an expiry not offered.
    """
    name = name.strip()
    if not name:
        raise RuleError("empty", "name")
    if scope not in {s.value for s in TokenScope}:
        raise RuleError("api-token-scope", "scope")
    if days not in EXPIRY_DAYS:
        raise RuleError("api-token-expiry", "days")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name[:100], scope=scope, token_hash=digest(secret),
        prefix=secret[:10], created_at=now, expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    record_event("api_token.create", user, detail=f"token:{token.id}", now=now, ip=ip)
    return token, secret


def tokens_of(user: User) -> list[ApiToken]:
    """Return the user's tokens, newest first (revoked and expired ones too)."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ))


def authenticate(secret: str, now: datetime) -> ApiToken | None:
    """Return the usable token whose secret this is (an active user's), or None; a found
    token's "last used" becomes ``now`` (the caller commits)."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == digest(secret))
    ).one_or_none()
    if token is None or not token.is_usable(now) or not token.user.active:
        return None
    db.session.execute(
        update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
    )
    return token


def revoke_token(user: User, token_id: int, *, now: datetime, ip: str = "") -> ApiToken:
    """Revoke one of the user's tokens; it answers 401 from now on. Revoking a revoked token
    again changes nothing (a double submit).

    :raise RuleError: "api-token-unknown" for a token that is not the user's.
    """
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    ).one_or_none()
    if token is None:
        raise RuleError("api-token-unknown")
    if token.revoked_at is not None:
        return token
    token.revoked_at = now
    db.session.flush()
    record_event("api_token.revoke", user, detail=f"token:{token.id}", now=now, ip=ip)
    return token
