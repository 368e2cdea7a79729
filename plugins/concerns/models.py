"""Tables for anonymous concerns.

Every stored time is rounded down to the hour (`plugins.concerns.core.hour`), to weaken any
correlation with the platform's own message log.

What is NOT here is the point: no concern or event row holds the submitter's platform id, name,
nickname or any value derived from them. The only way back to the submitter is the sealed
route in `concerns_route`, a separate table, destroyed after the retention period. Drafts and
rate counters are keyed by a keyed hash of the user, are short-lived, and link to no concern.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import UTCDateTime
from bot.models import Base


class Concern(Base):
    __tablename__ = "concerns_concern"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # HMAC of the receipt code: a database reader cannot turn it back into a working code.
    receipt_digest: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(64))
    leader: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    # Only what the submitter chose to give (department or name), else NULL.
    disclosed: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="new")  # new, acknowledged, replied, closed
    # Rounded down to the hour, to weaken correlation with the platform's own message log.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    level: Mapped[int] = mapped_column(Integer, default=0)  # escalation step reached in this phase
    # When the next reminder or escalation step is taken (the ladder's clock).
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The deadline of the current phase (acknowledge, reply, close) as it was first set and
    # shown: escalation never moves it; each escalation holder's own deadline is next_step_at.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rating: Mapped[int | None] = mapped_column(Integer)
    notified: Mapped[bool] = mapped_column(default=False)  # leader told in a digest
    # Set by the digest that first tells the leader, never unset: until then nobody (/待办,
    # /受理, reports) sees the concern, so its timing is never finer than the batch slot.
    visible: Mapped[bool] = mapped_column(default=False)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConcernEvent(Base):
    """History shown to the submitter (/进度) and the leader: replies, steps, additions."""

    __tablename__ = "concerns_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns_concern.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    # Leaders act under their name; the submitter's actions carry no actor at all.
    actor: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    notified: Mapped[bool] = mapped_column(default=False)
    # To the submitter: pending (to be sent or retried), sending, sent, unknown (may have
    # arrived: never resent blindly), failed (refused every time, or no route any more).
    relay: Mapped[str | None] = mapped_column(String(16))
    relay_attempts: Mapped[int] = mapped_column(Integer, default=0)  # definite refusals so far
    relay_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # hour of the last attempt


class ConcernRoute(Base):
    """The sealed way back to the submitter (AES-GCM under LIANXIN_SECRET_KEY)."""

    __tablename__ = "concerns_route"
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns_concern.id", ondelete="CASCADE"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    destroy_after: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConcernDraft(Base):
    """A guided /诉求 in progress: survives restarts; deleted on submission or after a day."""

    __tablename__ = "concerns_draft"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    disclosed: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConcernCounter(Base):
    """Submissions per person per day, for the daily limit; rows expire with the day."""

    __tablename__ = "concerns_counter"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConcernState(Base):
    """Small named values shared by processes (e.g. the last digest slot sent)."""

    __tablename__ = "concerns_state"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
