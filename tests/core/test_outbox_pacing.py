"""Pacing per bot account, not per process: two processes holding one account send its
outbox rows one interval apart between them, as the platform's peer receives them."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from sqlalchemy import select

from bot.models import Outbox, OutboxPace
from bot.outbox import Item, Worker, enqueue
from bot.platform import Target, Text

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = 0.4
ROWS = 8


class Peer:
    """Stands in for the platform: answers each send with a message id and notes when it
    arrived, by its own clock."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.ready: list[asyncio.StreamWriter] = []
        self.arrivals: list[tuple[float, str, str]] = []  # (monotonic time, process, target)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := (await reader.readline()).decode().split():
            if line[0] == "hello":
                self.ready.append(writer)
                if len(self.ready) == self.processes:
                    for w in self.ready:
                        w.write(b"go\n")
            else:
                self.arrivals.append((time.monotonic(), line[1], line[2]))
                writer.write(f"{len(self.arrivals)}\n".encode())
            await writer.drain()


async def test_two_processes_holding_one_account_keep_its_spacing(db) -> None:  # type: ignore[no-untyped-def]
    await enqueue("study", "2026-12", [Item(Target.group(50000 + i), [Text(f"材料 {i}")]) for i in range(ROWS)], sessions=db)
    peer = Peer(processes=2)
    server = await asyncio.start_server(peer.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = db.kw["bind"].url.render_as_string(hide_password=False)
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.outbox_child", url, str(port), name, str(INTERVAL),
            cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
        )
        for name in ("A", "B")
    ]
    try:
        outputs = [await asyncio.wait_for(c.communicate(), 120) for c in children]
    finally:
        for c in children:
            if c.returncode is None:
                c.kill()
        server.close()
    for c, (_, err) in zip(children, outputs, strict=True):
        assert c.returncode == 0, err.decode()[-3000:]
    targets = sorted(t for _, _, t in peer.arrivals)
    assert targets == sorted(str(50000 + i) for i in range(ROWS))  # each row once
    assert {p for _, p, _ in peer.arrivals} == {"A", "B"}  # both processes sent
    times = sorted(t for t, _, _ in peer.arrivals)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= INTERVAL, [round(g, 3) for g in gaps]
    async with db() as s:
        assert {r.status for r in (await s.scalars(select(Outbox))).all()} == {"sent"}


async def test_a_slot_held_by_a_process_that_died_is_taken_after_its_lease(db) -> None:  # type: ignore[no-untyped-def]
    dead = Worker(sessions=db, interval=INTERVAL, jitter=0, pace_lease=0.3, worker_id="dead")
    await dead.take_slot("10000")  # and never gives it back
    alive = Worker(sessions=db, interval=INTERVAL, jitter=0, pace_lease=0.3, worker_id="alive")
    await asyncio.wait_for(alive.take_slot("10000"), 10)
    async with db() as s:
        assert (await s.get(OutboxPace, "10000")).holder == "alive"  # type: ignore[union-attr]


async def test_a_worker_stopped_while_waiting_for_its_slot_leaves_the_row_pending(db) -> None:  # type: ignore[no-untyped-def]
    """The connection drops while the row waits for the account's slot: nothing was sent, so
    the row goes back to pending (not "sending", which would end as "unknown")."""
    await enqueue("study", "2026-12", [Item(Target.group(50000), [Text("材料")])], sessions=db)
    other = Worker(sessions=db, interval=INTERVAL, jitter=0, worker_id="other")
    await other.take_slot("10000")  # mid-send in another process
    waiting = Worker(sessions=db, port_for=lambda _: None, interval=INTERVAL, jitter=0, worker_id="waiting")  # type: ignore[arg-type,return-value]
    step = asyncio.ensure_future(waiting.step("10000"))
    while True:  # until it has claimed the row and waits for the slot
        await asyncio.sleep(0.05)
        async with db() as s:
            if (await s.scalar(select(Outbox.status))) == "sending":
                break
    step.cancel()
    await asyncio.gather(step, return_exceptions=True)
    async with db() as s:
        row = await s.scalar(select(Outbox))
        assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)  # type: ignore[union-attr]
        assert (await s.get(OutboxPace, "10000")).holder == "other"  # type: ignore[union-attr]
