"""Greeting texts from `data/greetings/` (YAML), validated at start-up, chosen deterministically.

The choice is a hash of (occasion, person, target, year): stable across restarts and processes
(Python's own hash() is salted per process, so it cannot be used), different from year to year,
and different between two people greeted in the same group on the same day.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot import settings
from bot.errors import StartupError
from plugins.care.config import config
from plugins.care.festivals import NAMES as FESTIVAL_NAMES

SHIPPED = Path(__file__).resolve().parent.parent.parent / "data" / "greetings"
BIRTHDAY_FIELDS = frozenset({"name", "org", "group"})
FESTIVAL_FIELDS = frozenset({"org", "group", "year", "zodiac"})
MAX_CHARS = 500


@dataclass(frozen=True)
class Greetings:
    birthday: tuple[str, ...]
    festivals: dict[str, tuple[str, ...]]


def folder() -> Path:
    """LIANXIN_GREETINGS, else data/greetings under the working directory, else the shipped one."""
    given = config().lianxin_greetings
    if given:
        return given
    own = settings.data_dir() / "greetings"
    return own if own.is_dir() else SHIPPED


def load(where: Path) -> Greetings:
    if not where.is_dir():
        raise StartupError(f"问候语目录 {where} 不存在（可用 LIANXIN_GREETINGS 指定）")
    birthday_raw = _read(where / "birthday.yaml")
    if not isinstance(birthday_raw, dict) or set(birthday_raw) != {"templates"}:
        raise StartupError(f"问候语文件 {where / 'birthday.yaml'} 应只有一项 templates（祝福语列表）")
    birthday = _templates(where / "birthday.yaml", "templates", birthday_raw["templates"], BIRTHDAY_FIELDS)
    festivals_raw = _read(where / "festivals.yaml")
    if not isinstance(festivals_raw, dict):
        raise StartupError(f"问候语文件 {where / 'festivals.yaml'} 的顶层应是“节日名称: 祝福语列表”")
    festivals: dict[str, tuple[str, ...]] = {}
    for name, items in festivals_raw.items():
        if name not in FESTIVAL_NAMES:
            raise StartupError(
                f"问候语文件 {where / 'festivals.yaml'}：不认识的节日 {name!r}（可用：{'、'.join(FESTIVAL_NAMES)}）"
            )
        festivals[name] = _templates(where / "festivals.yaml", name, items, FESTIVAL_FIELDS)
    return Greetings(birthday, festivals)


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StartupError(f"问候语文件 {path} 不存在") from None
    except (OSError, UnicodeDecodeError) as e:
        raise StartupError(f"问候语文件 {path} 无法读取（应为 UTF-8 编码的文本）：{type(e).__name__}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        pos = f"第 {mark.line + 1} 行" if mark else ""
        raise StartupError(f"问候语文件 {path} 不是有效的 YAML {pos}：{getattr(e, 'problem', e)}") from None


def _templates(path: Path, key: str, items: Any, fields: frozenset[str]) -> tuple[str, ...]:
    where = f"问候语文件 {path}：{key}"
    if not isinstance(items, list) or not items:
        raise StartupError(f"{where} 应是至少一条祝福语的列表")
    out: list[str] = []
    for i, text in enumerate(items, 1):
        if not isinstance(text, str) or not text.strip():
            raise StartupError(f"{where} 第 {i} 条应是一段文字")
        if len(text) > MAX_CHARS:
            raise StartupError(f"{where} 第 {i} 条太长（{len(text)} 字，最多 {MAX_CHARS} 字）")
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError:
            raise StartupError(f"{where} 第 {i} 条的花括号不成对（要写花括号本身请写 {{{{ 和 }}}}）") from None
        unknown = sorted(n for n in names if n not in fields)
        if unknown:
            raise StartupError(
                f"{where} 第 {i} 条用了不认识的占位符 {'、'.join('{' + n + '}' for n in unknown)}"
                f"（可用：{'、'.join('{' + f + '}' for f in sorted(fields))}）"
            )
        out.append(text.strip())
    return tuple(out)


@cache
def configured() -> Greetings:
    return load(folder())


def choose(templates: tuple[str, ...], *seed: object, offset: int = 0) -> str:
    """A template picked by a stable hash of `seed`; `offset` steps to the next ones (so two
    people greeted in one group on one day get different texts while there are enough)."""
    digest = hashlib.sha256("|".join(str(s) for s in seed).encode()).digest()
    return templates[(int.from_bytes(digest[:8], "big") + offset) % len(templates)]
