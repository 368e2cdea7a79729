"""The screening index at start-up: loaded in the background while the bot already listens,
with nothing lost meanwhile; and a lean start (no heavy library imported with the plugins)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from plugins.moderation.index import index
from plugins.moderation.models import ModerationCase
from plugins.moderation.screening import Screener
from tests.helpers import group_event
from tests.fakes import RecordingPort
from tests.plugins.moderation.test_moderation import FORWARDED, GMOD, MOD, OTHER, RUMOUR, WORKER2, confirm_by_service, msg, rows

ROOT = Path(__file__).resolve().parents[3]


class HeldLoad:
    """Screener.load (the worker-thread part of loading) held until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        original = Screener.load

        def held(screener: Screener, *args: Any) -> None:
            self.entered.set()
            assert self.release.wait(30), "the test never released the load"
            original(screener, *args)

        monkeypatch.setattr(Screener, "load", held)

    async def reached(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30)


@pytest.fixture
def restart(org_moderation: Any) -> Iterator[None]:
    """The moderation org (group 40003 recalls and clarifies); the index starts empty."""
    index.reset()
    yield
    index.reset()


@pytest.fixture
def org_moderation() -> Iterator[Any]:
    from bot import runtime
    from bot.org import load_org
    from tests.plugins.moderation.test_moderation import ORG_FILE

    old = runtime.org()
    runtime.set_org(load_org(ORG_FILE))
    yield runtime.org()
    runtime.set_org(old)


async def test_a_message_arriving_while_the_index_loads_is_screened_once_it_is_ready(  # type: ignore[no-untyped-def]
    app: App, db, restart, monkeypatch: pytest.MonkeyPatch
) -> None:
    await confirm_by_service(RecordingPort(), RUMOUR)
    [case] = await rows(db, ModerationCase)
    index.reset()  # a restart: the index is read from the database again
    held = HeldLoad(monkeypatch)
    index.start()  # as at start-up; the bot listens meanwhile
    await held.reached()
    assert index.screener is None

    arrived_while_loading: list[bool] = []
    get = index.get

    async def get_then_release() -> Screener | None:
        arrived_while_loading.append(index.screener is None)
        held.release.set()  # the load finishes while this message waits for it
        return await get()

    monkeypatch.setattr(index, "get", get_then_release)
    notice = "\n".join([
        "【自动发现】案件 #2", "群：青年职工群（40003）", "发言人：周六（30002）", f"内容：{FORWARDED}",
        "原因：与已确认的谣言（案件 #1）高度相似", "处理：已按本群规则撤回",
        "确认违规请发送 /确认 2 [说明]，不属于违规请发送 /驳回 2。",
    ])
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        copy = group_event(40003, WORKER2, FORWARDED)
        ctx.receive_event(bot, copy)
        ctx.should_call_api("delete_msg", {"message_id": copy.message_id}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40003, "message": msg(case.clarification)}, result={"message_id": 1})
        ctx.should_call_api("send_private_msg", {"user_id": GMOD, "group_id": 40002, "message": msg(notice)}, result={"message_id": 2})
        ctx.should_call_api("send_private_msg", {"user_id": MOD, "group_id": 40001, "message": msg(notice)}, result={"message_id": 3})
    assert arrived_while_loading == [True]
    assert [(c.id, c.group_id, c.source, c.match_case_id) for c in await rows(db, ModerationCase)] == [
        (1, "40001", "flag", None), (2, "40003", "screen", 1),
    ]


async def test_decisions_made_while_the_index_loads_are_not_lost(db, restart, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    first = await confirm_by_service(RecordingPort(), RUMOUR)
    index.reset()
    held = HeldLoad(monkeypatch)
    index.start()
    await held.reached()  # the corpus has been read: what follows is not in it
    second = await confirm_by_service(RecordingPort(), OTHER)
    held.release.set()
    screener = await index.get()
    assert screener is not None
    for text, case in ((FORWARDED, first), ("转发：" + OTHER, second)):
        hit = screener.screen(text, "40001")
        assert hit is not None and hit.key is not None and index.case_of.get(hit.key) == case


async def test_a_failed_load_is_retried_and_screening_goes_on(db, restart, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    await confirm_by_service(RecordingPort(), RUMOUR)
    index.reset()

    def broken(screener: Screener, *args: Any) -> None:
        raise OSError("disk")

    with monkeypatch.context() as m:
        m.setattr(Screener, "load", broken)
        index.start()
        assert await index.get() is None  # waited for the load, which failed: logged, not raised
    index._retry_at = 0.0  # noqa: SLF001 - the retry is due
    screener = await index.get()
    assert screener is not None and screener.screen(FORWARDED, "40001") is not None


HEAVY = ["matplotlib", "jieba", "jieba.analyse", "scipy", "datasketch", "numpy", "openpyxl", "pandas", "pkg_resources", "pygments"]


def test_loading_the_plugins_imports_no_heavy_library(tmp_path: Path) -> None:
    """Reports' charts and hot words, the screening index's numpy and the like are imported
    when first needed, not at start-up (each costs memory for as long as the bot runs)."""
    code = (
        "import json, sys\n"
        "from bot import app\n"
        "app.boot(log_level='WARNING')\n"
        "import nonebot\n"
        "print(json.dumps(sorted(p.name for p in nonebot.get_loaded_plugins())))\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    env = os.environ | {
        "LIANXIN_ORG": str(ROOT / "data" / "org.example.yaml"),
        "LIANXIN_SECRET_KEY": "33" * 32,
        "SQLALCHEMY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'lean.db'}",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    # Every plugin loaded as a plugin (one that imports another's modules must require it).
    assert "Failed to import" not in done.stdout + done.stderr, (done.stdout + done.stderr)[-2000:]
    plugins = set(json.loads(done.stdout.strip().splitlines()[-2]))
    assert {"admin", "care", "concerns", "console", "moderation", "reports", "study"} <= plugins, plugins


async def test_compacting_in_a_worker_thread_keeps_screening_the_same(db, restart) -> None:  # type: ignore[no-untyped-def]
    """Decisions after start-up are merged into the sorted arrays off the loop (the minute
    tick, once enough have accumulated); what is found stays the same."""
    first = await confirm_by_service(RecordingPort(), RUMOUR)
    screener = await index.get()
    assert screener is not None
    second = await confirm_by_service(RecordingPort(), OTHER)
    corpus = screener.corpus
    assert corpus.recent_keys  # the second decision is in the small dicts
    await index.compact(force=True)
    assert not corpus.recent_keys and not corpus.bands.recent
    for text, case in ((FORWARDED, first), ("转发：" + OTHER, second)):
        hit = screener.screen(text, "40001")
        assert hit is not None and hit.key is not None and index.case_of.get(hit.key) == case
