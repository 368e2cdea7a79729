"""Birthdays (solar and lunar, with the fallback rules), festivals for 2026–2027 with real dates,
and the greeting files: loading, validation, deterministic choice."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.errors import StartupError
from plugins.care import greetings
from plugins.care.festivals import FESTIVALS, festivals_on, statutory_name, zodiac
from plugins.care.lunar import birthday_falls_on, lunar_of


def days_of(birthday: str, start: date, end: date) -> list[date]:
    out, d = [], start
    while d < end:
        if birthday_falls_on(birthday, d):
            out.append(d)
        d += timedelta(days=1)
    return out


# --- birthdays ---------------------------------------------------------------------------


def test_solar_birthday_once_a_year() -> None:
    assert days_of("1995-03-12", date(2026, 1, 1), date(2028, 1, 1)) == [date(2026, 3, 12), date(2027, 3, 12)]


def test_solar_29_february_falls_on_28_february_in_common_years() -> None:
    assert days_of("2000-02-29", date(2026, 1, 1), date(2029, 1, 1)) == [date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


def test_lunar_birthday_follows_the_lunar_calendar() -> None:
    # 农历八月十五 (the test org's 周六): 中秋 2026-09-25, 2027-09-15.
    assert days_of("农历1990-08-15", date(2026, 1, 1), date(2028, 1, 1)) == [date(2026, 9, 25), date(2027, 9, 15)]


def test_lunar_day_30_in_a_29_day_month_falls_on_the_29th() -> None:
    # Lunar 2026 month 2 has 29 days: 二月廿九 is 2026-04-16. In 2027 month 2 has 30 days: 2027-04-06.
    assert lunar_of(date(2026, 4, 16)).month_days == 29
    assert days_of("农历1988-02-30", date(2026, 1, 1), date(2028, 1, 1)) == [date(2026, 4, 16), date(2027, 4, 6)]


def test_lunar_new_years_eve_birthday_on_the_30th_moves_to_the_29th() -> None:
    # Month 12 of lunar 2025 and of lunar 2026 has 29 days: 除夕 is the 29th (2026-02-16, 2027-02-05).
    assert days_of("农历1990-12-30", date(2026, 1, 1), date(2027, 12, 31)) == [date(2026, 2, 16), date(2027, 2, 5)]


def test_leap_month_days_never_match_so_nobody_is_greeted_twice() -> None:
    # Lunar 2025 has 闰六月: 六月初十 is 2025-07-04, 闰六月初十 is 2025-08-03.
    assert lunar_of(date(2025, 8, 3)).leap and not lunar_of(date(2025, 7, 4)).leap
    assert days_of("农历1990-06-10", date(2025, 1, 1), date(2026, 1, 1)) == [date(2025, 7, 4)]


def test_malformed_birthday_is_never_due() -> None:
    assert not birthday_falls_on("03-12", date(2026, 3, 12))


# --- festivals ---------------------------------------------------------------------------

REAL_DATES = {
    2026: {
        "元旦": date(2026, 1, 1), "春节": date(2026, 2, 17), "元宵节": date(2026, 3, 3), "劳动节": date(2026, 5, 1),
        "青年节": date(2026, 5, 4), "端午节": date(2026, 6, 19), "中秋节": date(2026, 9, 25),
        "国庆节": date(2026, 10, 1), "重阳节": date(2026, 10, 18),
    },
    2027: {
        "元旦": date(2027, 1, 1), "春节": date(2027, 2, 6), "元宵节": date(2027, 2, 20), "劳动节": date(2027, 5, 1),
        "青年节": date(2027, 5, 4), "端午节": date(2027, 6, 9), "中秋节": date(2027, 9, 15),
        "国庆节": date(2027, 10, 1), "重阳节": date(2027, 10, 8),
    },
}


@pytest.mark.parametrize("year", [2026, 2027])
def test_every_festival_day_of_2026_and_2027(year: int) -> None:
    found: dict[str, list[date]] = {}
    d = date(year, 1, 1)
    while d.year == year:
        for f in festivals_on(d):
            found.setdefault(f.name, []).append(d)
        d += timedelta(days=1)
    assert found == {name: [day] for name, day in REAL_DATES[year].items()}


def test_statutory_festivals_agree_with_chinese_calendar_for_every_year_it_covers() -> None:
    """Our rules give the festival day; chinese-calendar must have that day off, named as the
    same holiday (since 2008, when 端午 and 中秋 became statutory), or unnamed where it falls on
    a weekend (chinese-calendar names 2012-06-23, a Saturday 端午, only as a weekend)."""
    import chinese_calendar
    from lunar_python import Lunar

    checked = named = 0
    for year in range(2008, 2027):
        for f in FESTIVALS:
            if not f.statutory:
                continue
            if f.calendar == "solar":
                d = date(year, f.month, f.day)
            else:
                s = Lunar.fromYmd(year, f.month, f.day).getSolar()
                d = date(s.getYear(), s.getMonth(), s.getDay())
            today = festivals_on(d)
            assert f in today, (d, f.name)
            assert chinese_calendar.is_holiday(d), (d, f.name)
            # 2020-10-01 was both 国庆 and 中秋: chinese-calendar gives one of the names.
            name = statutory_name(d)
            assert name in {x.name for x in today} | {None}, (d, f.name, name)
            assert name is not None or d.weekday() >= 5, (d, f.name)
            checked += 1
            named += name is not None
    assert checked == 19 * 6 and named >= checked - 5


def test_statutory_name_is_none_where_chinese_calendar_has_no_data() -> None:
    assert statutory_name(date(2026, 2, 17)) == "春节"
    assert statutory_name(date(2026, 3, 3)) is None  # 元宵节 is a working day
    assert statutory_name(date(2099, 1, 1)) is None  # no data: no crash


def test_leap_fifth_month_has_no_second_dragon_boat_festival() -> None:
    # Lunar 2028 has 闰五月 (from 2028-06-23): only the regular 端午 2028-05-28 is a festival.
    days = [d for d in (date(2028, 1, 1) + timedelta(days=i) for i in range(366)) if any(f.name == "端午节" for f in festivals_on(d))]
    assert days == [date(2028, 5, 28)]


def test_spring_festival_zodiac() -> None:
    assert zodiac(date(2026, 2, 17)) == "马" and zodiac(date(2027, 2, 6)) == "羊"


# --- greeting files ------------------------------------------------------------------------


def test_shipped_greetings_cover_every_festival_with_several_texts() -> None:
    g = greetings.load(greetings.SHIPPED)
    assert len(g.birthday) >= 5
    assert set(g.festivals) == {f.name for f in FESTIVALS}
    assert all(len(texts) >= 3 for texts in g.festivals.values())
    for text in g.birthday:
        text.format(name="张三", org="测试局", group="质量科职工群")


def test_choice_is_stable_varies_by_year_and_steps_for_a_second_person() -> None:
    texts = greetings.load(greetings.SHIPPED).birthday
    first = greetings.choose(texts, "birthday", 30001, 40001, 2026)
    assert all(greetings.choose(texts, "birthday", 30001, 40001, 2026) == first for _ in range(5))
    assert len({greetings.choose(texts, "birthday", 30001, 40001, y) for y in range(2026, 2036)}) > 1
    assert greetings.choose(texts, "birthday", 30001, 40001, 2026, offset=1) != first


def write(folder: Path, birthday: str, festivals: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "birthday.yaml").write_text(birthday, encoding="utf-8")
    (folder / "festivals.yaml").write_text(festivals, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("birthday", "festivals", "message"),
    [
        ("templates: []\n", "春节: [过年好]\n", "birthday.yaml：templates 应是至少一条祝福语的列表"),
        ("templates: ['{名字}生日快乐']\n", "春节: [过年好]\n", "第 1 条用了不认识的占位符 {名字}"),
        ("templates: ['{name生日快乐']\n", "春节: [过年好]\n", "花括号不成对"),
        ("template: ['生日快乐']\n", "春节: [过年好]\n", "应只有一项 templates"),
        ("templates: ['{name}生日快乐']\n", "圣诞节: [快乐]\n", "不认识的节日 '圣诞节'"),
        ("templates: ['{name}生日快乐']\n", "春节: ['{name}过年好']\n", "春节 第 1 条用了不认识的占位符 {name}"),
        ("templates: ['{name}生日快乐'\n", "春节: [过年好]\n", "不是有效的 YAML"),
    ],
)
def test_bad_greeting_files_stop_start_up_with_a_clear_message(tmp_path: Path, birthday: str, festivals: str, message: str) -> None:
    with pytest.raises(StartupError, match=message.replace("{", r"\{").replace("(", r"\(")):
        greetings.load(write(tmp_path / "g", birthday, festivals))


def test_missing_folder_and_file(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="问候语目录 .* 不存在"):
        greetings.load(tmp_path / "nope")
    (tmp_path / "g").mkdir()
    with pytest.raises(StartupError, match="birthday.yaml 不存在"):
        greetings.load(tmp_path / "g")


def test_a_festival_left_out_is_simply_not_greeted(tmp_path: Path) -> None:
    g = greetings.load(write(tmp_path / "g", "templates: ['{name}生日快乐']\n", "中秋节: ['中秋快乐，{org}']\n"))
    assert set(g.festivals) == {"中秋节"}
