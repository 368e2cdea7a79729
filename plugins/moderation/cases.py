"""Case records: the message a case is about, opening a case (one per message), reading one,
and the counts periodic reports show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot import clock
from bot.db import insert_ignore, session
from plugins.moderation import audit
from plugins.moderation.config import MAX_SNAPSHOT
from plugins.moderation.models import CONFIRMED, DISMISSED, OPEN, REPORT, ModerationAudit, ModerationCase


@dataclass(frozen=True)
class Quoted:
    """The message a case is about, as it was when the case was opened."""

    message_id: str
    author_id: str
    author_name: str
    text: str


async def get_case(case_id: int) -> ModerationCase | None:
    async with session() as s:
        return await s.get(ModerationCase, case_id)


async def open_case(
    group_id: str, quoted: Quoted, *, source: str, category: str, opened_by: str | None,
    reason: str | None, match_case_id: int | None = None,
) -> tuple[ModerationCase, bool]:
    """The case for this message, created if there is none (one per message, race-safe)."""
    now = clock.utcnow()
    row = {
        "group_id": group_id, "message_id": quoted.message_id, "author_id": quoted.author_id,
        "author_name": quoted.author_name[:64], "text": quoted.text[:MAX_SNAPSHOT], "source": source,
        "category": category, "status": OPEN, "opened_at": now, "opened_by": opened_by,
        "reason": reason, "match_case_id": match_case_id, "reports": 0, "recalled": False,
    }
    async with session() as s:
        result = await s.execute(insert_ignore(s, ModerationCase.__table__, [row], ("group_id", "message_id")))
        created = bool(result.rowcount)  # type: ignore[attr-defined]
        case = (
            await s.execute(
                select(ModerationCase).where(ModerationCase.group_id == group_id, ModerationCase.message_id == quoted.message_id)
            )
        ).scalar_one()
        if created and source != REPORT:  # report() writes its own entry, one per reporter
            s.add(ModerationAudit(**audit.entry(source, opened_by, case, reason or "")))
        s.expunge(case)  # returned detached: commit would expire its attributes
        await s.commit()
    return case, created


async def open_cases(groups: list[str] | None, limit: int) -> tuple[Sequence[ModerationCase], int]:
    """The oldest open cases of these groups (None: every group), and how many are open."""
    where = [ModerationCase.status == OPEN] + ([ModerationCase.group_id.in_(groups)] if groups is not None else [])
    async with session() as s:
        cases = (await s.scalars(select(ModerationCase).where(*where).order_by(ModerationCase.id).limit(limit))).all()
        total = (await s.execute(select(func.count()).select_from(ModerationCase).where(*where))).scalar_one()
    return cases, total


async def waiting_appeals(limit: int) -> Sequence[ModerationCase]:
    """Appeals no cadre has decided yet, the longest waiting first."""
    async with session() as s:
        return (
            await s.scalars(
                select(ModerationCase).where(ModerationCase.status == CONFIRMED, ModerationCase.appeal.is_not(None), ModerationCase.appeal_result.is_(None))
                .order_by(ModerationCase.appealed_at, ModerationCase.id).limit(limit)
            )
        ).all()


async def stats(start: datetime, end: datetime) -> dict[str, int]:
    """Counts for periodic reports: cases opened by source, and decisions, in [start, end)."""
    async with session() as s:
        opened = (
            await s.execute(
                select(ModerationCase.source, func.count()).where(ModerationCase.opened_at >= start, ModerationCase.opened_at < end).group_by(ModerationCase.source)
            )
        ).all()
        decided = (
            await s.execute(
                select(ModerationCase.status, func.count()).where(ModerationCase.decided_at >= start, ModerationCase.decided_at < end).group_by(ModerationCase.status)
            )
        ).all()
    out = {f"opened_{k}": int(v) for k, v in opened}
    out |= {k: int(v) for k, v in decided if k in (CONFIRMED, DISMISSED)}
    return out
