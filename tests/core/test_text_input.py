"""Shared parsing of what people type: numbers and text that only looks written."""

import pytest

from bot.text import clean, parse_int, parse_number, split_number


@pytest.mark.parametrize("raw", ["²", "²⁰²⁶", "٣", "①", "-1", "1.5", "", " ", "1234567890", "三"])
def test_parse_int_refuses_what_int_would_misread(raw: str) -> None:
    assert parse_int(raw) is None


@pytest.mark.parametrize(("raw", "value"), [("7", 7), (" 12 ", 12), ("１２", 12), ("2026", 2026)])
def test_parse_int_reads_ascii_and_fullwidth_digits(raw: str, value: int) -> None:
    assert parse_int(raw) == value


@pytest.mark.parametrize("raw", ["\u200b", "\ufeff\u200b", "\u2060 \u200d", "\u202e\u202c", "\u3164"])
def test_invisible_text_is_empty(raw: str) -> None:
    assert clean(raw) == ""


def test_bidi_controls_are_removed_and_text_kept() -> None:
    assert clean("回执\u202eABCD\u202c码") == "回执ABCD码"


def test_a_number_and_what_follows() -> None:
    """'/确认 #12 说明': a case, concern or nomination number, then the rest."""
    assert split_number("12") == (12, "")
    assert split_number("#12 说明 两句") == (12, "说明 两句")
    assert split_number("＃１２") == (12, "")
    assert split_number("12说明") == (None, "")
    assert split_number("") == (None, "")
    assert split_number("99999999999999999999") == (None, "")
    # Superscripts and other scripts' digits are not case numbers; invisible text is no note.
    assert split_number("²") == (None, "") and split_number("٣") == (None, "") and split_number("1 ²") == (1, "²")
    assert split_number("1 \u200b\u2060\ufeff") == (1, "")
    assert split_number("1 \u202e说明") == (1, "说明")


@pytest.mark.parametrize(("raw", "value"), [("12", 12), ("#12", 12), ("＃１２", 12), (" # 3 ", 3), ("12 说明", None), ("#", None), ("三", None)])
def test_an_item_number_alone(raw: str, value: int | None) -> None:
    assert parse_number(raw) == value
