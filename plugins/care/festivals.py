"""Which festivals fall on a day: fixed solar dates and lunar dates (lunar_python).

The festival days are computed from their rules, not read from chinese-calendar: its data ends
with the year it was released for (the 2026 package knows nothing of 2027), and it describes
days off (春节 is a week of holiday) rather than the festival day itself. chinese-calendar is
still the authority for *statutory* holidays: `statutory_name` gives its name for a day, and
the tests check the rules below against it for every year it covers.

清明 is left out on purpose: it is a day for remembering the dead, and "节日快乐" would be
wrong; an organisation that wants a message for it can post one by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from plugins.care.lunar import lunar_of


@dataclass(frozen=True)
class Festival:
    name: str
    calendar: Literal["solar", "lunar"]
    month: int
    day: int
    statutory: bool  # a statutory holiday in China (法定节假日)


FESTIVALS: tuple[Festival, ...] = (
    Festival("元旦", "solar", 1, 1, True),
    Festival("春节", "lunar", 1, 1, True),
    Festival("元宵节", "lunar", 1, 15, False),
    Festival("劳动节", "solar", 5, 1, True),
    Festival("青年节", "solar", 5, 4, False),
    Festival("端午节", "lunar", 5, 5, True),
    Festival("中秋节", "lunar", 8, 15, True),
    Festival("国庆节", "solar", 10, 1, True),
    Festival("重阳节", "lunar", 9, 9, False),
)
NAMES = tuple(f.name for f in FESTIVALS)

# chinese-calendar's Holiday values, in Chinese.
STATUTORY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
}


def festivals_on(day: date) -> list[Festival]:
    """The festivals whose day is `day` (a leap lunar month holds none: 闰五月初五 is not 端午)."""
    lunar = None
    out: list[Festival] = []
    for f in FESTIVALS:
        if f.calendar == "solar":
            if (day.month, day.day) == (f.month, f.day):
                out.append(f)
        else:
            lunar = lunar or lunar_of(day)
            if not lunar.leap and (lunar.month, lunar.day) == (f.month, f.day):
                out.append(f)
    return out


def statutory_name(day: date) -> str | None:
    """chinese-calendar's holiday name for `day` in Chinese; None on working days or years it lacks."""
    import chinese_calendar

    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    if not on_holiday or name is None:
        return None
    return STATUTORY_NAMES.get(str(name), str(name))


def zodiac(day: date) -> str:
    """The zodiac animal of the lunar year `day` falls in (马 for 2026-02-17 onwards)."""
    from lunar_python import Solar

    return str(Solar.fromYmd(day.year, day.month, day.day).getLunar().getYearShengXiao())
