"""The process's screening index, built from the database and kept current.

Each bot process holds its own `Screener` in memory: built at start-up (or at the first
message, if the database was not reachable then), updated at once by the decisions this process
records, and every minute from the corpus table for decisions recorded by other processes
(rows are only ever inserted or deactivated, so "ids above the last seen" and "deactivated ids
still indexed" are all a refresh needs). A decision made through another process is therefore
picked up here within about a minute.
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from nonebot import logger
from sqlalchemy import select

from bot import runtime
from bot.db import session
from plugins.moderation.config import load_lexicons
from plugins.moderation.models import INNOCENT, ModerationCorpus
from plugins.moderation.screening import Params, Screener

RETRY_SECONDS = 30.0
# Ids from concurrent transactions may commit out of order: re-read a little below the mark.
OVERLAP = 200


class Index:
    def __init__(self, params: Params | None = None) -> None:
        self.params = params
        self.screener: Screener | None = None
        self.case_of: dict[int, int | None] = {}  # corpus id -> the case that decided it
        self.watermark = 0
        self._lock = asyncio.Lock()
        self._retry_at = 0.0
        self._source: object = _database()

    def reset(self) -> None:
        """Forget everything (tests: each runs on a fresh database)."""
        self.screener = None
        self.case_of = {}
        self.watermark = 0
        self._retry_at = 0.0

    async def get(self) -> Screener | None:
        """The index, loading it on first use; None while the database cannot be read."""
        source = _database()
        if source is not self._source:
            # bot.db was pointed at another database (tests do, once per test): what was
            # learnt from the previous one does not apply.
            self.reset()
            self._source = source
        if self.screener is not None:
            return self.screener
        if time.monotonic() < self._retry_at:
            return None
        async with self._lock:
            if self.screener is None:
                try:
                    await self.load()
                except Exception as e:  # noqa: BLE001 - screening waits; chat goes on
                    self._retry_at = time.monotonic() + RETRY_SECONDS
                    logger.error(f"moderation: index not loaded ({type(e).__name__}); retrying in {RETRY_SECONDS:.0f}s")
        return self.screener

    async def load(self) -> Screener:
        started = time.perf_counter()
        screener = Screener(self.params)
        for phrase, category in load_lexicons():
            screener.add_phrase(phrase, category)
        for group in runtime.org().groups.values():
            if group.moderation is not None:
                for phrase in group.moderation.banned:
                    screener.add_phrase(phrase, "banned", group.id)
        screener.build_phrases()
        case_of: dict[int, int | None] = {}
        watermark = 0
        async with session() as s:
            rows = (
                await s.execute(
                    select(ModerationCorpus.id, ModerationCorpus.kind, ModerationCorpus.text, ModerationCorpus.case_id)
                    .where(ModerationCorpus.active.is_(True))
                    .order_by(ModerationCorpus.id)
                )
            ).all()
            last = (await s.execute(select(ModerationCorpus.id).order_by(ModerationCorpus.id.desc()).limit(1))).scalar()
        for cid, kind, text, case_id in rows:
            screener.add(cid, text, _kind(kind))
            case_of[cid] = case_id
        watermark = int(last or 0)
        self.screener, self.case_of, self.watermark = screener, case_of, watermark
        counts = screener.counts()
        logger.info(
            f"moderation: index loaded in {time.perf_counter() - started:.1f}s: {counts['rumour']} rumours, "
            f"{counts['innocent']} dismissed texts, {counts['phrases']} phrases"
        )
        return screener

    async def refresh(self) -> None:
        """Pick up decisions recorded by other processes (tick)."""
        screener = self.screener
        if screener is None:
            await self.get()
            return
        async with session() as s:
            new = (
                await s.execute(
                    select(ModerationCorpus.id, ModerationCorpus.kind, ModerationCorpus.text, ModerationCorpus.case_id, ModerationCorpus.active)
                    .where(ModerationCorpus.id > self.watermark - OVERLAP)
                    .order_by(ModerationCorpus.id)
                )
            ).all()
            dropped = (
                await s.execute(select(ModerationCorpus.id).where(ModerationCorpus.active.is_(False)))
            ).scalars().all()
        for cid, kind, text, case_id, active in new:
            if active and cid not in screener:
                screener.add(cid, text, _kind(kind))
                self.case_of[cid] = case_id
            self.watermark = max(self.watermark, cid)
        for cid in dropped:
            self.forget(cid)

    def learn(self, corpus_id: int, text: str, kind: str, case_id: int | None) -> None:
        """A decision this process just committed."""
        if self.screener is not None:
            self.screener.add(corpus_id, text, _kind(kind))
            self.case_of[corpus_id] = case_id

    def forget(self, corpus_id: int) -> None:
        if self.screener is not None:
            self.screener.remove(corpus_id)
        self.case_of.pop(corpus_id, None)


def _database() -> object:
    """Which database `bot.db.session()` opens: None in production (nonebot-plugin-orm's),
    the test's session factory in tests."""
    from bot import db

    return getattr(db, "_override", None)


def _kind(kind: str) -> Literal["rumour", "innocent"]:
    return "innocent" if kind == INNOCENT else "rumour"


index = Index()
