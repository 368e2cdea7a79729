"""Shared parsing of what people type: numbers and text that only looks written."""

import pytest

from bot.text import clean, parse_int


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
