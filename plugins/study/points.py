"""Study points (学习强国-style): a few points per activity, each capped per day.

| activity | points                                        | daily cap |
|----------|-----------------------------------------------|-----------|
| checkin  | 1 for /已学 on a material (once per material)  | 2         |
| answer   | 1 per quiz question answered right (once per question) | 5 |
| full     | 2 for a quiz attempt with every answer right (once per material) | 2 |

An award that would pass the cap is cut to what is left (possibly nothing, and then nothing is
recorded, so the same question can still earn its point on another day). Caps count by the
organisation's local date; ranks by its local month.

Points are for encouragement, not assessment (国办函〔2026〕12号, as reported: points rankings
must not be compulsory nor used in assessments). They are private to each person: the public
ranking (/排行, 学习之星) lists only people who chose it (/排行 公开), and an organisation can
switch it off altogether (`study: {ranking: false}` in the org file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, runtime
from bot.db import insert_ignore
from plugins.study.models import StudyPoints, StudyRankingOptIn
from plugins.study.orgsection import options


@dataclass(frozen=True)
class Rule:
    label: str
    points: int
    cap: int


RULES: dict[str, Rule] = {
    "checkin": Rule("学习打卡", 1, 2),
    "answer": Rule("答题", 1, 5),
    "full": Rule("全对奖励", 2, 2),
}


async def award(s: AsyncSession, user_id: str, activity: str, ref: str, now: datetime, name: str | None = None) -> int:
    """Grant points in the caller's transaction; returns how many were granted (0 if capped
    or already given). The caller commits together with what earned them."""
    rule = RULES[activity]
    today = now.date().isoformat()
    used = await used_today(s, user_id, activity, today)
    grant = min(rule.points, rule.cap - used)
    if grant <= 0:
        return 0
    row = {
        "user_id": user_id,
        "activity": activity,
        "ref": ref[:96],
        "points": grant,
        "day": today,
        "month": today[:7],
        "name": (name or None) and name[:64],
        "created_at": now,
    }
    result = await s.execute(insert_ignore(s, StudyPoints.__table__, [row], ("user_id", "activity", "ref")))
    return grant if (result.rowcount or 0) > 0 else 0  # type: ignore[attr-defined]


async def used_today(s: AsyncSession, user_id: str, activity: str, day: str) -> int:
    total = await s.scalar(
        select(func.coalesce(func.sum(StudyPoints.points), 0)).where(
            StudyPoints.user_id == user_id, StudyPoints.activity == activity, StudyPoints.day == day
        )
    )
    return int(total or 0)


async def month_total(s: AsyncSession, user_id: str, month: str) -> int:
    total = await s.scalar(
        select(func.coalesce(func.sum(StudyPoints.points), 0)).where(StudyPoints.user_id == user_id, StudyPoints.month == month)
    )
    return int(total or 0)


async def all_time_total(s: AsyncSession, user_id: str) -> int:
    total = await s.scalar(select(func.coalesce(func.sum(StudyPoints.points), 0)).where(StudyPoints.user_id == user_id))
    return int(total or 0)


@dataclass(frozen=True)
class Rank:
    rank: int  # competition ranking: 1, 1, 3
    user_id: str
    name: str
    points: int


def ranking_enabled() -> bool:
    return options(runtime.org()).ranking


async def is_public(s: AsyncSession, user_id: str) -> bool:
    return await s.get(StudyRankingOptIn, user_id) is not None


async def set_public(s: AsyncSession, user_id: str, public: bool) -> bool:
    """Record the person's choice (the caller commits); returns whether it changed anything."""
    row = await s.get(StudyRankingOptIn, user_id)
    if public and row is None:
        s.add(StudyRankingOptIn(user_id=user_id, created_at=clock.utcnow()))
        return True
    if not public and row is not None:
        await s.delete(row)
        return True
    return False


async def ranking(s: AsyncSession, month: str) -> list[Rank]:
    """The public ranking of `month`: people who opted in and have points, best first; ties
    share a rank and are ordered by name. Empty when the organisation has no ranking."""
    if not ranking_enabled():
        return []
    rows = (
        await s.execute(
            select(StudyPoints.user_id, func.sum(StudyPoints.points))
            .join(StudyRankingOptIn, StudyRankingOptIn.user_id == StudyPoints.user_id)
            .where(StudyPoints.month == month)
            .group_by(StudyPoints.user_id)
        )
    ).all()
    if not rows:
        return []
    names = await _names(s, [u for u, _ in rows])
    ordered = sorted(((int(p), names[u], u) for u, p in rows), key=lambda r: (-r[0], r[1], r[2]))
    out: list[Rank] = []
    for i, (pts, name, uid) in enumerate(ordered):
        rank = out[-1].rank if out and out[-1].points == pts else i + 1
        out.append(Rank(rank, uid, name, pts))
    return [r for r in out if r.points > 0]


async def _names(s: AsyncSession, user_ids: list[str]) -> dict[str, str]:
    """The org file's name, else the latest nickname seen, else the last digits of the QQ."""
    org = runtime.org()
    out: dict[str, str] = {}
    unknown = []
    for uid in user_ids:
        person = org.person(uid)
        if person is not None:
            out[uid] = person.name
        else:
            unknown.append(uid)
    if unknown:
        rows = (
            await s.execute(
                select(StudyPoints.user_id, StudyPoints.name)
                .where(StudyPoints.user_id.in_(unknown), StudyPoints.name.is_not(None))
                .order_by(StudyPoints.created_at)
            )
        ).all()
        for uid, name in rows:
            out[uid] = name or ""  # later rows win: the latest nickname (never None: filtered)
    for uid in unknown:
        out.setdefault(uid, f"QQ尾号{uid[-4:]}" if uid.isdigit() else f"飞书用户{uid[-4:]}")
    return out


def ranking_lines(ranks: list[Rank], limit: int = 10) -> list[str]:
    return [f"{r.rank}. {r.name} {r.points} 分" for r in ranks[:limit]]
