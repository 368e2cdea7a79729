"""Shared bits of the care plugin: the refusal type, numbers and time slots."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot import clock
from bot import text as textutil
from bot.errors import Refusal


class CareError(Refusal):
    """The care plugin's refusals (answered by the dispatcher)."""


def parse_number(raw: str, example: str) -> int:
    number = textutil.parse_number(raw)
    if number is None:
        raise CareError(f"请写明编号，例如：{example}")
    return number


def day_label(t: datetime | date) -> str:
    d = t.astimezone(clock.zone()).date() if isinstance(t, datetime) else t
    return f"{d.month}月{d.day}日"


def week_start(now: datetime, at: time) -> datetime:
    """Monday `at` of the week `now` is in (org zone)."""
    monday = now.date() - timedelta(days=now.weekday())
    return datetime.combine(monday, at, tzinfo=clock.zone())


def iso_week(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"
