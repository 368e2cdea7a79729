"""Does `/月报` stall the bot? Ordinary group messages at a fixed rate, with and without cadres
asking for reports, on the busy month of bench/month.py (2,000 people, 20 groups, 5,000
concerns, 50,000 check-ins).

One fresh process boots the full bot in-process (as bench/dispatch.py and bench/reports.py do,
on a copy of a seeded SQLite database) and feeds group messages through NoneBot's
`handle_event` at `--rate` per second, each as its own task, on a fixed schedule. A message's
latency is from the moment it was due to the end of its handling, so time the event loop spent
on anything else (a report's queries, formatting, a CSV) counts against the messages waiting
behind it. Phases of `--seconds` alternate: quiet (messages only) and busy (the same messages
while two cadres, in private chat, ask `/月报 2026-11` in turn, the next request `--pause`
seconds after the previous answer (default 1 s: about one report a second, far more than
cadres ask; `--pause 0` asks back to back), with a `/导出` every 5th and one more concern
arriving in the month before every 4th (STALL_EXPORT_EVERY, STALL_CHANGE_EVERY), so reports
are both cached and rebuilt). The start-up ticks and the reports' warm-up are let finish and the scheduler is paused before the
phases (a tick's own cost would land in one phase or the other at random). One warm-up
report runs before the first phase (the first ever is built
off the loop as well; its cost is bench/reports.py's subject).

Prints p50/p99 per kind of phase; the last line is `ratio: X` = p99 busy / p99 quiet (goal ≤ 1.5).

    python bench/stall.py [--rate 100] [--seconds 10] [--rounds 2] [--pause 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import month  # noqa: E402
from bench import reports as bench_reports  # noqa: E402

CHAT = [
    "今天食堂的红烧肉不错", "下午三点开会，大家别忘了", "收到", "好的，谢谢科长", "明天降温，注意保暖",
    "谁有打印机的硒鼓？", "这个月的报表我已经交了", "周末加班的同事记得登记", "哈哈哈", "辛苦了！",
]


PEOPLE, GROUPS = month.people(), month.groups()
# Every how many reports one more concern arrives first / a /导出 is asked instead (0: never).
CHANGE_EVERY = int(os.environ.get("STALL_CHANGE_EVERY", "4"))
EXPORT_EVERY = int(os.environ.get("STALL_EXPORT_EVERY", "5"))


def group(text: str, n: int, rng: random.Random) -> dict:
    return {
        "time": 1_700_000_000 + n, "self_id": 10000, "post_type": "message", "message_type": "group",
        "sub_type": "normal", "message_id": 100_000 + n, "group_id": rng.choice(GROUPS),
        "user_id": rng.choice(PEOPLE), "font": 0, "raw_message": text,
        "message": [{"type": "text", "data": {"text": text}}],
        "sender": {"user_id": 30001, "nickname": "职工", "role": "member"},
    }


def watchdog(loop: asyncio.AbstractEventLoop, limit: float = float(os.environ.get("BENCH_SLOW_MS", "20")) / 1000) -> None:
    """Diagnosis (BENCH_SLOW=1): print the loop thread's stack whenever the loop has not come
    round for `limit` seconds, to stderr."""
    import threading
    import traceback

    beat = [time.perf_counter()]

    def tick() -> None:
        beat[0] = time.perf_counter()
        loop.call_later(0.002, tick)

    loop.call_soon(tick)
    main = threading.get_ident()

    def watch() -> None:
        while True:
            time.sleep(limit / 2)
            if time.perf_counter() - beat[0] > limit:
                frame = sys._current_frames().get(main)
                stack = "".join(traceback.format_stack(frame, limit=12)) if frame else "?"
                print(f"--- loop held {time.perf_counter() - beat[0]:.3f} s:\n{stack}", file=sys.stderr)
                time.sleep(limit)

    threading.Thread(target=watch, daemon=True).start()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


async def measure(rate: int, seconds: float, rounds: int, pause: float) -> dict:
    from nonebot.message import handle_event

    bot, adapter = await bench_reports.boot(False)
    if os.environ.get("BENCH_SLOW"):
        watchdog(asyncio.get_running_loop())
    rng = random.Random(12)
    n = 0

    def event(data: dict):  # type: ignore[no-untyped-def]
        return adapter.json_to_event(data)

    async def ask(text: str, cadre: int) -> float:
        nonlocal n
        n += 1
        start = time.perf_counter()
        await handle_event(bot, event(bench_reports.private(text, cadre, n)))
        return time.perf_counter() - start

    # The start-up ticks (escalation checks over 5,000 concerns, ...) finish first, then the
    # scheduler pauses: a tick landing in one phase and not the other is not what is compared.
    from nonebot_plugin_apscheduler import scheduler

    from bot import schedule

    await asyncio.sleep(2)  # the ticks' first run starts just after start-up
    for _ in range(1200):
        if not schedule._running:  # noqa: SLF001
            break
        await asyncio.sleep(0.1)
    scheduler.pause()
    # And the reports' warm-up, with its background preparation of this and last month.
    from plugins.reports import service

    for _ in range(600):
        if service.warm_task is not None and service.warm_task.done():
            break
        await asyncio.sleep(0.1)
    for i in range(300):  # warm-up: imports, caches
        await handle_event(bot, event(group(rng.choice(CHAT), i, rng)))
    await ask(f"/月报 {month.MONTH}", month.CADRES[0])

    async def messages() -> list[float]:
        latencies: list[float] = []
        tasks = []

        async def one(data: dict, due: float) -> None:
            await handle_event(bot, event(data))
            latencies.append(time.perf_counter() - due)

        t0 = time.perf_counter()
        for i in range(int(rate * seconds)):
            due = t0 + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(group(rng.choice(CHAT), 10_000 + i, rng), due)))
        await asyncio.gather(*tasks)
        return latencies

    asked: list[float] = []
    extra = 0

    async def cadres(stop: asyncio.Event) -> None:
        nonlocal extra
        k = 0
        while not stop.is_set():
            k += 1
            cadre = month.CADRES[k % len(month.CADRES)]
            if CHANGE_EVERY and k % CHANGE_EVERY == 0:
                extra += 1
                await month.add_concern(1000 + extra)  # the data changed: hot words and chart again
            asked.append(await ask(f"/导出 {month.MONTH}" if EXPORT_EVERY and k % EXPORT_EVERY == 0 else f"/月报 {month.MONTH}", cadre))
            await asyncio.sleep(pause)

    quiet: list[float] = []
    busy: list[float] = []
    for _ in range(rounds):
        quiet += await messages()
        stop = asyncio.Event()
        task = asyncio.create_task(cadres(stop))
        busy += await messages()
        stop.set()
        await task
    return {"quiet": quiet, "busy": busy, "reports": asked}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between one report's answer and the next request")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.rate, args.seconds, args.rounds, args.pause))))
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        month.write_org(tmp / "org.yaml")
        (tmp / "clock").write_text(month.NOW)
        seeded = tmp / "seeded.db"
        bench_reports.run_child("seed", tmp, seeded)
        db = tmp / "run.db"
        shutil.copy(seeded, db)
        out = bench_reports.run_child("measure", tmp, db, script=__file__,
                                      extra=["--rate", str(args.rate), "--seconds", str(args.seconds), "--rounds", str(args.rounds),
                                             "--pause", str(args.pause)])
    quiet, busy, asked = out["quiet"], out["busy"], out["reports"]
    for label, values in (("quiet (group messages only)", quiet), ("busy (same, cadres asking for reports)", busy)):
        print(f"{label}: {len(values)} messages, p50 {statistics.median(values) * 1000:.2f} ms, p99 {p99(values) * 1000:.2f} ms, "
              f"max {max(values) * 1000:.1f} ms")
    print(f"reports answered during the busy phases: {len(asked)}, median {statistics.median(asked) * 1000:.0f} ms each")
    print(f"ratio: {p99(busy) / p99(quiet):.2f}")


if __name__ == "__main__":
    main()
