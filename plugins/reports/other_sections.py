"""Report sections for study participation and moderation, read from those plugins' tables.

Kept here rather than in the study and moderation plugins so that neither depends on the
reports plugin; the figures are raw counts, suppressed centrally like every other section.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import distinct, func, select

from bot import runtime
from bot.db import session
from plugins.reports.providers import Figure, Metric, Section, Table


async def study_section(start: datetime, end: datetime) -> Section | None:
    from plugins.study.models import StudyCheckin, StudyPoints

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
    for g in org.study_groups():
        rows.append(g.name)
        cells.append([int(by_group.get(g.id, 0))])
    other = sum(int(n) for gid, n in by_group.items() if gid not in {g.id for g in org.study_groups()})
    rows.append("私聊或其他群")
    cells.append([other])
    participants = len(answers)
    average = sum(int(n) for _, n in answers) / participants if participants else None
    return Section(
        title="学习参与",
        tables=[Table("各学习群打卡人数（人）", rows=rows, columns=["已打卡"], cells=cells, totals=False, row_label="群")],
        metrics=[
            Metric("参加答题", value=float(participants), n=participants, unit=" 人", digits=0),
            Metric("人均答对题数", value=average, n=participants, unit=" 题"),
            Metric("全部答对", value=float(full or 0), n=participants, unit=" 人", digits=0),
        ],
        summary=[Figure("参加答题", metric="参加答题")],
    )


async def moderation_section(start: datetime, end: datetime) -> Section | None:
    from plugins.moderation.cases import stats

    counts = await stats(start, end)
    if not counts:
        return None
    rows = ["管理员直接认定", "群员举报", "自动发现", "确认违规", "驳回（不属违规）"]
    keys = ["opened_flag", "opened_report", "opened_screen", "confirmed", "dismissed"]
    return Section(
        title="群内谣言与不文明言论处置",
        tables=[Table("案件（件）", rows=rows, columns=["件数"], cells=[[counts.get(k, 0)] for k in keys], totals=False, unit="件", row_label="")],
        summary=[Figure("群内处置确认违规", key=(3, 0))],
    )
