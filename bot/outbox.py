"""The outbox: every scheduled or broadcast send, exactly once (DESIGN invariant 2).

A ledger row per (purpose, period, target) under a unique constraint makes enqueueing
idempotent: a schedule that fires twice, in two processes, or again after a restart, finds the
row already there. A worker per connected bot account claims one due row at a time (SKIP LOCKED
on PostgreSQL; a guarded UPDATE everywhere), sends it through the platform port, and paces
sends (1.5 s + jitter by default) because bursts trip the platform's risk control. The pacing
is per account, not per process: a row of `outbox_pace` holds when the account may send next,
by the database's clock, and a worker takes that slot with one guarded UPDATE before sending
and sets the next one when its send has returned, so two processes holding one account
(a rolling restart, a second instance) still send one message per interval between them. A
send that timed out may have been delivered, so it is marked "unknown", never retried blindly.

A row may hold a reference (`Ref`) instead of the message: a renderer registered under its name
builds the parts at send time, so private content (a concern's text) is never copied into the
ledger, and content deleted meanwhile is not sent at all (the row becomes "dropped").
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nonebot import logger
from sqlalchemy import ColumnElement, Double, and_, cast, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db import dialect_of, insert_ignore
from bot.models import Outbox, OutboxPace
from bot.platform import (
    NotConnected,
    Part,
    Port,
    SendFailed,
    SendUnknown,
    Target,
    parts_from_json,
    delivery_platform,
    parts_to_json,
)

SessionFactory = Callable[[], AsyncSession]

PENDING, SENDING, SENT, UNKNOWN, FAILED = "pending", "sending", "sent", "unknown", "failed"
DROPPED = "dropped"  # a referenced content that no longer exists: nothing was sent


@dataclass(frozen=True)
class Ref:
    """Content to render at send time: `renderer` names a registered renderer, `data` is
    what it needs to find the content (ids, never the content itself)."""

    renderer: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Item:
    target: Target
    parts: Sequence[Part] | Ref


# A renderer returns the parts to send, or None when the content is gone (never sent then).
Renderer = Callable[[dict[str, Any]], Awaitable[Sequence[Part] | None]]
_renderers: dict[str, Renderer] = {}


def register_renderer(name: str, fn: Renderer) -> None:
    _renderers[name] = fn


def _payload(parts: Sequence[Part] | Ref) -> list[dict[str, Any]]:
    if isinstance(parts, Ref):
        return [{"type": "ref", "renderer": parts.renderer, "data": parts.data}]
    return parts_to_json(parts)


class _Gone(Exception):
    """The referenced content no longer exists."""


async def render(payload: list[dict[str, Any]]) -> list[Part]:
    """The parts a ledger row sends: stored as they are, or rendered now from a reference.

    A failing renderer is a SendFailed (nothing went out, so retrying is safe)."""
    if len(payload) == 1 and payload[0].get("type") == "ref":
        ref = payload[0]
        fn = _renderers.get(ref.get("renderer", ""))
        if fn is None:
            raise SendFailed(f"no renderer {ref.get('renderer')!r}")
        try:
            parts = await fn(ref.get("data") or {})
        except Exception as e:  # noqa: BLE001 - e.g. a database hiccup: try again later
            raise SendFailed(f"renderer {ref.get('renderer')!r}: {type(e).__name__}") from None
        if parts is None:
            raise _Gone
        return list(parts)
    return parts_from_json(payload)


def _default_sessions() -> AsyncSession:
    from bot.db import session

    return session()


async def enqueue(
    purpose: str,
    period: str,
    items: Sequence[Item],
    *,
    bot_id: str | None = None,
    not_before: datetime | None = None,
    sessions: SessionFactory = _default_sessions,
) -> int:
    """Add ledger rows; rows whose key exists are left alone. Returns how many are new."""
    if not items:
        return 0
    now = clock.utcnow()
    rows = [
        {
            "purpose": purpose,
            "period": period,
            "target_kind": it.target.kind,
            "target_id": it.target.id,
            "bot_id": bot_id,
            "platform": delivery_platform(it.target),
            "payload": _payload(it.parts),
            "status": PENDING,
            "attempts": 0,
            "not_before": (not_before or now),
            "created_at": now,
        }
        for it in items
    ]
    async with sessions() as s:
        result = await s.execute(
            insert_ignore(s, Outbox.__table__, rows, ("purpose", "period", "target_kind", "target_id"))
        )
        await s.commit()
    created = max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    kick()
    return created


async def existing_targets(
    purpose: str, period: str, *, sessions: SessionFactory = _default_sessions
) -> set[Target]:
    """Targets that already have a ledger row for (purpose, period), in any status.

    Lets a tick skip costly work (rendering a report, choosing texts) once it is recorded,
    without weakening the guarantee: `enqueue` stays the one place that decides.
    """
    async with sessions() as s:
        rows = await s.execute(
            select(Outbox.target_kind, Outbox.target_id).where(Outbox.purpose == purpose, Outbox.period == period)
        )
        return {Target(kind, tid) for kind, tid in rows.all()}  # type: ignore[arg-type]


def _db_now(s: AsyncSession) -> ColumnElement[float]:
    """Now, in seconds since the epoch, by the database's clock: the one clock every process
    and host sharing the database agrees on (SQLite's 'now' is fixed within a statement)."""
    if dialect_of(s) == "postgresql":
        return cast(func.extract("epoch", func.clock_timestamp()), Double)
    return (func.julianday(literal("now")) - 2440587.5) * 86400.0


_wake = asyncio.Event()


def kick() -> None:
    """Wake the workers of this process (rows enqueued by other processes are found by polling)."""
    _wake.set()


class Worker:
    """Claims and sends ledger rows for the bot accounts this process holds."""

    def __init__(
        self,
        *,
        sessions: SessionFactory = _default_sessions,
        port_for: Callable[[str], Port] | None = None,
        platform_for: Callable[[str], str | None] | None = None,
        interval: float = 1.5,
        jitter: float = 0.5,
        lease: float = 120.0,
        pace_lease: float = 60.0,
        poll: float = 2.0,
        max_attempts: int = 3,
        worker_id: str | None = None,
    ) -> None:
        from bot.platform import platform_of_bot, port_by_id

        self.sessions = sessions
        self.port_for = port_for or port_by_id
        # A bot account claims only rows of its platform (a QQ account cannot reach a Feishu chat).
        self.platform_for = platform_for or (lambda bot_id: platform_of_bot(bot_id) or "qq")
        self.interval, self.jitter, self.lease, self.poll = interval, jitter, lease, poll
        # How long a slot stays taken by a worker that never gives it back (it died mid-send).
        # Shorter than `lease`: a row claimed and waiting for its slot must not be swept meanwhile.
        self.pace_lease = pace_lease
        self.max_attempts = max_attempts
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 30):x}"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._paced: set[str] = set()  # accounts whose pace row is known to exist

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, bot_id: str) -> None:
        if bot_id not in self._tasks or self._tasks[bot_id].done():
            self._tasks[bot_id] = asyncio.create_task(self._run(bot_id), name=f"outbox:{bot_id}")

    async def stop(self, bot_id: str | None = None) -> None:
        ids = [bot_id] if bot_id else list(self._tasks)
        for b in ids:
            task = self._tasks.pop(b, None)
            if task:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _run(self, bot_id: str) -> None:
        last_sweep = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                if loop.time() - last_sweep > min(self.lease / 4, 30):
                    await self.sweep()
                    last_sweep = loop.time()
                sent = await self.step(bot_id)  # waits for the account's slot (pacing) itself
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a database hiccup must not kill the worker
                logger.warning(f"outbox worker for {bot_id}: {type(e).__name__}; retrying")
                await asyncio.sleep(1.0)
                sent = False
            if not sent:
                _wake.clear()
                try:
                    await asyncio.wait_for(_wake.wait(), self.poll)
                except TimeoutError:
                    pass

    # --- one step --------------------------------------------------------------------------

    async def step(self, bot_id: str, *, paced: bool = True) -> bool:
        """Claim and send one due row for `bot_id`, in the account's next slot; False when
        nothing was due."""
        claiming = asyncio.ensure_future(self.claim(bot_id))
        try:
            row = await asyncio.shield(claiming)
        except asyncio.CancelledError:
            # Stopped while claiming (the connection dropped): a row claimed meanwhile was not
            # sent, so it goes back to pending instead of waiting two minutes for the sweep.
            claimed = await asyncio.gather(claiming, return_exceptions=True)
            if isinstance(claimed[0], Outbox):
                await asyncio.shield(self._unclaim(claimed[0], bot_id))
            raise
        if row is None:
            return False
        if not paced:
            await self.deliver(row)
            return True
        try:
            await self.take_slot(bot_id)
        except BaseException:  # stopped (the connection dropped) or the database failed while waiting
            await asyncio.shield(self._unclaim(row, bot_id))
            raise
        spacing = 0.0
        try:
            if await self.deliver(row) != DROPPED:  # something may have gone out
                spacing = self.interval + random.uniform(0, self.jitter)
        finally:
            # Shielded: a worker stopped mid-send (the connection dropped) still gives the slot back.
            await asyncio.shield(self.give_slot(bot_id, spacing))
        return True

    # --- pacing per account, across processes ----------------------------------------------

    async def take_slot(self, bot_id: str) -> None:
        """Wait until the account may send, and hold its slot (one guarded UPDATE wins it)."""
        if bot_id not in self._paced:
            async with self.sessions() as s:
                row = {"bot_id": bot_id, "next_at": 0.0, "holder": None}
                await s.execute(insert_ignore(s, OutboxPace.__table__, [row], ("bot_id",)))
                await s.commit()
            self._paced.add(bot_id)
        while True:
            async with self.sessions() as s:
                now = _db_now(s)
                taken = await s.execute(
                    update(OutboxPace)
                    # Or still ours: this worker was stopped between taking the slot and sending.
                    .where(OutboxPace.bot_id == bot_id, or_(OutboxPace.next_at <= now, OutboxPace.holder == self.id))
                    .values(holder=self.id, next_at=now + self.pace_lease)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    await s.commit()
                    return
                wait, holder = (
                    await s.execute(select(OutboxPace.next_at - now, OutboxPace.holder).where(OutboxPace.bot_id == bot_id))
                ).one()
                await s.commit()
            # Mid-send elsewhere: its end is not known, so look again soon; else sleep to the slot.
            await asyncio.sleep(0.2 if holder is not None else min(max(wait, 0.0) + 0.005, self.poll))

    async def _unclaim(self, row: Outbox, bot_id: str) -> None:
        """Nothing was sent: the row is pending again, and the slot (if we got it) free."""
        async with self.sessions() as s:
            await s.execute(
                update(Outbox)
                .where(Outbox.id == row.id, Outbox.status == SENDING, Outbox.claimed_by == self.id)
                .values(status=PENDING, attempts=Outbox.attempts - 1, claimed_by=None, claimed_at=None)
            )
            await s.commit()
        await self.give_slot(bot_id, 0.0)

    async def give_slot(self, bot_id: str, spacing: float) -> None:
        """The send has returned: the account's next slot is `spacing` seconds from now."""
        async with self.sessions() as s:
            await s.execute(
                update(OutboxPace)
                .where(OutboxPace.bot_id == bot_id, OutboxPace.holder == self.id)
                .values(holder=None, next_at=_db_now(s) + spacing)
            )
            await s.commit()

    async def claim(self, bot_id: str) -> Outbox | None:
        platform = self.platform_for(bot_id)
        for _ in range(5):
            now = clock.utcnow()
            async with self.sessions() as s:
                candidate = await s.scalar(
                    select(Outbox.id)
                    .where(
                        Outbox.status == PENDING,
                        Outbox.not_before <= now,
                        or_(Outbox.bot_id == bot_id, Outbox.bot_id.is_(None)),
                        or_(Outbox.platform == platform, Outbox.platform.is_(None)),
                    )
                    .order_by(Outbox.not_before, Outbox.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if candidate is None:
                    return None
                result = await s.execute(
                    update(Outbox)
                    .where(Outbox.id == candidate, Outbox.status == PENDING)
                    .values(
                        status=SENDING,
                        bot_id=bot_id,
                        claimed_by=self.id,
                        claimed_at=now,
                        attempts=Outbox.attempts + 1,
                    )
                )
                await s.commit()
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    return await s.get(Outbox, candidate)
            # Another process took it between our SELECT and UPDATE (SQLite): try the next.
        return None

    async def deliver(self, row: Outbox) -> str:
        """Send one claimed row and record the outcome; returns the row's new status."""
        target = Target(row.target_kind, row.target_id)  # type: ignore[arg-type]
        values: dict[str, object]
        try:
            port = self.port_for(row.bot_id or "")
            # The key makes a repeated attempt at this row deliver once where the platform can.
            message_id = await port.send(target, await render(row.payload), key=f"outbox:{row.id}")
        except asyncio.CancelledError:
            # Stopped mid-send (the connection dropped, or shutdown): it may have gone out.
            # Recorded now rather than by the sweep two minutes later, so a reconnect resumes.
            await asyncio.shield(self._record(row, {"status": UNKNOWN, "error": "stopped mid-send"}))
            raise
        except _Gone:
            logger.info(f"outbox #{row.id} {row.purpose}: its content was deleted; dropped, not sent")
            values = {"status": DROPPED}
        except NotConnected:
            values = {"status": PENDING, "attempts": row.attempts - 1, "not_before": clock.utcnow() + timedelta(seconds=5)}
        except SendUnknown as e:
            logger.warning(f"outbox #{row.id} {row.purpose}: no answer from the platform; marked unknown")
            values = {"status": UNKNOWN, "error": str(e)[:500]}
        except SendFailed as e:
            if row.attempts < self.max_attempts:
                values = {"status": PENDING, "error": str(e)[:500], "not_before": clock.utcnow() + timedelta(seconds=30 * row.attempts)}
            else:
                logger.warning(f"outbox #{row.id} {row.purpose}: failed after {row.attempts} attempts")
                values = {"status": FAILED, "error": str(e)[:500]}
        except Exception as e:  # noqa: BLE001 - could have been sent before it broke: unknown
            logger.error(f"outbox #{row.id} {row.purpose}: {type(e).__name__}; marked unknown")
            values = {"status": UNKNOWN, "error": type(e).__name__}
        else:
            values = {"status": SENT, "sent_at": clock.utcnow(), "message_id": message_id, "error": None}
        await self._record(row, values)
        return str(values["status"])

    async def _record(self, row: Outbox, values: dict[str, object]) -> None:
        async with self.sessions() as s:
            await s.execute(update(Outbox).where(Outbox.id == row.id, Outbox.status == SENDING).values(**values))
            await s.commit()

    async def sweep(self) -> int:
        """Rows left "sending" by a process that died: they may have gone out, so "unknown"."""
        cutoff = clock.utcnow() - timedelta(seconds=self.lease)
        async with self.sessions() as s:
            result = await s.execute(
                update(Outbox)
                .where(and_(Outbox.status == SENDING, Outbox.claimed_at < cutoff))
                .values(status=UNKNOWN, error="sender stopped mid-send")
            )
            await s.commit()
        return result.rowcount or 0  # type: ignore[attr-defined]

    async def drain(self, bot_id: str, limit: int = 10_000) -> int:
        """Send everything due now, without pacing (tests and benchmarks)."""
        n = 0
        while n < limit and await self.step(bot_id, paced=False):
            n += 1
        return n


# Purposes whose rows say who wrote to whom about a concern: never listed with their target or
# text, and never re-queued by a person (plugins/concerns keeps trying those itself).
CONFIDENTIAL = ("concern",)


def confidential(purpose: str) -> bool:
    return purpose.startswith(CONFIDENTIAL)


@dataclass(frozen=True)
class Unsure:
    """A send whose outcome nobody knows (timed out, or the process died mid-send)."""

    id: int
    purpose: str
    period: str
    target: Target
    at: datetime


async def unknown_sends(sessions: SessionFactory = _default_sessions) -> list[Unsure]:
    async with sessions() as s:
        rows = (await s.scalars(select(Outbox).where(Outbox.status == UNKNOWN).order_by(Outbox.id))).all()
        return [
            Unsure(r.id, r.purpose, r.period, Target(r.target_kind, r.target_id), r.claimed_at or r.created_at)  # type: ignore[arg-type]
            for r in rows
        ]


async def resend_unknown(ids: Sequence[int], *, sessions: SessionFactory = _default_sessions) -> int:
    """Queue these unknown rows again (someone checked they did not arrive). Rows that are no
    longer unknown, or confidential, are left alone. Returns how many were queued."""
    if not ids:
        return 0
    async with sessions() as s:
        result = await s.execute(
            update(Outbox)
            .where(Outbox.id.in_(list(ids)), Outbox.status == UNKNOWN, ~or_(*(Outbox.purpose.startswith(p) for p in CONFIDENTIAL)))
            .values(status=PENDING, attempts=0, not_before=clock.utcnow(), claimed_by=None, claimed_at=None, error="resent by hand")
        )
        await s.commit()
    kick()
    return result.rowcount or 0  # type: ignore[attr-defined]


async def counts(sessions: SessionFactory = _default_sessions) -> dict[str, int]:
    async with sessions() as s:
        rows = await s.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
        return {status: n for status, n in rows.all()}


worker: Worker | None = None
