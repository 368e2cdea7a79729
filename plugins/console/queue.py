"""A leader's concerns as the console shows them: the same rules as /待办 in chat.

Only what `plugins.concerns.service` lets this person act on, only once visible (from its batch
slot), and nothing about the submitter except what they chose to disclose.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot import runtime
from bot.db import session
from plugins.concerns import service
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
    org = runtime.org()
    return Row(
        number=c.id,
        category=org.categories[c.category].name if c.category in org.categories else c.category,
        status=c.status,
        status_name=service.STATUS_NAMES[c.status],
        created=service._day(c.created_at),
        deadline=service._day(c.next_step_at) if c.next_step_at else "",
        disclosed=c.disclosed,
        text=c.text or "（内容已按保存期限删除）",
    )


async def open_for(actor: int) -> list[Row]:
    async with session() as s:
        rows = (await s.scalars(select(Concern).where(Concern.status != "closed", Concern.visible.is_(True)).order_by(Concern.id))).all()
    return [_row(c) for c in rows if service.can_act(actor, c) and (c.leader == actor or c.level >= 2)]
