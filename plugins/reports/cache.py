"""Each period's hot words and chart in the database (`reports_cache`), by version: a digest of
what they were computed from. A hit is one indexed read; a miss is recomputed by the caller."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot import clock
from bot.db import session
from plugins.reports.models import ReportCache


async def get(period: str, kind: str, version: str) -> bytes | None:
    async with session() as s:
        row = await s.get(ReportCache, (period, kind))
        return row.data if row is not None and row.version == version else None


async def put(period: str, kind: str, version: str, data: bytes) -> None:
    """Replace the period's entry; two processes storing at once: one of them wins, both correct."""
    async with session() as s:
        await s.execute(delete(ReportCache).where(ReportCache.period == period, ReportCache.kind == kind))
        s.add(ReportCache(period=period, kind=kind, version=version, data=data, created_at=clock.utcnow()))
        try:
            await s.commit()
        except IntegrityError:
            await s.rollback()
