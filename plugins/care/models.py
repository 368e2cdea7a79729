"""Tables for care and culture: commendations (表扬) and suggestions (献一策).

Both are signed on purpose: a commendation names who did the good deed, and a suggestion keeps
its author so that a good one can be commended in turn. Anything anonymous belongs in
/诉求, whose tables hold no person at all. Greetings need no table: the outbox ledger's unique
(purpose, period, target) key is their whole record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import UTCDateTime
from bot.models import Base


class Commendation(Base):
    """A nomination for a good deed; approved ones go out in the Monday digest."""

    __tablename__ = "care_commendation"
    __table_args__ = (
        Index("ix_care_commendation_status", "status", "digest_week"),
        Index("ix_care_commendation_nominator", "nominator", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nominee: Mapped[str] = mapped_column(String(64))
    # Names as known when nominated (org file, else the group card): the digest is readable
    # even if the person later leaves the org file.
    nominee_name: Mapped[str | None] = mapped_column(String(64))
    nominator: Mapped[str] = mapped_column(String(64))
    nominator_name: Mapped[str | None] = mapped_column(String(64))
    # The group it was typed in (None in private chat): that group also hears the digest.
    group_id: Mapped[str | None] = mapped_column(String(64))
    deed: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, approved, rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    # ISO week ("2026-W48") of the digest that carried it; NULL until then.
    digest_week: Mapped[str | None] = mapped_column(String(10))


class Suggestion(Base):
    """献一策: a signed suggestion, classified into an org category and forwarded to its leader."""

    __tablename__ = "care_suggestion"
    __table_args__ = (
        Index("ix_care_suggestion_created", "created_at"),
        Index("ix_care_suggestion_author", "author", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    author: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str | None] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    leader: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
