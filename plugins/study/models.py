"""Study tables: check-ins, the points ledger and open quiz sessions.

Materials themselves live in files (LIANXIN_MATERIALS); rows refer to them by `material_id`,
the file name without .md, which therefore must not change once a material has been posted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import UTCDateTime
from bot.models import Base


class StudyCheckin(Base):
    """/已学: once per member per material (the unique key makes a double tap harmless)."""

    __tablename__ = "study_checkin"
    __table_args__ = (
        UniqueConstraint("material_id", "user_id", name="uq_study_checkin"),
        Index("ix_study_checkin_user", "user_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    material_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(64))  # where it was typed; None in private
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StudyPoints(Base):
    """One row per award. (user, activity, ref) is unique so an award is never given twice;
    `day` and `month` are the organisation's local date, for daily caps and monthly ranks."""

    __tablename__ = "study_points"
    __table_args__ = (
        UniqueConstraint("user_id", "activity", "ref", name="uq_study_points"),
        Index("ix_study_points_month", "month", "user_id"),
        Index("ix_study_points_day", "user_id", "day"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64))
    activity: Mapped[str] = mapped_column(String(16))  # checkin | answer | full
    ref: Mapped[str] = mapped_column(String(96))  # material id, or "material#question"
    points: Mapped[int] = mapped_column(Integer)
    day: Mapped[str] = mapped_column(String(10))  # 2026-12-05
    month: Mapped[str] = mapped_column(String(7))  # 2026-12
    # Nickname as the platform gave it, for ranks of people not in the org file.
    name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StudyQuizSession(Base):
    """The one open quiz of a person (private chat), kept in the database so a restart or a
    second process continues it: one question at a time, `asked_at` for the time limit."""

    __tablename__ = "study_quiz_session"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True, autoincrement=False)
    material_id: Mapped[str] = mapped_column(String(64))
    question: Mapped[int] = mapped_column(Integer, default=0)  # index of the question being asked
    correct: Mapped[int] = mapped_column(Integer, default=0)
    earned: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StudyPublishOffer(Base):
    """A /发布学习 shown to a cadre and waiting for "/发布学习 确认" (in the database, so a
    restart or a second process confirms exactly what the cadre saw). `plan` lists, per
    material, the groups it will go to; after confirmation the cadre is told per group how
    the sends went (`reported`)."""

    __tablename__ = "study_publish_offer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cadre: Mapped[str] = mapped_column(String(64), index=True)
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported: Mapped[bool] = mapped_column(default=False)


class StudyRankingOptIn(Base):
    """Who chose to appear in /排行 and the monthly 学习之星 post (/排行 公开). Points are
    private by default: no row, not ranked. /排行 不公开 deletes the row."""

    __tablename__ = "study_ranking_optin"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
