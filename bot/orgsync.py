"""Mirror the org file into the database at start, so reports and other processes can join on it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from bot.db import session, upsert
from bot.models import OrgCategory, OrgDepartment, OrgGroup, OrgPerson
from bot.org import Org, section


async def sync_org(org: Org, sessions=session) -> None:  # type: ignore[no-untyped-def]
    spec = org.spec
    tables: list[tuple[Any, str, list[dict[str, Any]]]] = [
        (OrgDepartment, "id", [{"id": d.id, "name": d.name, "head": d.head} for d in spec.departments]),
        (OrgCategory, "id", [{"id": c.id, "name": c.name, "leader": c.leader, "keywords": list(c.keywords)} for c in spec.categories]),
        (
            OrgPerson,
            "qq",
            [{"qq": p.qq, "name": p.name, "department": p.department, "roles": [r.value for r in p.roles], "birthday": p.birthday} for p in spec.people],
        ),
        (
            OrgGroup,
            "id",
            [
                {
                    "id": g.id,
                    "name": g.name,
                    "department": g.department,
                    "study": study.model_dump() if (study := section(g, "study")) else None,
                    "moderators": list(g.moderators),
                    "tags": list(g.tags),
                }
                for g in spec.groups
            ],
        ),
    ]
    async with sessions() as s:
        for model, key, rows in tables:
            column = getattr(model, key)
            if rows:
                await s.execute(upsert(s, model.__table__, rows, (key,)))
            await s.execute(delete(model).where(column.not_in([r[key] for r in rows])))
        await s.commit()
