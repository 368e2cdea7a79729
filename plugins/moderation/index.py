"""The process's screening index, built from the database and kept current.

Each bot process holds its own `Screener` in memory: loaded in the background from start-up
(the bot listens meanwhile; a message screened before the index is ready waits for it, so none
goes unscreened), or at the first message if the database was not reachable then; updated at
once by the decisions this process records (those made while it loads are applied after), and
every minute from the corpus table for decisions recorded by other processes
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
from plugins.moderation.config import lexicon_dir, load_lexicons
from plugins.moderation.models import INNOCENT, ModerationCorpus
from plugins.moderation.orgsection import moderation_of
from plugins.moderation.screening import Params, Screener

RETRY_SECONDS = 30.0
# Corpus rows read per query while loading: each batch is a short stretch of the loop's time.
LOAD_BATCH = 2000
# Ids from concurrent transactions may commit out of order: re-read a little below the mark.
OVERLAP = 200


class CaseOf:
    """Corpus id -> the case that decided it, kept in the index's own rows (no dict per text)."""

    def __init__(self, owner: Index) -> None:
        self._owner = owner

    def get(self, corpus_id: int, default: int | None = None) -> int | None:
        screener = self._owner.screener
        case = screener.tag_of(corpus_id) if screener is not None else None
        return default if case is None else case


class Index:
    def __init__(self, params: Params | None = None) -> None:
        self.params = params
        self.screener: Screener | None = None
        self.case_of = CaseOf(self)
        self.watermark = 0
        self._loading: asyncio.Task[Screener] | None = None
        # Decisions made while the index loads: applied, in order, once it is ready.
        self._pending: list[tuple[str, int, str, str, int | None]] = []
        self._compacting = False
        self._generation = 0  # bumped by reset(): a load started before must not install
        self._retry_at = 0.0
        self._source: object = _database()
        self._phrase_stamp: object = None

    def reset(self) -> None:
        """Forget everything (tests: each runs on a fresh database)."""
        if self._loading is not None:
            self._loading.cancel()
        self._generation += 1
        self.screener = None
        self.watermark = 0
        self._loading = None
        self._pending = []
        self._retry_at = 0.0

    def start(self) -> None:
        """Begin loading in the background (start-up: the bot listens meanwhile)."""
        self._check_source()
        if self.screener is None and self._loading is None:
            self._loading = asyncio.create_task(self._load_once(), name="moderation-index")

    async def get(self) -> Screener | None:
        """The index, loading it on first use; None while the database cannot be read.

        A message screened while the index loads waits here for it: screened late, not skipped."""
        self._check_source()
        if self.screener is not None:
            return self.screener
        if time.monotonic() < self._retry_at:
            return None
        if self._loading is None:
            self._loading = asyncio.create_task(self._load_once(), name="moderation-index")
        task = self._loading
        try:
            # Shielded: a cancelled message must not cancel the load others wait for.
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
        except Exception:  # noqa: BLE001 - logged by _load_once
            pass
        return self.screener

    def _check_source(self) -> None:
        source = _database()
        if source is not self._source:
            # bot.db was pointed at another database (tests do, once per test): what was
            # learnt from the previous one does not apply.
            self.reset()
            self._source = source

    async def _load_once(self) -> Screener:
        try:
            return await self.load()
        except Exception as e:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            logger.error(f"moderation: index not loaded ({type(e).__name__}); retrying in {RETRY_SECONDS:.0f}s")
            raise
        finally:
            if self._loading is asyncio.current_task():
                self._loading = None

    async def load(self) -> Screener:
        """Read the corpus in batches (the loop serves between them), index it in a worker
        thread, then apply what was decided meanwhile."""
        started = time.perf_counter()
        generation = self._generation
        screener = Screener(self.params)
        self._phrase_stamp = _phrase_source()
        _add_phrases(screener)
        keys: list[int] = []
        norms: list[str] = []
        kinds: list[Literal["rumour", "innocent"]] = []
        cases: list[int | None] = []
        last_id = 0
        async with session() as s:
            top = (await s.execute(select(ModerationCorpus.id).order_by(ModerationCorpus.id.desc()).limit(1))).scalar()
            while True:
                batch = (
                    await s.execute(
                        select(ModerationCorpus.id, ModerationCorpus.kind, ModerationCorpus.norm, ModerationCorpus.case_id)
                        .where(ModerationCorpus.active.is_(True), ModerationCorpus.id > last_id)
                        .order_by(ModerationCorpus.id)
                        .limit(LOAD_BATCH)
                    )
                ).all()
                for cid, kind, norm, case_id in batch:
                    keys.append(cid)
                    norms.append(norm)
                    kinds.append(_kind(kind))
                    cases.append(case_id)
                if len(batch) < LOAD_BATCH:
                    break
                last_id = batch[-1][0]
        if keys:
            await asyncio.to_thread(screener.load, keys, norms, kinds, cases)
        del keys, norms, kinds, cases
        _trim()
        if generation != self._generation:
            raise asyncio.CancelledError  # reset() meanwhile: another database
        self.watermark = int(top or 0)
        self.screener = screener
        pending, self._pending = self._pending, []
        for op, cid, text, kind, case_id in pending:
            if op == "learn":
                self.learn(cid, text, kind, case_id)
            else:
                self.forget(cid)
        counts = screener.counts()
        logger.info(
            f"moderation: index loaded in {time.perf_counter() - started:.1f}s: {counts['rumour']} rumours, "
            f"{counts['innocent']} dismissed texts, {counts['phrases']} phrases"
        )
        return screener

    def reload_phrases(self, *, only_if_changed: bool = False) -> bool:
        """The banned phrases again from the lexicon files and the org file (edited by hand,
        in the console, or by another process). True when they were rebuilt."""
        screener = self.screener
        if screener is None:
            return False  # the load in progress reads them itself
        stamp = _phrase_source()
        if only_if_changed and stamp == self._phrase_stamp:
            return False
        self._phrase_stamp = stamp
        screener.clear_phrases()
        _add_phrases(screener)
        logger.info(f"moderation: banned phrases reloaded: {screener.phrase_count}")
        return True

    async def refresh(self) -> None:
        """Pick up decisions recorded by other processes (tick)."""
        screener = self.screener
        if screener is None:
            if self._loading is None:
                await self.get()
            return
        self.reload_phrases(only_if_changed=True)
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
                screener.add(cid, text, _kind(kind), tag=case_id)
            self.watermark = max(self.watermark, cid)
        for cid in dropped:
            self.forget(cid)
        await self.compact()

    async def compact(self, *, force: bool = False) -> None:
        """Merge recent additions into the sorted arrays, in a worker thread."""
        screener = self.screener
        corpus = screener._corpus if screener is not None else None  # noqa: SLF001
        if corpus is None or self._compacting or not (force or corpus.needs_compacting()):
            return
        self._compacting = True
        try:
            upto = len(corpus.norms)
            prepared = await asyncio.to_thread(corpus.prepare, upto)
            if screener is self.screener:
                corpus.install(prepared, upto)
        finally:
            self._compacting = False

    def learn(self, corpus_id: int, text: str, kind: str, case_id: int | None) -> None:
        """A decision this process just committed."""
        if self.screener is not None:
            self.screener.add(corpus_id, text, _kind(kind), tag=case_id)
        elif self._loading is not None:
            self._pending.append(("learn", corpus_id, text, kind, case_id))

    def forget(self, corpus_id: int) -> None:
        if self.screener is not None:
            self.screener.remove(corpus_id)
        elif self._loading is not None:
            self._pending.append(("forget", corpus_id, "", "", None))


def _add_phrases(screener: Screener) -> None:
    for phrase, category in load_lexicons():
        screener.add_phrase(phrase, category)
    for group in runtime.org().groups.values():
        if (own := moderation_of(group)) is not None:
            for phrase in own.banned:
                screener.add_phrase(phrase, "banned", group.id)
    screener.build_phrases()


def _phrase_source() -> object:
    """What the phrases are built from: the lexicon files as they are now, and the org's."""
    folder = lexicon_dir()
    files: list[tuple[str, float, int]] = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.txt")):
            try:
                st = path.stat()
            except OSError:
                continue
            files.append((path.name, st.st_mtime, st.st_size))
    banned = tuple((g.id, tuple(m.banned)) for g in runtime.org().groups.values() if (m := moderation_of(g)) is not None)
    return (str(folder), tuple(files), banned)


def _trim() -> None:
    """Hand the loading's temporary memory back to the system (glibc keeps freed memory of
    small allocations otherwise: tens of MB after reading 100,000 rows)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _database() -> object:
    """Which database `bot.db.session()` opens: None in production (bot.db's engine),
    the test's session factory in tests."""
    from bot import db

    return getattr(db, "_override", None)


def _kind(kind: str) -> Literal["rumour", "innocent"]:
    return "innocent" if kind == INNOCENT else "rumour"


index = Index()
