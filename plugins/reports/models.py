"""What the reports keep: each period's hot words and chart, so neither is recomputed while the
figures they show are the same (not in a new process either: a cold start reads them here).

No person appears in a row: hot words list only words at least 5 texts contain, and the chart
shows the report's suppressed figures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import UTCDateTime
from bot.models import Base


class ReportCache(Base):
    __tablename__ = "reports_cache"
    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # "2026-11", "2026-W48"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "hot_words", "chart"
    # A digest of everything the stored result depends on: a different one is a miss.
    version: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
