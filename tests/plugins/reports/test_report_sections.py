"""Study and moderation figures in the reports, suppressed below 5 people; each plugin registers
its own section, and the reports plugin imports none of them."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta
from pathlib import Path

from bot import clock
from plugins.moderation.section import moderation_section
from plugins.study.models import StudyCheckin, StudyPoints
from plugins.study.section import study_section

START = datetime(2026, 12, 1, tzinfo=clock.zone())
END = datetime(2027, 1, 1, tzinfo=clock.zone())


async def test_study_section_counts_people_per_group(db) -> None:  # type: ignore[no-untyped-def]
    at = START + timedelta(days=4, hours=10)
    async with db() as s:
        for u in range(6):
            s.add(StudyCheckin(material_id="m", user_id=str(31000 + u), group_id="40001", created_at=at))
            s.add(StudyPoints(user_id=str(31000 + u), activity="answer", ref=f"m#{u}", points=1, day="2026-12-05", month="2026-12", created_at=at))
        s.add(StudyCheckin(material_id="m", user_id="31999", group_id=None, created_at=at))
        await s.commit()
    section = await study_section(START, END)
    assert section is not None
    table = section.tables[0]
    assert table.rows[0] == "质量科职工群" and table.cells[0] == [6]
    assert table.rows[-1] == "私聊或其他群" and table.cells[-1] == [1]
    metrics = {m.label: m.shown() for m in section.metrics}
    assert metrics["参加答题"] == "6 人" and metrics["人均答对题数"] == "1.0 题" and metrics["全部答对"] == "0 人"
    assert await study_section(END, END + timedelta(days=31)) is None


async def test_moderation_section_is_empty_without_cases(db) -> None:  # type: ignore[no-untyped-def]
    assert await moderation_section(START, END) is None


# --- where the sections come from ----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[3]


def plugin_imports(source: str) -> set[str]:
    """The plugins a module's source imports (anywhere, function bodies included) or requires."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "require":
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        found |= {n.split(".")[1] for n in names if n.startswith("plugins.") and n.count(".") >= 1}
    return found


def test_the_scan_sees_imports_in_function_bodies_and_requires() -> None:
    source = "def f():\n    from plugins.concerns.models import Concern\nrequire('plugins.study')\nfrom plugins import moderation\n"
    assert plugin_imports(source) == {"concerns", "study", "moderation"}


def test_reports_imports_none_of_the_plugins_whose_sections_it_shows() -> None:
    for path in sorted((ROOT / "plugins" / "reports").glob("*.py")):
        assert plugin_imports(path.read_text(encoding="utf-8")) <= {"reports"}, path.name
    # The section types are core: importable without any plugin (the report's worker process
    # unpickles them).
    assert plugin_imports((ROOT / "bot" / "reports.py").read_text(encoding="utf-8")) == set()


def test_each_plugin_registers_its_own_section_in_the_report_order() -> None:
    from bot.reports import registered

    assert [(r.name, r.title, r.fn.__module__) for r in registered()] == [
        ("concerns", "职工诉求", "plugins.concerns.section"),
        ("study", "学习参与", "plugins.study.section"),
        ("moderation", "群内谣言与不文明言论处置", "plugins.moderation.section"),
        ("care", "献一策与表扬", "plugins.care.section"),
    ]
