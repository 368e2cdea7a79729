"""Start-up: time from launch to listening, and memory (RSS) then, for `python -m bot` and for
a bare NoneBot (the baseline, launched the same way in the same run).

    python bench/start.py [--rounds 3] [--rumours 0]

The bot runs on a fresh SQLite database in a temporary directory with the example org
(data/org.example.yaml). `--rumours N` seeds the moderation corpus with N confirmed rumours
first (synthetic, from bench/screening.py); the bot then also reports when its screening index
has finished loading in the background and the memory after that.

Last line: `ratio: X` = the bot's median time to listening / the bare NoneBot's (RSS ratio
printed beside it). Goals (issue 14): empty corpus: RSS <= 120 MiB, listening <= 3 s;
100,000 rumours: RSS <= 300 MB, listening <= 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import BotProcess  # noqa: E402

BARE = """
import nonebot
from nonebot.adapters.onebot.v11 import Adapter, MessageEvent
nonebot.init(driver="~fastapi+~aiohttp", log_level="WARNING")
nonebot.get_driver().register_adapter(Adapter)
m = nonebot.on_message()
@m.handle()
async def _(event: MessageEvent):
    pass
nonebot.run()
"""
LOADED = r"moderation: index loaded in [0-9.]+s"


def status_kib(pid: int | None, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _normalise():  # type: ignore[no-untyped-def]
    # The module alone: importing it through its package would start the plugin (needs NoneBot).
    spec = importlib.util.spec_from_file_location("_norm", ROOT / "plugins" / "moderation" / "normalise.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.normalise


def seed(env: dict[str, str], db: Path, rumours: int) -> None:
    """Migrate the database, then insert confirmed rumours as the plugin records them."""
    subprocess.run([sys.executable, "-m", "bot", "migrate", "upgrade"], cwd=ROOT, env=os.environ | env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not rumours:
        return
    from bench.screening import synthetic_rumour

    normalise = _normalise()
    with sqlite3.connect(db) as conn:
        rows = []
        for i in range(1, rumours + 1):
            text = synthetic_rumour(i)
            rows.append(("rumour", text, normalise(text), f"{i:040x}", None, None, "2026-12-01 00:00:00.000000", 1))
        conn.executemany(
            "INSERT INTO moderation_corpus (kind, text, norm, norm_hash, case_id, added_by, added_at, active) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows,
        )


async def start_once(env: dict[str, str], argv: list[str] | None, log_dir: Path, wait_index: bool) -> dict[str, float]:
    proc = BotProcess(env, argv=argv, log_dir=log_dir)
    t0 = time.monotonic()
    proc.start()
    try:
        await proc.wait_listening(timeout=120)
        out = {"listening": time.monotonic() - t0, "rss": status_kib(proc.pid, "VmRSS") / 1024}
        if wait_index:
            await proc.wait_output(LOADED, timeout=300)
            out["indexed"] = time.monotonic() - t0
            await asyncio.sleep(0.5)
            out["rss_indexed"] = status_kib(proc.pid, "VmRSS") / 1024
            out["peak"] = status_kib(proc.pid, "VmHWM") / 1024
        return out
    finally:
        await proc.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rumours", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        script = tmp / "bare.py"
        script.write_text(BARE)
        db = tmp / "start.db"
        env = {
            "LOG_LEVEL": "INFO",
            "LIANXIN_SECRET_KEY": "33" * 32,
            "SQLALCHEMY_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "LIANXIN_ORG": str(ROOT / "data" / "org.example.yaml"),
        }
        seed(env, db, args.rumours)
        runs: dict[str, list[dict[str, float]]] = {"bare": [], "bot": []}
        for _ in range(args.rounds):
            # Alternating, so load from elsewhere on the machine falls on both alike.
            runs["bare"].append(await start_once(env, [sys.executable, str(script)], tmp, False))
            runs["bot"].append(await start_once(env, None, tmp, args.rumours > 0))
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    for name, label in (("bare", "bare NoneBot"), ("bot", f"连心 bot ({args.rumours:,} rumours)")):
        m = med[name]
        line = f"{label}: listening after {m['listening']:.2f} s, RSS {m['rss']:.0f} MiB"
        if "indexed" in m:
            line += f"; index loaded after {m['indexed']:.2f} s, RSS then {m['rss_indexed']:.0f} MiB (peak {m['peak']:.0f})"
        print(line + f"  (median of {args.rounds})")
    print(f"RSS ratio: {med['bot']['rss'] / med['bare']['rss']:.2f}")
    print(f"ratio: {med['bot']['listening'] / med['bare']['listening']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
