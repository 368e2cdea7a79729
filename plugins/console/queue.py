"""A leader's concerns as the console shows them: the same rules as /待办 in chat.

Only what `plugins.concerns.leader` lets this person act on, only once visible (from its batch
slot), and nothing about the submitter except what they chose to disclose.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.db import session
from plugins.concerns import leader, texts
from plugins.concerns.core import category_name, day
from plugins.concerns.models import Concern


@dataclass(frozen=True)
class Row:
    number: int
    category: str
    status: str
    status_name: str
    created: str
    deadline: str
    disclosed: str | None
    text: str


def _row(c: Concern) -> Row:
    return Row(
        number=c.id,
        category=category_name(c),
        status=c.status,
        status_name=texts.STATUS_NAMES[c.status],
        created=day(c.created_at),
        deadline=day(c.next_step_at) if c.next_step_at else "",
        disclosed=c.disclosed,
        text=c.text or texts.PURGED,
    )


async def open_for(actor: str) -> list[Row]:
    async with session() as s:
        rows = (await s.scalars(select(Concern).where(Concern.status != "closed", Concern.visible.is_(True)).order_by(Concern.id))).all()
    return [_row(c) for c in rows if leader.in_queue(actor, c)]
