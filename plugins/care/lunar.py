"""Lunar dates and birthdays: which day a (solar or lunar) birthday falls on this year."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

# --- lunar dates -------------------------------------------------------------------------
#
# Lunar birthdays (CONTRACT section 2: birthday "农历1990-08-15") are greeted on the day whose
# lunar month and day match. Two cases have no such day in some years, and lunar libraries
# raise for them, so the rule is fixed here:
#   - day 30 in a month that has only 29 days this year: the month's last day (the 29th);
#   - a leap month (闰月): the org file cannot mark one, so the month number always means the
#     regular month; days of a leap month never match, and nobody is greeted twice a year.
# A solar 29 February is greeted on 28 February in common years.


@dataclass(frozen=True)
class LunarDate:
    year: int
    month: int  # 1-12, the same number for a leap month
    day: int
    leap: bool
    month_days: int  # 29 or 30: how many days this lunar month has


@lru_cache(maxsize=64)
def lunar_of(day: date) -> LunarDate:
    """The lunar date of `day` (cached: every tick asks about today, and lunar_python rebuilds
    a whole lunar year, ~15 ms, whenever it moves between years)."""
    from lunar_python import LunarMonth, Solar

    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    month = lunar.getMonth()  # negative for a leap month
    days = LunarMonth.fromYm(lunar.getYear(), month).getDayCount()
    return LunarDate(lunar.getYear(), abs(month), lunar.getDay(), month < 0, days)


_BIRTHDAY = re.compile(r"^(农历)?(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Birthday:
    lunar: bool
    month: int
    day: int


def parse_birthday(text: str) -> Birthday | None:
    """'1995-03-12' or '农历1990-08-15' (already validated by the org file) as month and day."""
    m = _BIRTHDAY.match(text.strip())
    if not m:
        return None
    return Birthday(m.group(1) is not None, int(m.group(3)), int(m.group(4)))


def birthday_falls_on(birthday: str, day: date) -> bool:
    """Whether `day` is the birthday this year, by the rules above."""
    b = parse_birthday(birthday)
    if b is None:
        return False
    if not b.lunar:
        if (b.month, b.day) == (day.month, day.day):
            return True
        # 29 February in a common year: the 28th, the last day of that February.
        return (b.month, b.day) == (2, 29) and (day.month, day.day) == (2, 28) and not _leap_year(day.year)
    lunar = lunar_of(day)
    if lunar.leap or lunar.month != b.month:
        return False
    return lunar.day == b.day or (b.day > lunar.month_days and lunar.day == lunar.month_days)


def _leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
