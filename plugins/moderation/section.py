"""The moderation section of the reports: cases opened by source, and decisions.

Raw counts, suppressed centrally like every other section; registered in the plugin's
__init__ (bot.reports.register_section).
"""

from __future__ import annotations

from datetime import datetime

from bot.reports import Figure, Section, Table, register_section
from plugins.moderation.cases import stats

TITLE = "群内谣言与不文明言论处置"


async def moderation_section(start: datetime, end: datetime) -> Section | None:
    counts = await stats(start, end)
    if not counts:
        return None
    rows = ["管理员直接认定", "群员举报", "自动发现", "确认违规", "驳回（不属违规）"]
    keys = ["opened_flag", "opened_report", "opened_screen", "confirmed", "dismissed"]
    return Section(
        title=TITLE,
        tables=[Table("案件（件）", rows=rows, columns=["件数"], cells=[[counts.get(k, 0)] for k in keys], totals=False, unit="件", row_label="")],
        summary=[Figure("群内处置确认违规", key=(3, 0))],
    )


def register() -> None:
    """Add this section to the reports (called from the plugin's __init__)."""
    register_section("moderation", moderation_section, title=TITLE, order=30)
