"""The concerns (诉求) section of the reports: counts by category and status, per-leader median
times, overdue items, satisfaction; the texts feed the hot words. Reads only what leaders may
see anyway. Registered in the plugin's __init__ (bot.reports.register_section)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from bot import clock, runtime
from bot.reports import TOTAL, Figure, Metric, Section, Table, register_section
from plugins.concerns.models import Concern

TITLE = "职工诉求"
SATISFACTION = "办结诉求满意度（1–5 分）"
# Overdue concerns named by number in the text; a busy month says how many more.
OVERDUE_LISTED = 20
BATCH = 500
STATUSES = [("new", "待受理"), ("acknowledged", "已受理"), ("replied", "已答复"), ("closed", "已办结")]


def _hours(dialect: str, later: Any, earlier: Any) -> Any:
    """Hours between two stored times, in SQL (SQLite keeps them as ISO text, naive UTC)."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24.0
    return func.extract("epoch", later - earlier) / 3600.0


async def _medians(s: Any, dialect: str, visible: Any, column: Any, start: datetime, end: datetime) -> dict[str, tuple[float, int]]:
    """Per leader: the median hours from submission to `column` for those reached in the
    period, and how many. Computed in the database (a window over the period's rows): a busy
    month's thousands of times are not loaded into the bot to be sorted."""
    hours = _hours(dialect, column, Concern.created_at)
    ranked = (
        select(
            Concern.leader.label("leader"),
            hours.label("hours"),
            func.row_number().over(partition_by=Concern.leader, order_by=hours).label("rn"),
            func.count().over(partition_by=Concern.leader).label("n"),
        )
        .where(visible, column >= start, column < end)
        .subquery()
    )
    # The middle row, or the two middle rows of an even count: their mean is the median.
    middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    rows = (await s.execute(select(ranked.c.leader, func.avg(ranked.c.hours), func.max(ranked.c.n)).where(middle).group_by(ranked.c.leader))).all()
    # Stored times are whole hours: the rounding hides the float noise of julianday.
    return {str(leader): (round(float(h), 6), int(n)) for leader, h, n in rows}


def duration_text(hours: float) -> str:
    return f"{hours:.0f} 小时" if hours < 48 else f"{hours / 24:.1f} 天"


async def concerns_section(start: datetime, end: datetime) -> Section:
    from bot.db import session

    now = clock.utcnow()
    as_of = min(end, now)
    async with session() as s:
        # Only concerns already visible (their leader told in a digest): a report run between
        # submission and the batch slot must not reveal a concern before its leader knows of it.
        visible = Concern.visible.is_(True)
        # Aggregates and the few columns needed, for the period only (no ORM objects).
        created = (Concern.created_at >= start) & (Concern.created_at < end)
        status = case(
            (Concern.closed_at <= as_of, "closed"),
            (Concern.replied_at <= as_of, "replied"),
            (Concern.acknowledged_at <= as_of, "acknowledged"),
            else_="new",
        )
        counts = (await s.execute(select(Concern.category, status, func.count()).where(visible, created).group_by(Concern.category, status))).all()
        # A busy month has thousands of texts: read in batches, so the loop serves messages
        # between them instead of converting all rows in one go.
        texts: list[str | None] = []
        stream = await s.stream_scalars(
            select(Concern.text)
            .where(visible, created, Concern.text.is_not(None), Concern.text != "")
            .order_by(Concern.id)
            .execution_options(yield_per=BATCH)
        )
        async for batch in stream.partitions():
            texts.extend(batch)
        dialect = (await s.connection()).dialect.name
        ack = await _medians(s, dialect, visible, Concern.acknowledged_at, start, end)
        close = await _medians(s, dialect, visible, Concern.closed_at, start, end)
        rated = (
            await s.execute(
                select(func.avg(Concern.rating), func.count(Concern.rating)).where(
                    visible, Concern.closed_at >= start, Concern.closed_at < end
                )
            )
        ).one()
        overdue = (
            await s.scalars(
                select(Concern.id)
                # Past the phase's stored deadline (a reminder before it is not overdue); rows
                # from before the deadline was stored: by the ladder, as then.
                .where(
                    visible, Concern.status != "closed",
                    or_(Concern.due_at <= now, and_(Concern.due_at.is_(None), or_(Concern.level >= 1, Concern.next_step_at <= now))),
                )
                .order_by(Concern.id)
            )
        ).all()

    org = runtime.org()
    order = [c.id for c in org.spec.categories]
    extra = sorted({cat for cat, _, _ in counts} - set(order))
    cats = order + extra
    index = {st: i for i, (st, _) in enumerate(STATUSES)}
    cells = [[0] * len(STATUSES) for _ in cats]
    for cat, st, n in counts:
        cells[cats.index(cat)][index[st]] += int(n)
    table = Table(
        title="各类别诉求件数及截至期末的办理状态",
        rows=[org.categories[c].name if c in org.categories else c for c in cats],
        columns=[name for _, name in STATUSES],
        cells=cells,
        unit="件",
        chart=True,
        row_label="类别",
    )

    metrics: list[Metric] = []
    for leader in sorted(set(ack) | set(close), key=lambda q: org.display_name(q)):
        name = org.display_name(leader)
        for label, (median, n) in (("受理", ack.get(leader, (None, 0))), ("办结", close.get(leader, (None, 0)))):
            metrics.append(
                Metric(
                    f"{name} {label}用时中位数",
                    median,
                    n,
                    unit="小时",
                    text=duration_text(median) if median is not None else None,
                    row=name,
                    col=label,
                    count_unit="件",
                )
            )
    metrics.append(
        Metric(SATISFACTION, float(rated[0]) if rated[1] else None, int(rated[1]), unit=" 分", count_unit="件")
    )
    listed = "、".join(f"#{n}" for n in overdue[:OVERDUE_LISTED]) + (" 等" if len(overdue) > OVERDUE_LISTED else "")
    notes = [f"逾期未办（截至生成时）：{len(overdue)} 件（{listed}）" if overdue else "逾期未办（截至生成时）：无"]
    return Section(
        title=TITLE,
        tables=[table],
        metrics=metrics,
        notes=notes,
        texts=[t for t in texts if t],
        grid_title="各位领导的受理、办结用时中位数（从提交算起）",
        summary=[
            Figure("收到诉求"),
            Figure("已办结", key=(TOTAL, len(STATUSES) - 1)),
            f"逾期未办 {len(overdue)} 件" if overdue else "没有逾期未办",
            Figure("满意度", metric=SATISFACTION),
        ],
    )


def register() -> None:
    """Add this section to the reports (called from the plugin's __init__)."""
    register_section("concerns", concerns_section, title=TITLE, order=10)
