"""Load over a real WebSocket: the test OneBot peer drives the running bot at a fixed rate.

Default: 200 ordinary group messages/s spread over 100 groups, plus 5 `/帮助` commands/s in
private chat, for 60 s on loopback; bounded and self-stopping. The same load is first run
against a bare NoneBot (one on_message matcher answering /帮助) as the baseline.

Prints, for each: messages sent, throughput, p50/p99 latency of command replies, dropped
events (for the bot: messages sent minus messages the bot counted, via /状态; must be 0),
and the process's memory (RSS) before and after. Last line: `ratio: X`, the bot's command
p50 latency over the baseline's (lower is better; 1.0 means no slower than bare NoneBot).

    python bench/load.py [--seconds 60] [--rate 200] [--commands 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import BotProcess  # noqa: E402
from tests.onebot_peer import OneBotPeer  # noqa: E402

BARE = '''
import os, nonebot
from nonebot.adapters.onebot.v11 import Adapter, MessageEvent, MessageSegment
nonebot.init(driver="~fastapi+~aiohttp", log_level="WARNING")
nonebot.get_driver().register_adapter(Adapter)
m = nonebot.on_message()
@m.handle()
async def _(event: MessageEvent):
    if event.get_plaintext().startswith("/帮助"):
        await m.send(MessageSegment.text("帮助"))
nonebot.run()
'''


def rss_kib(pid: int | None) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def drive(proc: BotProcess, seconds: float, rate: int, commands: int, *, count_handled: bool) -> dict:
    async with OneBotPeer() as peer:
        await peer.connect_reverse(proc.ws_url)
        await asyncio.sleep(1.0)
        rss_before = rss_kib(proc.pid)
        sent = 0
        latencies: list[float] = []
        pending: list[asyncio.Task] = []

        async def command(i: int) -> None:
            mark = peer.mark()
            start = time.perf_counter()
            await peer.private_message(30001, "/帮助")
            await peer.wait_call("send_msg", where=lambda c: c.target == ("private", 30001), since=mark, timeout=30)
            latencies.append(time.perf_counter() - start)

        step = 0.05  # send in small batches every 50 ms
        per_step = rate * step
        cmd_every = max(1, int(round(1 / (commands * step)))) if commands else 0
        t0 = time.perf_counter()
        carry = 0.0
        i = 0
        while time.perf_counter() - t0 < seconds:
            carry += per_step
            while carry >= 1:
                await peer.group_message(50000 + sent % 100, 30001 + sent % 7, f"今天的工作安排第{sent}条，收到请回复")
                sent += 1
                carry -= 1
            if cmd_every and i % cmd_every == 0:
                pending.append(asyncio.create_task(command(i)))
                sent += 1
            i += 1
            target = t0 + i * step
            await asyncio.sleep(max(0.0, target - time.perf_counter()))
        elapsed = time.perf_counter() - t0
        await asyncio.gather(*pending, return_exceptions=True)
        dropped = None
        if count_handled:
            mark = peer.mark()
            await peer.private_message(10001, "/状态")
            call = await peer.wait_call("send_msg", since=mark, timeout=30)
            m = re.search(r"收到消息：(\d+) 条", call.text)
            handled = int(m.group(1)) - 1 if m else -1  # minus the /状态 itself
            dropped = sent - handled
        return {
            "sent": sent,
            "throughput": sent / elapsed,
            "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
            "p99": (sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000) if latencies else float("nan"),
            "replies": len(latencies),
            "dropped": dropped,
            "rss_before": rss_before,
            "rss_after": rss_kib(proc.pid),
        }


def show(name: str, r: dict) -> None:
    dropped = "n/a" if r["dropped"] is None else r["dropped"]
    print(
        f"{name}: sent {r['sent']} at {r['throughput']:.0f}/s, command replies {r['replies']}, "
        f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, dropped {dropped}, "
        f"RSS {r['rss_before'] / 1024:.0f} → {r['rss_after'] / 1024:.0f} MiB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--commands", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bare.py"
        script.write_text(BARE)
        env = {"LOG_LEVEL": "WARNING", "LIANXIN_SECRET_KEY": "33" * 32,
               "SQLALCHEMY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/load.db",
               "LIANXIN_ORG": str(ROOT / "tests" / "data" / "org.yaml")}
        async with BotProcess(env, argv=[sys.executable, str(script)], log_dir=tmp) as bare:
            base = await drive(bare, args.seconds, args.rate, args.commands, count_handled=False)
        async with BotProcess(env, log_dir=tmp) as bot:
            full = await drive(bot, args.seconds, args.rate, args.commands, count_handled=True)
    show("bare NoneBot", base)
    show("连心 bot    ", full)
    print(f"ratio: {full['p50'] / base['p50']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
