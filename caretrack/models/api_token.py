"""Personal access tokens: how another system calls the API as one user."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.user import User


class TokenScope(StrEnum):
    #: Reads only: any write answers 403.
    READ = "read"
    #: Reads and writes, as the user could in the pages.
    READ_WRITE = "read_write"


class ApiToken(db.Model):
    """A personal access token. Only the SHA-256 digest of its 256-bit secret is stored: the
    secret is shown once, when the token is created."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: What the user calls it ("campus app check-ins").
    name: Mapped[str] = mapped_column(String(100))
    #: One of :class:`TokenScope`.
    scope: Mapped[str] = mapped_column(String(10), default=TokenScope.READ)
    #: Hex SHA-256 digest of the secret.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The secret's first characters, so the user can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        """Whether the token authenticates at ``now``: neither revoked nor expired."""
        return self.revoked_at is None and now < self.expires_at

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.READ_WRITE
