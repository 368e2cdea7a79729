"""The rumour / not-a-rumour corpus that decisions teach, and the screening index kept in step.

Rows are added and retired inside the decision's transaction; the index learns of them only
after the commit (`apply`), so it never knows a text the database does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.moderation.index import index
from plugins.moderation.models import ModerationCase, ModerationCorpus
from plugins.moderation.normalise import normalise


def norm_hash(norm: str) -> str:
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()


async def add(s: AsyncSession, kind: str, case: ModerationCase, actor: str, now: datetime) -> tuple[list[tuple[int, str]], bool]:
    """Add the case's text to the rumour or not-a-rumour set unless an active row has it.
    Returns (rows added, whether the text is in that set now)."""
    norm = normalise(case.text)
    if not norm:
        return [], False
    digest = norm_hash(norm)
    exists = (
        await s.execute(
            select(ModerationCorpus.id).where(ModerationCorpus.kind == kind, ModerationCorpus.norm_hash == digest, ModerationCorpus.active.is_(True)).limit(1)
        )
    ).scalar()
    if exists is not None:
        return [], True
    row = ModerationCorpus(kind=kind, text=case.text, norm=norm, norm_hash=digest, case_id=case.id, added_by=actor, added_at=now, active=True)
    s.add(row)
    await s.flush()
    return [(row.id, case.text)], True


async def deactivate(s: AsyncSession, kind: str, text: str) -> list[int]:
    """The latest decision about an exact text wins: retire the opposite decision's rows."""
    norm = normalise(text)
    if not norm:
        return []
    ids = (
        await s.execute(
            select(ModerationCorpus.id).where(ModerationCorpus.kind == kind, ModerationCorpus.norm_hash == norm_hash(norm), ModerationCorpus.active.is_(True))
        )
    ).scalars().all()
    if ids:
        await s.execute(update(ModerationCorpus).where(ModerationCorpus.id.in_(ids)).values(active=False))
    return list(ids)


async def retire_case(s: AsyncSession, kind: str, case: ModerationCase) -> list[int]:
    """A decision taken back: retire the rows the case added, and any with its exact text."""
    ids = (
        await s.execute(
            select(ModerationCorpus.id).where(
                ModerationCorpus.kind == kind, ModerationCorpus.active.is_(True),
                or_(ModerationCorpus.case_id == case.id, ModerationCorpus.norm_hash == norm_hash(normalise(case.text))),
            )
        )
    ).scalars().all()
    if ids:
        await s.execute(update(ModerationCorpus).where(ModerationCorpus.id.in_(ids)).values(active=False))
    return list(ids)


def apply(forgotten: Sequence[int], learned: Sequence[tuple[int, str]], kind: str, case_id: int) -> None:
    """Tell the screening index what a committed decision retired and added."""
    for cid in forgotten:
        index.forget(cid)
    for cid, text in learned:
        index.learn(cid, text, kind, case_id)
