"""How long `/月报` takes for a busy month (bench/month.py: 2,000 people, 20 groups, 5,000
concerns, 50,000 check-ins), against `/帮助` in the same run.

Each run is a fresh process (the bot booted in-process, as in bench/dispatch.py, on a copy of
one seeded SQLite database). First, per run, the first `/月报 2026-11` ever asked at once after
start (nothing stored yet, the worker process not started); then the first ever asked once
the background has prepared this and last month's reports (seconds after start). Then, on a copy of a database where that report
was asked once, a new process waits for the worker's warm-up after start (a few seconds, as a
cadre's first report comes well after start) and asks, as a cadre in private chat: `/帮助`,
then `/月报 2026-11` three times: cold (first in this process), warm (same data again), and
after one more concern arrived in the month (the data changed). Time is wall time from the event to the handler's end;
CPU is the bot process's plus its worker processes'. Three runs; medians are printed, the last
line is `ratio: X` = warm `/月报` / `/帮助`.

    python bench/reports.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import month  # noqa: E402 - after the path set-up above


def children_cpu() -> float:
    """CPU seconds of this process's live children (the report worker), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def cpu() -> float:
    return time.process_time() + children_cpu()


def private(text: str, user: int, n: int) -> dict:
    return {
        "time": 1_700_000_000 + n, "self_id": 10000, "post_type": "message", "message_type": "private",
        "sub_type": "friend", "message_id": 900_000 + n, "user_id": user, "font": 0, "raw_message": text,
        "message": [{"type": "text", "data": {"text": text}}], "sender": {"user_id": user, "nickname": "干部"},
    }


async def boot(seed: bool):  # type: ignore[no-untyped-def]
    import nonebot

    from bot import app, db

    app.boot(log_level="WARNING")
    await db._upgrade()
    if seed:
        await month.seed()
        return None
    driver = nonebot.get_driver()
    await driver._lifespan.startup()
    from nonebot.adapters.onebot.v11 import Adapter, Bot

    adapter = next(iter(driver._adapters.values()))

    class AnsweringBot(Bot):
        async def call_api(self, api: str, **data: object) -> object:
            if os.environ.get("BENCH_SHOW"):
                print(str(data.get("message"))[:3000], file=sys.stderr)
            return {"message_id": 1}

    return AnsweringBot(adapter, "10000"), Adapter


async def measure(mode: str = "measure") -> dict[str, list[float]]:
    from nonebot.message import handle_event

    started = time.perf_counter()
    bot, adapter = await boot(False)
    n = 0
    prepared = 0.0
    if mode != "prime":
        # As in production, the cadre's first report comes after the worker's warm-up and the
        # background preparation of this and last month's reports (seconds after start): wait
        # for them, bounded.
        from plugins.reports import service

        for _ in range(600):
            if service.warm_task is not None and service.warm_task.done():
                break
            await asyncio.sleep(0.1)
        prepared = time.perf_counter() - started

    async def ask(text: str) -> tuple[float, float]:
        nonlocal n
        n += 1
        event = adapter.json_to_event(private(text, month.CADRES[0], n))
        wall, used = time.perf_counter(), cpu()
        await handle_event(bot, event)
        return time.perf_counter() - wall, cpu() - used

    out: dict[str, list[float]] = {}
    if mode == "prime":  # the first report ever of the month, at once: nothing stored, the worker cold
        out["first"] = list(await ask(f"/月报 {month.MONTH}"))
        return out
    if mode == "ahead":  # the first ever asked, but after the background prepared it
        out["ahead"] = list(await ask(f"/月报 {month.MONTH}"))
        out["prepared"] = [prepared, 0.0]
        return out
    out["help"] = list(await ask("/帮助"))
    help_times = [(await ask("/帮助"))[0] for _ in range(20)]
    out["help"] = [statistics.median(help_times), out["help"][1]]
    out["cold"] = list(await ask(f"/月报 {month.MONTH}"))
    out["warm"] = list(await ask(f"/月报 {month.MONTH}"))
    await month.add_concern(1)
    out["changed"] = list(await ask(f"/月报 {month.MONTH}"))
    return out


def child(mode: str) -> None:
    if mode == "seed":
        asyncio.run(boot(True))
        return
    print(json.dumps(asyncio.run(measure(mode))))


def run_child(mode: str, tmp: Path, db: Path, script: str = __file__, extra: list[str] | None = None) -> dict:
    """`script --child mode` (or `script --child` plus `extra` for another benchmark) on `db`."""
    env = os.environ | {
        "SQLALCHEMY_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "LIANXIN_ORG": str(tmp / "org.yaml"),
        "LIANXIN_SECRET_KEY": "44" * 32,
        "LIANXIN_CLOCK_FILE": str(tmp / "clock"),
        "PYTHONPATH": str(ROOT),
    }
    argv = [sys.executable, script, "--child", mode] if extra is None else [sys.executable, script, "--child", *extra]
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{out.stderr[-3000:]}")
    if os.environ.get("BENCH_SHOW"):
        print(out.stderr)
    return {} if mode == "seed" else json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        month.write_org(tmp / "org.yaml")
        (tmp / "clock").write_text(month.NOW)
        seeded = tmp / "seeded.db"
        run_child("seed", tmp, seeded)
        firsts = []
        for i in range(args.runs):
            db = tmp / f"first{i}.db"
            shutil.copy(seeded, db)
            firsts.append(run_child("prime", tmp, db)["first"])
        aheads = []
        for i in range(args.runs):
            db = tmp / f"ahead{i}.db"
            shutil.copy(seeded, db)
            aheads.append(run_child("ahead", tmp, db))
        runs = []
        for i in range(args.runs):
            db = tmp / f"run{i}.db"
            shutil.copy(tmp / "first0.db", db)  # the month's report was asked once before
            runs.append(run_child("measure", tmp, db))
    walls = ", ".join(f"{f[0] * 1000:.0f}" for f in firsts)
    print(f"/月报 first ever (nothing stored, worker cold): median {statistics.median(f[0] for f in firsts) * 1000:.0f} ms wall ({walls}), "
          f"CPU {statistics.median(f[1] for f in firsts) * 1000:.0f} ms")
    walls = ", ".join(f"{a['ahead'][0] * 1000:.0f}" for a in aheads)
    print(f"/月报 first ever, after the background prepared it ({statistics.median(a['prepared'][0] for a in aheads):.1f} s after start): "
          f"median {statistics.median(a['ahead'][0] for a in aheads) * 1000:.0f} ms wall ({walls}), "
          f"CPU {statistics.median(a['ahead'][1] for a in aheads) * 1000:.0f} ms")
    names = {"help": "/帮助", "cold": "/月报 cold (new process, asked before)", "warm": "/月报 warm (same data)",
             "changed": "/月报 warm, one new concern"}
    median = {k: (statistics.median(r[k][0] for r in runs), statistics.median(r[k][1] for r in runs)) for k in names}
    for k, label in names.items():
        walls = ", ".join(f"{r[k][0] * 1000:.0f}" for r in runs)
        print(f"{label}: median {median[k][0] * 1000:.0f} ms wall ({walls}), CPU {median[k][1] * 1000:.0f} ms")
    print(f"ratio: {median['warm'][0] / median['help'][0]:.1f}")


if __name__ == "__main__":
    main()
