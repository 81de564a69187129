"""Managing accounts: the admin opens and changes them; the CLI and the demo create them."""

from datetime import datetime

from sqlalchemy import select

from caretrack.access import accounts_with_role
from caretrack.extensions import db
from caretrack.models import Role, User
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError
from caretrack.services.passwords import check_new_password


def create_user(
    username: str, display_name: str, role: str, password: str, email: str | None = None,
    locale: str = "zh_CN",
) -> User:
    """Add an active account.

    :raise RuleError: "username-taken" when another account has the username.
    """
    username = username.strip()
    if db.session.scalars(select(User.id).where(User.username == username)).first():
        raise RuleError("username-taken", "username")
    user = User(
        username=username, display_name=display_name.strip(), role=Role(role), email=email,
        locale=locale, active=True,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def open_account(
    admin: User, *, username: str, display_name: str, role: str, password: str,
    email: str | None, active: bool, now: datetime | None = None, ip: str = "",
) -> User:
    """Open an account on the admin's behalf and audit it.

    :raise RuleError: "password-required" without a password, "username-taken".
    """
    if not password:
        raise RuleError("password-required", "password")
    check_new_password(password, field="password", username=username)
    user = create_user(username, display_name, role, password, email or None)
    user.active = active
    db.session.flush()
    record_event("user.create", admin, detail=f"user:{user.id}", now=now, ip=ip)
    return user


def change_account(
    admin: User, user: User, *, display_name: str, role: str, active: bool, email: str | None,
    password: str = "", now: datetime | None = None, ip: str = "",
) -> User:
    """Change an account (and its password, if one is given) and audit it; deactivating an
    account or setting its password ends all its sessions.

    :raise RuleError: "own-account" when the admin would deactivate their own account.
    """
    if user.id == admin.id and not active:
        raise RuleError("own-account", "active")
    if password:
        check_new_password(password, field="password", username=user.username)
    user.display_name = display_name.strip()
    user.role = Role(role)
    user.email = email or None
    if user.active and not active:
        user.end_sessions()
    user.active = active
    if password:
        user.set_password(password)
        user.end_sessions()
    db.session.flush()
    record_event("user.update", admin, detail=f"user:{user.id}", now=now, ip=ip)
    return user


def users_with_role(role: str) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(accounts_with_role(role)).order_by(User.display_name)
        )
    )
