"""Core tables: the outbox ledger and its pacing (the organisation lives in its file)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, Double, Index, Integer, MetaData, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.db import UTCDateTime


class Base(DeclarativeBase):
    """Every table of the bot and its plugins, in one metadata (one engine, one history)."""

    # Constraint and index names as the existing migrations created them (the naming of
    # nonebot-plugin-orm, which the bot used until it moved to plain SQLAlchemy).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    if TYPE_CHECKING:
        __table__: ClassVar[Table]  # every model maps one table (never a join or a select)


class Outbox(Base):
    """One row per (purpose, period, target): the unique key is what makes sends exactly-once."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("purpose", "period", "target_kind", "target_id", name="uq_outbox_key"),
        Index("ix_outbox_due", "status", "not_before"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    purpose: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(64))
    # The sending account; NULL means "whichever connected account claims it first".
    bot_id: Mapped[str | None] = mapped_column(String(64))
    # The platform whose accounts may send it ("qq", "feishu"); NULL: any.
    platform: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)


class OutboxPace(Base):
    """When a bot account may send its next outbox message: one row per account, shared by
    every process on the database, so two processes holding one account still space its sends."""

    __tablename__ = "outbox_pace"
    bot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Seconds since the epoch by the database's clock (one clock for every process and host).
    next_at: Mapped[float] = mapped_column(Double)
    # The worker sending for the account now (next_at is then the end of its lease), else NULL.
    holder: Mapped[str | None] = mapped_column(String(64))
