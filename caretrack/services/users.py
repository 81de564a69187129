"""Managing accounts."""

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import Role, User


class UsernameTaken(ValueError):
    pass


def create_user(
    username: str, display_name: str, role: str, password: str, email: str | None = None,
    locale: str = "zh_CN",
) -> User:
    """Add an active account."""
    username = username.strip()
    if db.session.scalars(select(User.id).where(User.username == username)).first():
        raise UsernameTaken(username)
    user = User(
        username=username, display_name=display_name.strip(), role=Role(role), email=email,
        locale=locale, active=True,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, *, display_name: str, role: str, active: bool, email: str | None):
    """Change an account; deactivating it ends all its sessions."""
    user.display_name = display_name.strip()
    user.role = Role(role)
    user.email = email or None
    if user.active and not active:
        user.end_sessions()
    user.active = active
    db.session.flush()


def reset_password(user: User, password: str) -> None:
    """Set a new password chosen by the admin and end the user's sessions."""
    user.set_password(password)
    user.end_sessions()
    db.session.flush()


def users_with_role(role: str) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == role, User.active).order_by(User.display_name)
        )
    )
