"""Working days (chinese-calendar: statutory holidays and make-up Saturdays) with a safe
fallback, and deadline arithmetic: the one workday rule for concern deadlines and study days.

chinese-calendar raises NotImplementedError for years it has no data for (it is updated each
November). Then Monday–Friday count as working days and a warning is logged once per year:
deadlines and study days drift by a holiday at worst, and the bot keeps running on 1 January.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from nonebot import logger

_warned: set[int] = set()


def is_workday(day: date) -> bool:
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            logger.warning(
                f"chinese-calendar 没有 {day.year} 年的节假日数据，暂按周一至周五计算工作日（诉求期限、学习日顺延只避开周末）；请升级 chinesecalendar 包"
            )
        return day.weekday() < 5


_MAX_SHIFT = 40  # Spring Festival plus a weekend is well under this


def next_workday(day: date) -> date:
    """`day` itself when it is a working day, else the next one (at most 40 days on)."""
    for _ in range(_MAX_SHIFT):
        if is_workday(day):
            return day
        day += timedelta(days=1)
    return day


def add_workdays(start: datetime, days: int) -> datetime:
    """The same time of day `days` working days later (a non-working start counts from the next working day)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_workday(current.date()):
            remaining -= 1
    return current
