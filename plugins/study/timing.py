"""When a group's study day falls: cadence, day clamping, and the holiday rule.

Everything here is a pure function of the org file's `study` block and a date, so the tick can
ask "is anything due today?" from `clock.now()` after any restart, and tests can check real
calendar cases (National Day 2026) without a running bot.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.workdays import next_workday
from plugins.study.orgsection import Study
from plugins.study.materials import Kind, Library, Material, Period

CATCH_UP_DAYS = 3


@dataclass(frozen=True)
class Occurrence:
    """One study day of one group: the nominal date, the date it is held, and what it covers."""

    nominal: date  # from the org file, before the holiday rule
    day: date  # when it is actually held
    at: time
    slot: Kind  # "month": the month's material; "half": the biweekly second; "quarter"

    @property
    def when(self) -> tuple[date, time]:
        return self.day, self.at

    def due(self, now: datetime) -> bool:
        """Due from its time until the end of that day: a post missed while the bot was down
        goes out when it comes back the same day, never on a later day."""
        return now.date() == self.day and now.time().replace(tzinfo=None) >= self.at

    @property
    def wanted(self) -> list[str]:
        """The periods whose material this study day posts, in order of preference."""
        month = Period.month(self.nominal.year, self.nominal.month).text
        if self.slot == "half":
            return [f"{month}下"]
        if self.slot == "quarter":
            return [Period.quarter_of(self.nominal).text, month]
        return [month]

    def materials(self, lib: Library, tags: list[str]) -> list[Material]:
        """What this study day posts to a group with these tags."""
        for period in self.wanted:
            found = [x for x in lib.of_period(period) if x.for_group(tags)]
            if found:
                return sorted(found, key=lambda x: (bool(x.audience), x.id))
        return []


def clamp(year: int, month: int, day: int) -> date:
    """The 31st in a 30-day month is the 30th: a monthly study day is never skipped."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def nominal(study: Study, year: int, month: int) -> list[tuple[date, Kind]]:
    if study.every == "biweekly":
        return [(clamp(year, month, study.day), "month"), (clamp(year, month, study.day + 14), "half")]
    if study.every == "quarterly":
        return [(clamp(year, month, study.day), "quarter")] if month in (1, 4, 7, 10) else []
    return [(clamp(year, month, study.day), "month")]


def held_on(study: Study, day: date) -> date:
    return next_workday(day) if study.holiday == "next_workday" else day


def occurrences(study: Study, year: int, month: int) -> list[Occurrence]:
    return [Occurrence(d, held_on(study, d), study.at, slot) for d, slot in nominal(study, year, month)]


def _months_back(day: date, n: int) -> list[tuple[int, int]]:
    out = []
    y, m = day.year, day.month
    for _ in range(n):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def held_today(study: Study, today: date) -> list[Occurrence]:
    """Study days held on `today` (a holiday can push last month's into this one)."""
    found = []
    for y, m in reversed(_months_back(today, 3)):
        found += [o for o in occurrences(study, y, m) if o.day == today]
    return found


def next_occurrence(study: Study, after: date) -> Occurrence | None:
    """The first study day held on or after `after` (for /学习 and /状态-like answers)."""
    y, m = after.year, after.month
    for _ in range(15):
        for o in occurrences(study, y, m):
            if o.day >= after:
                return o
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return None


def held_soon(study: Study, today: date, days: int) -> list[Occurrence]:
    """Study days held in the next `days` days (not today)."""
    return [o for n in range(1, days + 1) for o in held_today(study, today + timedelta(days=n))]


def catch_up_today(study: Study, today: date) -> list[Occurrence]:
    """Study days whose private catch-up (three calendar days later) falls on `today`."""
    return held_today(study, today - timedelta(days=CATCH_UP_DAYS))
