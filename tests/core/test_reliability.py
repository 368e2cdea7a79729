"""Reliability under concurrency (issue 7): nothing lost, nothing duplicated."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from plugins.concerns import intake
from plugins.concerns.models import Concern, ConcernRoute


async def test_fifty_concurrent_concern_submissions_are_all_stored_with_unique_receipts(db) -> None:  # type: ignore[no-untyped-def]
    # 50 different people (the daily limit is per person), all at once.
    results = await asyncio.gather(
        *[intake.submit(user_id=str(31000 + i), bot_id="10000", text=f"第{i}件：夜班补贴没有发放") for i in range(50)],
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    codes = [r.code for r in results]  # type: ignore[union-attr]
    assert len(set(codes)) == 50
    async with db() as s:
        assert await s.scalar(select(func.count()).select_from(Concern)) == 50
        assert await s.scalar(select(func.count()).select_from(ConcernRoute)) == 50
        assert len(set((await s.scalars(select(Concern.receipt_digest))).all())) == 50
