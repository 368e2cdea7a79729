"""Group messages per second through NoneBot's dispatch: the whole bot vs a bare NoneBot.

Both run in subprocesses of this run, one after the other and again (`--pairs`, each kind's
best rate kept), so a load that comes and goes on a shared machine hits both alike; each
feeds the same events through `nonebot.message.handle_event` with a OneBot v11 bot whose API
answers at once: ordinary group messages, group commands and private messages. It prints a
rate and a ratio for each kind; the last line is `ratio: X` for ordinary group messages, the
full bot's rate divided by the bare one's (one `on_message` matcher with an empty handler).
A third run, a bare NoneBot with the bot's log handler (bot/logs.py), shows what the bot's own
work costs once NoneBot's logging costs both the same.

    python bench/dispatch.py [--messages 4000] [--rounds 3] [--pairs 2] [--kinds group,command,private]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAT = [
    "今天食堂的红烧肉不错", "下午三点开会，大家别忘了", "收到", "好的，谢谢科长", "明天降温，注意保暖",
    "谁有打印机的硒鼓？", "这个月的报表我已经交了", "周末加班的同事记得登记", "哈哈哈", "辛苦了！",
    "质量抽检的样品到了，放在二楼", "请大家把培训心得发到邮箱", "路上堵车，晚到十分钟",
]


COMMANDS = ["/帮助", "/积分", "/学习", "/排行"]


def make_events(n: int, kind: str = "group") -> list[dict]:
    """`group`: ordinary group chat; `command`: group commands; `private`: private chat."""
    rng = random.Random(5)
    events = []
    for i in range(n):
        text = rng.choice(COMMANDS if kind == "command" else CHAT)
        event = {
            "time": 1_700_000_000 + i, "self_id": 10000, "post_type": "message", "message_type": "group",
            "sub_type": "normal", "message_id": 10_000 + i, "group_id": rng.choice([40001, 40002, 40003]),
            "user_id": 30001 + rng.randrange(8), "font": 0, "raw_message": text,
            "message": [{"type": "text", "data": {"text": text}}],
            "sender": {"user_id": 30001, "nickname": "职工", "role": "member"},
        }
        if kind == "private":
            event |= {"message_type": "private", "sub_type": "friend"}
            del event["group_id"]
        events.append(event)
    return events


async def _seed_rumours() -> None:
    """A realistic corpus: 500 confirmed rumours in the database, before start-up builds the
    moderation plugin's screening index from it."""
    import hashlib

    from bot import clock
    from bot.db import session
    from plugins.moderation.models import ModerationCorpus
    from plugins.moderation.normalise import normalise

    rng = random.Random(7)
    words = "工资 奖金 改革 合并 裁员 通知 领导 食堂 补贴 考核 岗位 调整 文件 下月 全体 取消 暂停 内部 消息 据说".split()
    async with session() as s:
        for i in range(500):
            text = "听说" + "".join(rng.choice(words) for _ in range(12)) + f"第{i}条"
            norm = normalise(text)
            s.add(ModerationCorpus(
                kind="rumour", text=text, norm=norm, norm_hash=hashlib.sha1(norm.encode()).hexdigest(),
                added_at=clock.utcnow(), active=True,
            ))
        await s.commit()


async def measure(variant: str, messages: int, rounds: int, kinds: list[str]) -> dict[str, float]:
    import nonebot

    full = variant == "full"
    if full:
        from bot import app

        from bot import db

        app.boot(log_level="WARNING")
        await db._upgrade()  # noqa: SLF001 - real tables, so start-up hooks (the screening index) load as in production
    else:
        nonebot.init(driver="~fastapi+~aiohttp", log_level="WARNING")
        if variant == "bare-log":
            from bot import logs

            logs.install("WARNING")  # the bot's log handler: DEBUG calls dropped before a record is built
        from nonebot.adapters.onebot.v11 import Adapter

        nonebot.get_driver().register_adapter(Adapter)
        matcher = nonebot.on_message()

        @matcher.handle()
        async def _() -> None:
            pass

    from nonebot.adapters.onebot.v11 import Adapter, Bot
    from nonebot.message import handle_event

    driver = nonebot.get_driver()
    if full:
        await _seed_rumours()
    await driver._lifespan.startup()  # noqa: SLF001 - run start-up hooks without serving
    adapter = next(iter(driver._adapters.values())) if driver._adapters else Adapter(driver)  # noqa: SLF001

    class AnsweringBot(Bot):
        """Replies cost what the adapter does up to the wire; the platform answers at once."""

        async def call_api(self, api: str, **data: object) -> object:
            return {"message_id": 1}

    bot = AnsweringBot(adapter, "10000")
    rates: dict[str, float] = {}
    for kind in kinds:
        events = [Adapter.json_to_event(e) for e in make_events(messages if kind == "group" else messages // 4, kind)]
        for ev in events[:300]:  # warm-up: imports, caches, jieba dictionaries
            await handle_event(bot, ev)
        best = best_cpu = 0.0
        for _ in range(rounds):
            start, cpu = time.perf_counter(), time.process_time()
            for ev in events:
                await handle_event(bot, ev)
            best = max(best, len(events) / (time.perf_counter() - start))
            best_cpu = max(best_cpu, len(events) / max(time.process_time() - cpu, 1e-9))
        rates[kind] = best
        # Per CPU second of this process (its threads included): what other processes on a
        # shared machine take from it matters less.
        rates[f"{kind}_cpu"] = best_cpu
    await driver._lifespan.shutdown()  # noqa: SLF001
    return rates


def child(kind: str, messages: int, rounds: int, kinds: list[str]) -> None:
    rates = asyncio.run(measure(kind, messages, rounds, kinds))
    print(json.dumps(rates))


def run_child(kind: str, messages: int, rounds: int, kinds: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {
            "SQLALCHEMY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
            "LIANXIN_ORG": os.environ.get("LIANXIN_ORG", str(ROOT / "data" / "org.example.yaml")),
            "LIANXIN_SECRET_KEY": "22" * 32,
            "PYTHONPATH": str(ROOT),
        }
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--messages", str(messages), "--rounds", str(rounds), "--kinds", ",".join(kinds)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{out.stderr[-3000:]}")
    return {k: float(v) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=2, help="bare and full runs, alternating")
    parser.add_argument("--kinds", default="group,command,private", help="which kinds to measure (the last line needs group)")
    parser.add_argument("--child")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    if args.child:
        child(args.child, args.messages, args.rounds, kinds)
        return
    bare: dict[str, float] = {}
    bare_log: dict[str, float] = {}
    full: dict[str, float] = {}
    for _ in range(args.pairs):
        for best, kind in ((bare, "bare"), (bare_log, "bare-log"), (full, "full")):
            for k, rate in run_child(kind, args.messages, args.rounds, kinds).items():
                best[k] = max(best.get(k, 0.0), rate)
    names = {"group": "ordinary group messages", "command": "group commands (/帮助 /积分 /学习 /排行)", "private": "private chat (hint reply)"}
    for kind in kinds:
        cpu = f"{kind}_cpu"
        print(
            f"{names[kind]}: bare NoneBot {bare[kind]:,.0f}/s, 连心 {full[kind]:,.0f}/s, ratio {full[kind] / bare[kind]:.2f}"
            f" (per CPU second: {bare[cpu]:,.0f} vs {full[cpu]:,.0f}, ratio {full[cpu] / bare[cpu]:.2f})"
        )
    for kind in kinds:
        cpu = f"{kind}_cpu"
        print(
            f"{names[kind]}, against a bare NoneBot with the bot's log handler ({bare_log[kind]:,.0f}/s,"
            f" {bare_log[cpu]:,.0f} per CPU second): ratio {full[kind] / bare_log[kind]:.2f}, per CPU second {full[cpu] / bare_log[cpu]:.2f}"
        )
    if "group" in kinds:
        print(f"ratio: {full['group'] / bare['group']:.2f}")


if __name__ == "__main__":
    main()
