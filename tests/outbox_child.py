"""A second (and third) bot process for tests/core/test_outbox_pacing.py: an outbox worker of its
own engine on the shared database, sending through a port that talks to the test's peer.

    python -m tests.outbox_child DATABASE_URL PEER_PORT NAME INTERVAL
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence


async def main(url: str, peer_port: int, name: str, interval: float) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import NullPool

    from bot.models import Outbox
    from bot.outbox import Worker
    from bot.platform import Part, Target

    engine = create_async_engine(url, poolclass=NullPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    reader, writer = await asyncio.open_connection("127.0.0.1", peer_port)

    async def ask(line: str) -> str:
        writer.write(f"{line}\n".encode())
        await writer.drain()
        return (await reader.readline()).decode().strip()

    class PeerPort:
        """Like the OneBot port: the call returns once the platform has the message."""

        bot_id = "10000"

        async def send(self, target: Target, parts: Sequence[Part], *, key: str | None = None) -> str:
            return await ask(f"send {name} {target.id}")

    assert await ask(f"hello {name}") == "go"  # both processes are ready: they compete from here
    worker = Worker(sessions=sessions, port_for=lambda _: PeerPort(), interval=interval, jitter=0, poll=0.2, worker_id=name)  # type: ignore[arg-type,return-value]
    worker.start("10000")
    try:
        while True:
            await asyncio.sleep(0.1)
            async with sessions() as s:
                left = await s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status.in_(["pending", "sending"])))
            if not left:
                break
    finally:
        await worker.stop()
        writer.close()
        await engine.dispose()


if __name__ == "__main__":
    import nonebot

    url, port, name, interval = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    nonebot.init(driver="~none", sqlalchemy_database_url=url)
    asyncio.run(main(url, port, name, interval))
