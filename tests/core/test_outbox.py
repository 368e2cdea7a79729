"""The outbox ledger: exactly once across workers and restarts; unknown is never resent."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from bot import clock
from bot.outbox import Item, Worker, enqueue
from bot.platform import SendFailed, SendUnknown, Target, Text
from tests.fakes import RecordingPort, queued


def items(n: int, text: str = "学习材料") -> list[Item]:
    return [Item(Target.group(50000 + i), [Text(f"{text} {i}")]) for i in range(n)]


def worker(db, log, fail=None, keys=None, **kw) -> Worker:  # type: ignore[no-untyped-def]
    return Worker(sessions=db, port_for=lambda b: RecordingPort(b, log=log, keys=keys, send_error=fail, pause=0.001), interval=0, jitter=0, **kw)


async def test_enqueue_is_idempotent_per_purpose_period_target(db) -> None:  # type: ignore[no-untyped-def]
    assert await enqueue("study", "2026-12", items(3), sessions=db) == 3
    assert await enqueue("study", "2026-12", items(3), sessions=db) == 0
    assert await enqueue("study", "2027-01", items(1), sessions=db) == 1
    assert len(await queued(db)) == 4


async def test_worker_sends_each_row_once_and_records_it(db) -> None:  # type: ignore[no-untyped-def]
    log: list = []
    await enqueue("study", "2026-12", items(5), sessions=db)
    keys: list = []
    w = worker(db, log, keys=keys)
    assert await w.drain("10000") == 5
    assert await w.drain("10000") == 0
    assert sorted(t for _, t, _ in log) == [str(50000 + i) for i in range(5)]
    done = await queued(db)
    assert {r.status for r in done} == {"sent"}
    # Each row is sent with its own idempotency key (a platform that can delivers a repeat once).
    assert sorted(keys) == sorted((r.target_id, f"outbox:{r.id}") for r in done)
    assert all(r.bot_id == "10000" and r.message_id and r.sent_at for r in done)


async def test_timed_out_send_is_unknown_and_not_resent(db) -> None:  # type: ignore[no-untyped-def]
    log: list = []
    await enqueue("notice", "x", items(1), sessions=db)
    assert await worker(db, log, SendUnknown("timeout")).drain("10000") == 1
    assert await worker(db, log).drain("10000") == 0
    assert log == []
    assert (await queued(db))[0].status == "unknown"


async def test_refused_send_is_retried_later_then_failed(db) -> None:  # type: ignore[no-untyped-def]
    log: list = []
    await enqueue("notice", "x", items(1), sessions=db)
    refusing = worker(db, log, SendFailed("retcode 1200"), max_attempts=2)
    assert await refusing.drain("10000") == 1
    row = (await queued(db))[0]
    assert row.status == "pending" and row.not_before > clock.utcnow()
    assert await refusing.drain("10000") == 0  # backing off
    clock.set_now(clock.now() + timedelta(minutes=5))
    try:
        assert await refusing.drain("10000") == 1
    finally:
        clock.set_now(None)
    assert (await queued(db))[0].status == "failed"


async def test_rows_for_another_account_are_left_to_it(db) -> None:  # type: ignore[no-untyped-def]
    log: list = []
    await enqueue("notice", "x", items(2), bot_id="20000", sessions=db)
    assert await worker(db, log).drain("10000") == 0
    assert await worker(db, log).drain("20000") == 2


async def test_stale_sending_row_becomes_unknown(db) -> None:  # type: ignore[no-untyped-def]
    log: list = []
    await enqueue("notice", "x", items(1), sessions=db)
    dead = worker(db, log)
    assert await dead.claim("10000") is not None  # the process dies here, mid-send
    clock.set_now(clock.now() + timedelta(minutes=10))
    try:
        assert await worker(db, log).sweep() == 1
        assert await worker(db, log).drain("10000") == 0
    finally:
        clock.set_now(None)
    assert (await queued(db))[0].status == "unknown" and log == []


async def test_restart_resumes_where_it_stopped(db) -> None:  # type: ignore[no-untyped-def]
    log: list = []
    await enqueue("study", "2026-12", items(12), sessions=db)
    first = worker(db, log)
    for _ in range(5):
        await first.step("10000")
    # "Restart": the schedule fires again and a new worker takes over.
    assert await enqueue("study", "2026-12", items(12), sessions=db) == 0
    await worker(db, log).drain("10000")
    assert Counter(t for _, t, _ in log) == Counter(str(50000 + i) for i in range(12))


async def test_two_processes_on_one_database_never_double_send(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two workers with their own engines (as two processes would have) share one ledger."""
    url = db.kw["bind"].url.render_as_string(hide_password=False)
    other_engine = create_async_engine(url, poolclass=NullPool)
    other = async_sessionmaker(other_engine, expire_on_commit=False)
    log: list = []
    try:
        await enqueue("study", "2026-12", items(60), sessions=db)
        # Each process also re-enqueues the same broadcast, as a schedule firing in both would.
        await asyncio.gather(
            enqueue("study", "2026-12", items(60), sessions=db), enqueue("study", "2026-12", items(60), sessions=other)
        )
        a, b = worker(db, log, worker_id="A"), worker(other, log, worker_id="B")
        await asyncio.gather(a.drain("10000"), b.drain("10000"), a.drain("10000"), b.drain("10000"))
    finally:
        await other_engine.dispose()
    sent = Counter(t for _, t, _ in log)
    assert len(sent) == 60 and set(sent.values()) == {1}, sent.most_common(3)
    claimed_by = Counter(r.claimed_by for r in await queued(db))
    assert sum(claimed_by.values()) == 60
