"""Study and moderation figures in the reports, suppressed below 5 people."""

from __future__ import annotations

from datetime import datetime, timedelta

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
            s.add(StudyCheckin(material_id="m", user_id=31000 + u, group_id=40001, created_at=at))
            s.add(StudyPoints(user_id=31000 + u, activity="answer", ref=f"m#{u}", points=1, day="2026-12-05", month="2026-12", created_at=at))
        s.add(StudyCheckin(material_id="m", user_id=31999, group_id=None, created_at=at))
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

