"""Moderation tables: cases, reports, the rumour / not-a-rumour corpus, and the audit log.

The warn ladder has no table of its own: an author's step is the number of their confirmed
cases in the counting window, so overturning a case on appeal takes it off the ladder too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import UTCDateTime
from bot.models import Base

# Case status
OPEN, CONFIRMED, DISMISSED = "open", "confirmed", "dismissed"
# How a case was opened
FLAG, REPORT, SCREEN = "flag", "report", "screen"
# Corpus kinds
RUMOUR, INNOCENT = "rumour", "innocent"


class ModerationCase(Base):
    """One message under review; its id is the case number people type (/确认 12)."""

    __tablename__ = "moderation_case"
    __table_args__ = (
        # One case per message, however many reports or screening passes it gets.
        UniqueConstraint("group_id", "message_id", name="uq_moderation_case_message"),
        Index("ix_moderation_case_author", "author_id", "status"),
        Index("ix_moderation_case_status", "status", "group_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(64))
    # The message as it was (snapshot, truncated), and its normalised form for the corpus.
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # flag | report | screen
    category: Mapped[str] = mapped_column(String(16))  # rumour | abuse | fraud | banned
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Moderator for /谣言, first reporter for /举报, NULL for screening. Never shown to the author.
    opened_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)  # report reason or what screening matched
    match_case_id: Mapped[int | None] = mapped_column(Integer)  # the confirmed rumour it copies
    reports: Mapped[int] = mapped_column(Integer, default=0)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)  # the moderator's explanation
    clarification: Mapped[str | None] = mapped_column(Text)  # what was posted in the group
    recalled: Mapped[bool] = mapped_column(Boolean, default=False)
    ladder_step: Mapped[int | None] = mapped_column(Integer)  # 1-based; None until confirmed
    mute_seconds: Mapped[int | None] = mapped_column(Integer)
    appeal: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    appeal_result: Mapped[str | None] = mapped_column(String(16))  # upheld | overturned


class ModerationReport(Base):
    """Who reported what, for the rate limit and the count; never shown to the author."""

    __tablename__ = "moderation_report"
    __table_args__ = (
        UniqueConstraint("case_id", "reporter_id", name="uq_moderation_report_once"),
        Index("ix_moderation_report_recent", "reporter_id", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModerationCorpus(Base):
    """Texts moderators decided on: confirmed rumours and dismissed ("not a rumour") texts.

    Rows are only inserted or deactivated, never edited, so every process can follow the table
    incrementally (new ids, and deactivated ids) to keep its in-memory index current.
    """

    __tablename__ = "moderation_corpus"
    __table_args__ = (
        Index("ix_moderation_corpus_hash", "kind", "norm_hash"),
        Index("ix_moderation_corpus_active", "active"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # rumour | innocent
    text: Mapped[str] = mapped_column(Text)
    norm: Mapped[str] = mapped_column(Text)
    norm_hash: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(Integer)
    added_by: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ModerationAudit(Base):
    """Every action: who (NULL = the bot), what, when, why, and the message as it was."""

    __tablename__ = "moderation_audit"
    __table_args__ = (Index("ix_moderation_audit_case", "case_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(Integer)
    group_id: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64))  # the author concerned
    reason: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[str | None] = mapped_column(Text)
