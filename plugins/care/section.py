"""The report section for 献一策 and 表扬; registered in the plugin's __init__ (bot.reports)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot import runtime
from bot.db import session
from bot.reports import Figure, Section, Table, register_section
from plugins.care.commend import STATUS_NAMES
from plugins.care.models import Commendation, Suggestion

TITLE = "献一策与表扬"


async def care_section(start: datetime, end: datetime) -> Section:
    async with session() as s:
        suggestions = (
            await s.execute(select(Suggestion.category, Suggestion.text).where(Suggestion.created_at >= start, Suggestion.created_at < end))
        ).all()
        nominations = (
            await s.scalars(select(Commendation.status).where(Commendation.created_at >= start, Commendation.created_at < end))
        ).all()
    org = runtime.org()
    order = [c.id for c in org.spec.categories]
    cats = order + sorted({c for c, _ in suggestions} - set(order))
    counts = [[sum(1 for c, _ in suggestions if c == cat)] for cat in cats]
    statuses = list(STATUS_NAMES)
    return Section(
        title=TITLE,
        tables=[
            Table(
                "献一策各类别建议条数",
                rows=[org.categories[c].name if c in org.categories else c for c in cats],
                columns=["建议"],
                cells=counts,
                unit="条",
                chart=True,
                row_label="类别",
            ),
            Table(
                "表扬推荐条数及审核结果",
                rows=[STATUS_NAMES[st] for st in statuses],
                columns=["推荐"],
                row_label="审核结果",
                cells=[[sum(1 for x in nominations if x == st)] for st in statuses],
                unit="条",
            ),
        ],
        texts=[t for _, t in suggestions],
        summary=[Figure("献一策建议"), Figure("表扬推荐", table=1)],
    )


def register() -> None:
    """Add this section to the reports (called from the plugin's __init__)."""
    register_section("care", care_section, title=TITLE, order=40)
