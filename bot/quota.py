"""Per-person daily limits ("at most N a day"), counted over the organisation's calendar day.

Two ways to know how many a person used today: count the rows that name their author
(`count_today`), or, where a row must not name anyone (anonymous concerns), keep a counter
under a keyed hash that expires at `day_bounds()[1]`. Either way `DailyLimit.refusal` decides
and words the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot import clock


def day_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Midnight to midnight (org zone) of the day `now` (default: the clock's now) is in."""
    now = (now or clock.now()).astimezone(clock.zone())
    start = datetime.combine(now.date(), time(0), tzinfo=clock.zone())
    return start, start + timedelta(days=1)


async def count_today(s: AsyncSession, who: InstrumentedAttribute[Any], user_id: Any, at: InstrumentedAttribute[datetime]) -> int:
    """How many rows `user_id` (in column `who`) made today (by column `at`)."""
    start, end = day_bounds()
    used = await s.scalar(select(func.count()).where(who == user_id, at >= start, at < end))
    return used or 0


@dataclass(frozen=True)
class DailyLimit:
    per_day: int
    text: str  # the refusal; `{used}` and `{limit}` are filled in

    def refusal(self, used: int) -> str | None:
        """The refusal when `used` already reaches the limit (nothing more today), else None."""
        return self.text.format(used=used, limit=self.per_day) if used >= self.per_day else None
