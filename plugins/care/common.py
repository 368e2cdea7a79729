"""Shared bits of the care plugin: the refusal type, labels, numbers and time slots."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot import clock, runtime
from bot import text as textutil
from bot.errors import Refusal


class CareError(Refusal):
    """The care plugin's refusals (answered by the dispatcher)."""


def person_label(user_id: int, fallback: str | None = None) -> str:
    """'张三（质量科）' for people in the org file, else the name they go by, else the number."""
    org = runtime.org()
    person = org.person(user_id)
    if person is None:
        return fallback or f"QQ {user_id}"
    dept = org.departments.get(person.department) if person.department else None
    return f"{person.name}（{dept.name}）" if dept else person.name


def org_name(user_id: int, fallback: str | None = None) -> str | None:
    person = runtime.org().person(user_id)
    return person.name if person else (fallback or None)


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
