"""bot/platform/ is the one place that knows a chat platform: everything else reads `Inbound`
and sends neutral parts. (Tests may still build OneBot events.)"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PLATFORM = ROOT / "bot" / "platform"


def _adapter_imports(path: Path) -> list[str]:
    """Modules of an adapter package (nonebot.adapters.<name>…) the file imports; the neutral
    base classes (`from nonebot.adapters import Bot, Event`) are no adapter."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "nonebot.adapters":  # `from nonebot.adapters import onebot`
                names += [f"nonebot.adapters.{a.name}" for a in node.names if a.name.islower()]
        else:
            continue
        found += [n for n in names if n.startswith("nonebot.adapters.")]
    return found


def test_only_the_platform_package_imports_an_adapter() -> None:
    offenders = {
        p.relative_to(ROOT).as_posix(): names
        for folder in ("bot", "plugins")
        for p in sorted((ROOT / folder).rglob("*.py"))
        if PLATFORM not in p.parents and (names := _adapter_imports(p))
    }
    assert offenders == {}


def test_the_scan_sees_an_adapter_import() -> None:
    assert "nonebot.adapters.onebot.v11" in _adapter_imports(PLATFORM / "onebot_v11.py")
    assert _adapter_imports(ROOT / "bot" / "context.py") == []  # `from nonebot.adapters import Bot`
