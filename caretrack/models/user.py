"""Accounts and their roles."""

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    #: 团委书记: merges the counsellors' reports and passes them on; no timelines.
    LEAGUE_SECRETARY = "league_secretary"
    #: 学院党委书记: approves the college's report and sends it to the university office.
    SECRETARY = "secretary"
    #: Manages the colleges and each college's admin; belongs to no college.
    UNIVERSITY_ADMIN = "university_admin"
    #: 学校防控办: reads every college's reports (no timelines, no notes, no student page).
    UNIVERSITY_OFFICE = "university_office"


#: The roles of the university's accounts, which belong to no college.
UNIVERSITY_ROLES = (Role.UNIVERSITY_ADMIN, Role.UNIVERSITY_OFFICE)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), index=True)
    #: One of :class:`Role`.
    role: Mapped[str] = mapped_column(String(20), index=True)
    #: The college the account works in; None for the university's accounts
    #: (:data:`UNIVERSITY_ROLES`).
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"), index=True)
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
    #: The TOTP secret (base32) once two-factor sign-in is turned on; None while it is off.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: The 30-second step of the last TOTP code accepted, so a code works only once.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    #: The reminders the user turned off, as "kind:channel" ("checkin:email", "report:app");
    #: everything else they get (see caretrack.services.reminders.REMINDERS).
    reminders_off: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

    college: Mapped["College | None"] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, password: str) -> None:
        from caretrack.services.passwords import hash_password

        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        from caretrack.services.passwords import check_password

        return check_password(self.password_hash, password)

    def end_sessions(self) -> None:
        """Invalidate every login cookie issued to this user so far."""
        self.session_token = new_token()

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class RecoveryCode(db.Model):
    """A one-time code that signs in instead of the authenticator app; kept hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(256))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
