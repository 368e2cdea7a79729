"""Start-up checks of the data files: one rule for all of them.

The core registers the org file's loader; each plugin registers the loaders of its own files
(materials, greetings, lexicons, clarifications) when it is imported. bot.app.boot runs them all
once, after the plugins are loaded and before anything connects. A loader raises StartupError
with one Chinese line naming the file (and the line, where known); the first failure stops
start-up on the path the org file always used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from bot.errors import StartupError

Check = Callable[[], object]

_checks: dict[str, Check] = {}


def register(name: str, check: Check) -> Check:
    """Add (or replace: a re-imported module) the loader of one kind of file; run in order."""
    _checks[name] = check
    return check


def names() -> list[str]:
    return list(_checks)


def run_all() -> None:
    """Load and validate every registered data file; StartupError stops start-up."""
    for check in list(_checks.values()):
        check()


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Markdown's YAML front matter (between a first line `---` and the next `---` or `...`)
    and the text after it; None for the front matter when there is none."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None, text
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    return None, text


def read_front_matter(path: Path, where: str, *, missing: str | None = None) -> tuple[object, str]:
    """A Markdown data file: its front matter as YAML (None when empty or absent) and its body.

    StartupError starting with `where` (the file, as people call it) when the file cannot be
    read or the YAML is broken (naming the line); with the caller's `missing` text when there
    is no front matter and `missing` is given.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM must not hide the first `---`
    except (OSError, UnicodeDecodeError) as e:
        raise StartupError(f"{where} 无法读取（应为 UTF-8 编码的文本）：{type(e).__name__}") from None
    head, body = split_front_matter(text)
    if head is None:
        if missing is not None:
            raise StartupError(f"{where}{missing}")
        return None, body
    try:
        return yaml.safe_load(head), body
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        pos = f"第 {mark.line + 2} 行" if mark else ""  # the front matter starts on line 2
        raise StartupError(f"{where} 的前置信息不是有效的 YAML {pos}：{getattr(e, 'problem', e)}") from None
