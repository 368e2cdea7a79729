"""Files that may change while the bot runs: the study materials folder.

Every process watches the folder itself (a tick), so hand edits and materials saved from the
console reach all of them without a restart. A bad edit keeps the last good library and says
why once in the log (and in the console), like the org file (bot.orgfile).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nonebot import logger

from plugins.study import materials
from bot.errors import StartupError


@dataclass
class State:
    stamp: tuple[tuple[str, float, int], ...] | None = None
    problem: str | None = None


state = State()


def _stamp(folder: Path) -> tuple[tuple[str, float, int], ...]:
    out = []
    try:
        for p in sorted(folder.glob("*.md")):
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((p.name, st.st_mtime, st.st_size))
    except OSError:
        pass
    return tuple(out)


def remember(lib: materials.Library) -> None:
    state.stamp = _stamp(lib.source) if lib.source is not None else None
    state.problem = None


def reload_materials(*, only_if_changed: bool = False) -> bool:
    """Load the folder again; True when a new library is in use."""
    lib = materials.library()
    if lib.source is None:
        return False
    stamp = _stamp(lib.source)
    if only_if_changed and stamp == state.stamp:
        return False
    state.stamp = stamp
    try:
        new = materials.load_library(lib.source, required=False)
    except StartupError as e:
        state.problem = str(e)
        logger.warning(f"学习材料改动有误，继续使用上一次的正确版本：{e}")
        return False
    state.problem = None
    materials.use(new)
    logger.info(f"学习材料已重新加载：{len(new.materials)} 份")
    return True
