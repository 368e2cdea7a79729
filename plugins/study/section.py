"""The study section of the reports: check-ins per study group, quiz participation and scores.

Raw counts, suppressed centrally like every other section; registered in the plugin's
__init__ (bot.reports.register_section).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import distinct, func, select

from bot import runtime
from bot.db import session
from bot.reports import Figure, Metric, Section, Table, register_section
from plugins.study.models import StudyCheckin, StudyPoints
from plugins.study.orgsection import study_groups

TITLE = "学习参与"


async def study_section(start: datetime, end: datetime) -> Section | None:
    async with session() as s:
        by_group = dict(
            (
                await s.execute(
                    select(StudyCheckin.group_id, func.count(distinct(StudyCheckin.user_id)))
                    .where(StudyCheckin.created_at >= start, StudyCheckin.created_at < end)
                    .group_by(StudyCheckin.group_id)
                )
            ).all()
        )
        answers = (
            await s.execute(
                select(StudyPoints.user_id, func.count())
                .where(StudyPoints.activity == "answer", StudyPoints.created_at >= start, StudyPoints.created_at < end)
                .group_by(StudyPoints.user_id)
            )
        ).all()
        full = await s.scalar(
            select(func.count(distinct(StudyPoints.user_id))).where(
                StudyPoints.activity == "full", StudyPoints.created_at >= start, StudyPoints.created_at < end
            )
        )
    if not by_group and not answers:
        return None
    org = runtime.org()
    rows, cells = [], []
    for g in study_groups(org):
        rows.append(g.name)
        cells.append([int(by_group.get(g.id, 0))])
    other = sum(int(n) for gid, n in by_group.items() if gid not in {g.id for g in study_groups(org)})
    rows.append("私聊或其他群")
    cells.append([other])
    participants = len(answers)
    average = sum(int(n) for _, n in answers) / participants if participants else None
    return Section(
        title=TITLE,
        tables=[Table("各学习群打卡人数（人）", rows=rows, columns=["已打卡"], cells=cells, totals=False, row_label="群")],
        metrics=[
            Metric("参加答题", value=float(participants), n=participants, unit=" 人", digits=0),
            Metric("人均答对题数", value=average, n=participants, unit=" 题"),
            Metric("全部答对", value=float(full or 0), n=participants, unit=" 人", digits=0),
        ],
        summary=[Figure("参加答题", metric="参加答题")],
    )


def register() -> None:
    """Add this section to the reports (called from the plugin's __init__)."""
    register_section("study", study_section, title=TITLE, order=20)
