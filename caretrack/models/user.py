"""Accounts and their roles."""

import secrets
from datetime import datetime
from enum import StrEnum

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc


def new_token() -> str:
    """Return a fresh random URL-safe token."""
    return secrets.token_urlsafe(24)


class Role(StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    DEPUTY_SECRETARY = "deputy_secretary"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), index=True)
    #: One of :class:`Role`.
    role: Mapped[str] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    #: Interface language the user chose: "zh_CN" or "en".
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    #: Part of the login cookie; replaced at logout, password change and deactivation, which
    #: ends every session that carried the old value.
    session_token: Mapped[str] = mapped_column(String(64), default=new_token)
    #: Secret path segment of the user's personal calendar feed.
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Invalidate every login cookie issued to this user so far."""
        self.session_token = new_token()

    def has_role(self, *roles: str) -> bool:
        return self.role in roles
