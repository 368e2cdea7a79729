"""The study plugin's sections of the org file: a group's `study:` (when and how often) and the
organisation-wide `study:` options. Registered into the org model by the plugin (bot.org)."""

from __future__ import annotations

import datetime as dt
import re
from datetime import time
from typing import Any

from pydantic import Field, field_validator

from bot.org import Group, Org, Section, register_section, section

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Study(Section):
    day: int = Field(default=5, ge=1, le=31)
    time: str = "09:00"
    # How often: monthly (the `day` of every month), biweekly (`day` and `day`+14 of every
    # month), quarterly (`day` of January, April, July, October). Chinese spellings accepted.
    every: str = "monthly"
    # keep: post on the day even on a weekend or holiday; next_workday: move to the next
    # working day by chinese-calendar (weekends only where it has no data for the year).
    holiday: str = "keep"

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError('时间格式应为 "HH:MM"，例如 "09:00"')
        return value

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, value: Any, info: Any) -> str:
        names = {"monthly": "monthly", "每月": "monthly", "biweekly": "biweekly", "每两周": "biweekly",
                 "quarterly": "quarterly", "每季度": "quarterly"}
        if not isinstance(value, str) or value.strip() not in names:
            raise ValueError("every 应为 monthly（每月）、biweekly（每两周）或 quarterly（每季度）")
        day = info.data.get("day", 5)
        # The second post of a biweekly month is day+14, which must exist in every month.
        if names[value.strip()] == "biweekly" and isinstance(day, int) and day > 14:
            raise ValueError(f"every: biweekly 时 day 应在 1–14 之间（第二次为 day+14 号），当前为 {day}")
        return names[value.strip()]

    @field_validator("holiday", mode="before")
    @classmethod
    def _holiday(cls, value: Any) -> str:
        names = {"keep": "keep", "不顺延": "keep", "next_workday": "next_workday", "顺延": "next_workday"}
        if not isinstance(value, str) or value.strip() not in names:
            raise ValueError("holiday 应为 keep（节假日照常推送）或 next_workday（顺延到下一个工作日）")
        return names[value.strip()]

    @property
    def at(self) -> dt.time:  # `time` here is the field above
        h, m = self.time.split(":")
        return time(int(h), int(m))


class StudySettings(Section):
    """Organisation-wide study options (all optional)."""

    # The public ranking (/排行) and the monthly 学习之星 post; each person still opts in.
    ranking: bool = True


def register() -> None:
    register_section("study", Study, per_group=True)
    register_section("study", StudySettings)


def study_of(group: Group) -> Study | None:
    found: Study | None = section(group, "study")
    return found


def options(org: Org) -> StudySettings:
    found: StudySettings | None = section(org.spec, "study")
    return found or StudySettings()


def study_groups(org: Org) -> list[Group]:
    return [g for g in org.groups.values() if study_of(g) is not None]
