"""Shutdown: start `python -m bot` (SQLite, a 2,000-person org) and send SIGINT or SIGTERM at
several moments during and after start-up; print how long each stop took and how many hung.

    python bench/shutdown.py [--rounds 2]

Last line: `hung: N of M; slowest stop X s` (goal: none hung, every stop within a few seconds).
The baseline is the same stop of a bare NoneBot measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BARE = """
import nonebot
nonebot.init(driver="~fastapi")
nonebot.run()
"""


def big_org(path: Path) -> Path:
    org = yaml.safe_load((ROOT / "data" / "org.example.yaml").read_text(encoding="utf-8"))
    departments = [d["id"] for d in org["departments"]]
    for i in range(2000):
        org["people"].append(
            {"qq": 50000 + i, "name": f"职工{i}", "department": departments[i % len(departments)],
             "roles": ["worker"], "birthday": f"19{70 + i % 30}-{1 + i % 12:02d}-{1 + i % 28:02d}"}
        )
    out = path / "org2000.yaml"
    out.write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_once(argv: list[str], env: dict[str, str], sig: signal.Signals, delay: float, log: Path) -> float | None:
    with log.open("w") as out:
        p = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            # A background job of a non-interactive shell ignores SIGINT; Python then keeps ignoring it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        time.sleep(delay)
        t0 = time.monotonic()
        p.send_signal(sig)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None
        return time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    delays = [1.0, 2.0, 3.0, 3.5, 4.0, 5.0, 7.0]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        org = big_org(tmp)
        results: dict[str, list[float | None]] = {"bare": [], "bot": []}
        n = 0
        for _ in range(args.rounds):
            for sig in (signal.SIGINT, signal.SIGTERM):
                for delay in delays:
                    n += 1
                    base = os.environ | {"PORT": str(free_port()), "LOG_LEVEL": "INFO"}
                    results["bare"].append(stop_once([sys.executable, "-c", BARE], base, sig, delay, tmp / f"bare{n}.log"))
                    env = base | {
                        "PORT": str(free_port()),
                        "SQLALCHEMY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / f'bot{n}.db'}",
                        "LIANXIN_ORG": str(org),
                        "LIANXIN_SECRET_KEY": "11" * 32,
                    }
                    took = stop_once([sys.executable, "-m", "bot"], env, sig, delay, tmp / f"bot{n}.log")
                    results["bot"].append(took)
                    print(f"{sig.name} after {delay:.1f} s: " + (f"stopped in {took:.2f} s" if took is not None else "HUNG"), flush=True)
        for name, times in results.items():
            done = [t for t in times if t is not None]
            hung = len(times) - len(done)
            print(f"{name}: hung: {hung} of {len(times)}; slowest stop {max(done, default=0):.2f} s")


if __name__ == "__main__":
    main()
