"""The org file while the bot runs: picked up when edited, written back by the console.

The file stays the deployer's source of truth. A hand edit is noticed by a tick (every process
watches the file, so all of them follow), checked with the same rules as at start-up, and a bad
edit keeps the last good organisation and says why, once, in the log (and in the console). The
console writes through `write_people`: a dated backup first, then an atomic replace, comments
kept (ruamel.yaml round-trip).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nonebot import logger

from bot import clock, runtime
from bot.errors import StartupError
from bot.org import Org, Person, load_org


# A deployment may mount the org file read-only: the console then says so and changes nothing.
READ_ONLY = "服务器上的这个文件夹不能写（只读），这次没有保存。请管理员让连心可以写 data 目录（见 docs/deploy.md）。"


@dataclass
class State:
    stamp: tuple[float, int] | None = None  # (mtime, size) of the file last read
    problem: str | None = None  # why the current file is not in use, if it is not


state = State()


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime, st.st_size)


def remember(org: Org) -> None:
    """Called once the org is loaded at start-up."""
    state.stamp, state.problem = _stamp(org.source), None


def writable_path(org: Org) -> Path:
    """Where console edits go: the org file itself, except the repository's example, which is
    never edited in place (the edit becomes data/org.yaml, which takes precedence from now on)."""
    source = org.source
    if source.name == "org.example.yaml":
        return source.with_name("org.yaml")
    return source


async def apply(org: Org) -> None:
    runtime.set_org(org)
    remember(org)
    logger.info(f"组织文件已重新加载：{len(org.people)} 人，{len(org.groups)} 个群")


async def reload_if_changed(path: Path | None = None) -> bool:
    """Load the org file again if it changed since last read. True when a new org is in use."""
    path = path or runtime.org().source
    stamp = _stamp(path)
    if stamp is None or stamp == state.stamp:
        return False
    state.stamp = stamp
    try:
        org = load_org(path)
    except StartupError as e:
        state.problem = str(e)
        logger.warning(f"组织文件改动有误，继续使用上一次的正确版本：{e}")
        return False
    state.problem = None
    await apply(org)
    return True


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML()  # round-trip: comments and key order survive
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def yaml_id(platform: str, account: str) -> int | str:
    """An id as the org file writes it: a QQ number bare, as people type it."""
    return int(account) if platform == "qq" else account


def person_entry(p: Person) -> dict[str, Any]:
    # `qq:` for a QQ-only person, as the example file writes it; `accounts:` for the rest.
    if set(p.accounts) == {"qq"}:
        entry: dict[str, Any] = {"qq": yaml_id("qq", p.accounts["qq"]), "name": p.name}
    else:
        entry = {"accounts": {k: yaml_id(k, v) for k, v in p.accounts.items()}, "name": p.name}
    if p.department:
        entry["department"] = p.department
    entry["roles"] = [r.value for r in p.roles]
    if p.birthday:
        entry["birthday"] = p.birthday
    return entry


async def edit(mutate: Callable[[Any], None]) -> Org:
    """Change the org file: `mutate` edits its round-trip data (comments kept); the result is
    checked as at start-up, a dated backup kept, the file swapped atomically and used at once.
    Raises StartupError and changes nothing when the result would not load."""
    org = runtime.org()
    source, target = org.source, writable_path(org)
    y = _yaml()
    data = y.load(source.read_text(encoding="utf-8"))
    mutate(data)
    buf = io.StringIO()
    y.dump(data, buf)
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, prefix=".org-", suffix=".yaml", delete=False) as tmp:
            tmp.write(buf.getvalue())
            tmp_path = Path(tmp.name)
    except OSError:
        raise StartupError(READ_ONLY) from None
    try:
        load_org(tmp_path)  # the same checks as at start-up, before anything is replaced
    except StartupError as e:
        tmp_path.unlink(missing_ok=True)
        raise StartupError(str(e).replace(f"组织文件 {tmp_path} ", "组织文件")) from None
    try:
        if target.exists():
            backup = target.with_name(f"{target.name}.{clock.now():%Y%m%d-%H%M%S}.bak")
            backup.write_bytes(target.read_bytes())
        os.replace(tmp_path, target)
    except OSError:
        tmp_path.unlink(missing_ok=True)
        raise StartupError(READ_ONLY) from None
    new = load_org(target)
    await apply(new)
    return new


def entry_list(data: Any, key: str, id_key: str) -> dict[Any, Any]:
    return {str(e[id_key]): e for e in data.get(key) or [] if isinstance(e, dict) and id_key in e}


async def write_people(people: list[Person]) -> Org:
    """Replace the people of the org file (entries of people kept are updated in place)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def mutate(data: Any) -> None:
        by_id: dict[str, Any] = {}
        for e in data.get("people") or []:
            if isinstance(e, dict):
                raw = e.get("accounts")
                accounts: dict[str, Any] = raw if isinstance(raw, dict) else {}
                first = e.get("qq") or accounts.get("qq") or accounts.get("feishu")
                if first is not None:
                    by_id[str(first)] = e
        seq = CommentedSeq()
        for p in people:
            entry = by_id.get(p.id)
            fresh = person_entry(p)
            if entry is None:
                entry = CommentedMap(fresh)
                entry.fa.set_flow_style()
            else:
                for key in ("qq", "accounts", "department", "birthday"):
                    if key not in fresh and key in entry:
                        del entry[key]
                entry.update(fresh)
            seq.append(entry)
        data["people"] = seq

    return await edit(mutate)
