"""Managing accounts: the admin opens and changes them; the CLI and the demo create them."""

from datetime import datetime

from sqlalchemy import select

from caretrack.access import accounts_with_role, assignable_roles, can_manage_roster
from caretrack.extensions import db
from caretrack.models import UNIVERSITY_ROLES, College, Role, User
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError
from caretrack.services.passwords import check_new_password


def create_user(
    username: str, display_name: str, role: str, password: str, email: str | None = None,
    locale: str = "zh_CN", *, college: College | int | None = None,
    password_hash: str | None = None,
) -> User:
    """Add an active account, of ``college`` (none for the university's roles), with
    ``password`` hashed, or with ``password_hash`` already made (the demo's accounts share
    one hash of the published password: a hash takes half a second).

    :raise RuleError: "username-taken" when another account has the username,
        "college-required" for a college's role without a college.
    """
    username = username.strip()
    if db.session.scalars(select(User.id).where(User.username == username)).first():
        raise RuleError("username-taken", "username")
    college_id = _college_for(Role(role), college)
    user = User(
        username=username, display_name=display_name.strip(), role=Role(role), email=email,
        locale=locale, active=True, college_id=college_id,
    )
    if password_hash:
        user.password_hash = password_hash
    else:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def _college_for(role: Role, college: College | int | None) -> int | None:
    """The college id an account of ``role`` keeps: none for the university's roles.

    :raise RuleError: "college-required" for a college's role without one.
    """
    if role in UNIVERSITY_ROLES:
        return None
    college_id = college.id if isinstance(college, College) else college
    if not college_id or db.session.get(College, college_id) is None:
        raise RuleError("college-required", "college_id")
    return college_id


def _college_chosen(admin: User, college_id: int | None) -> int | None:
    """A college's admin opens accounts in their own college; the university admin chooses."""
    return admin.college_id if can_manage_roster(admin) else college_id


def open_account(
    admin: User, *, username: str, display_name: str, role: str, password: str,
    email: str | None, active: bool, college_id: int | None = None,
    now: datetime | None = None, ip: str = "",
) -> User:
    """Open an account on the admin's behalf (a college's admin: in their college; the
    university admin: a college's admin, in the college chosen) and audit it.

    :raise RuleError: "password-required" without a password, "username-taken",
        "role-not-allowed", "college-required".
    """
    if role not in assignable_roles(admin):
        raise RuleError("role-not-allowed", "role")
    if not password:
        raise RuleError("password-required", "password")
    check_new_password(password, field="password", username=username)
    user = create_user(username, display_name, role, password, email or None,
                       college=_college_chosen(admin, college_id))
    user.active = active
    db.session.flush()
    record_event("user.create", admin, detail=f"user:{user.id}", now=now, ip=ip)
    return user


def change_account(
    admin: User, user: User, *, display_name: str, role: str, active: bool, email: str | None,
    password: str = "", college_id: int | None = None, now: datetime | None = None,
    ip: str = "",
) -> User:
    """Change an account (and its password, if one is given; the university admin: the college
    of a college's admin) and audit it; deactivating an account or setting its password ends
    all its sessions.

    :raise RuleError: "own-account" when the admin would deactivate their own account,
        "role-not-allowed", "college-required".
    """
    if user.id == admin.id and not active:
        raise RuleError("own-account", "active")
    if role not in assignable_roles(admin):
        raise RuleError("role-not-allowed", "role")
    user.college_id = _college_for(Role(role), _college_chosen(admin, college_id))
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


def users_with_role(role: str, college) -> list[User]:
    """The active accounts of ``role`` in ``college`` (an account's, a college or its id)."""
    return list(
        db.session.scalars(
            select(User).where(accounts_with_role(role, college)).order_by(User.display_name)
        )
    )
