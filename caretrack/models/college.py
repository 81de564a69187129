"""Colleges: one installation serves a university, every student and college account
belongs to one college."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc

#: The code of the college an install that predates colleges keeps its data in.
DEFAULT_COLLEGE_CODE = "default"


class College(db.Model):
    __tablename__ = "colleges"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short code, unique, lower-case letters and digits (e.g. "sem"); prefixes the demo's
    #: account names of the colleges after the first.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    #: The college's sign-off stages in order, each ``{"stage": ..., "deadline": "HH:MM"}``
    #: (see :mod:`caretrack.models.sign_off`); None: the account's four stages.
    stages: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    def __repr__(self) -> str:
        return f"<College {self.code}>"

    def name(self, locale: str = "zh_CN") -> str:
        """The college's name in ``locale`` (Chinese unless English is asked and known)."""
        return self.name_en if locale.startswith("en") and self.name_en else self.name_zh
