"""Typed settings: every documented LIANXIN_* name reaches its plugin, a typo in a pacing
setting is logged and the safe default kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from nonebot import logger

from tests.conftest import ROOT


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m).rstrip("\n")), level="WARNING", format="{message}")
    yield lines
    logger.remove(sink)


def test_the_documented_names_reach_the_plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bot import schedule, settings
    from plugins.care import greetings
    from plugins.console import auth
    from plugins.moderation import config as moderation
    from plugins.reports import service
    from plugins.study import config as study

    for name, value in {
        "LIANXIN_SEND_INTERVAL": "0.05", "LIANXIN_SEND_JITTER": "0", "LIANXIN_TICK_SECONDS": "1",
        "LIANXIN_CONSOLE_URL": "https://bot.example.gov.cn/console/", "LIANXIN_FONT": str(tmp_path / "f.otf"),
        "LIANXIN_GREETINGS": str(tmp_path / "g"), "LIANXIN_LEXICONS": str(tmp_path / "l"),
        "LIANXIN_CLARIFICATIONS": str(tmp_path / "c"), "LIANXIN_MATERIALS": str(tmp_path / "m"),
    }.items():
        monkeypatch.setenv(name, value)
    pace = settings.core()
    assert (pace.lianxin_send_interval, pace.lianxin_send_jitter, schedule.interval_override()) == (0.05, 0.0, 1.0)
    assert auth.base_url() == "https://bot.example.gov.cn/console" and auth.secure_cookie()
    assert service.font_file() == str(tmp_path / "f.otf")
    assert greetings.folder() == tmp_path / "g"
    assert (moderation.lexicon_dir(), moderation.clarification_dir()) == (tmp_path / "l", tmp_path / "c")
    assert study.materials_dir() == tmp_path / "m"


def test_an_empty_value_means_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from plugins.care import greetings
    from plugins.reports import service

    monkeypatch.setenv("LIANXIN_FONT", "")
    monkeypatch.setenv("LIANXIN_GREETINGS", "")
    assert service.font_file() is None
    assert greetings.folder() != Path(".")


def test_every_lianxin_name_in_the_readme_is_read_somewhere() -> None:
    """A name the README documents is a field of a settings model or read before start-up."""
    documented = set(re.findall(r"LIANXIN_[A-Z_]+[A-Z]", (ROOT / "README.md").read_text(encoding="utf-8")))
    code = "\n".join(p.read_text(encoding="utf-8") for folder in ("bot", "plugins") for p in (ROOT / folder).rglob("*.py"))
    read = {n for n in documented if f'"{n}"' in code or f"{n.lower()}:" in code}
    # LIANXIN_TEST_PG is read by the tests; LIANXIN_SCREENSHOTS by the browser test.
    assert documented - read <= {"LIANXIN_TEST_PG", "LIANXIN_SCREENSHOTS"}, documented - read


def test_a_bad_pacing_value_keeps_the_default_and_says_so(monkeypatch: pytest.MonkeyPatch, log_lines: list[str]) -> None:
    from bot import settings

    monkeypatch.setenv("LIANXIN_SEND_INTERVAL", "1,5")
    monkeypatch.setenv("LIANXIN_SEND_JITTER", "-1")
    monkeypatch.setenv("LIANXIN_TICK_SECONDS", "0")
    pace = settings.core()
    assert (pace.lianxin_send_interval, pace.lianxin_send_jitter, pace.lianxin_tick_seconds) == (1.5, 0.5, None)
    assert "LIANXIN_SEND_INTERVAL='1,5' is not a number of seconds >= 0; using 1.5" in log_lines
    assert "LIANXIN_SEND_JITTER='-1' is not a number of seconds >= 0; using 0.5" in log_lines
    assert "LIANXIN_TICK_SECONDS='0' is not a positive number of seconds; ignored" in log_lines
