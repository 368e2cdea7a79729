"""/重发 and /状态 read what cadres type, and the ids they show, without tripping on odd digits."""

from __future__ import annotations

import pytest
from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from bot import platform, runtime
from bot.platform import Target
from plugins.admin import data_source
from tests.helpers import private_event, text

CADRE = 20002


@pytest.fixture(autouse=True)
def _no_unreadable_events(monkeypatch: pytest.MonkeyPatch) -> None:
    # The count is process-wide (since start-up): an earlier test's unreadable event would
    # otherwise add a line to /状态 here.
    monkeypatch.setattr(platform, "unreadable_count", 0)


def test_where_to_names_known_places_and_shows_odd_ids_as_they_are() -> None:
    org = runtime.org()
    assert data_source.where_to(org, Target.group(40001)) == "质量科职工群"
    assert data_source.where_to(org, Target.private(30001)) == "私聊 张三"
    # int("²") raised inside /状态: an id that is no number is shown, not parsed.
    assert data_source.where_to(org, Target.group("²")) == "群 ²"
    assert data_source.where_to(org, Target.private("٣")) == "私聊 ٣"


async def test_resend_with_only_invisible_characters_is_the_plain_command(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        event = private_event(CADRE, "/重发 \u200b\ufeff")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text("没有结果未知、可以重发的消息。"), result={"message_id": 1})


async def test_status_says_in_plain_words_what_is_connected_waiting_failed_and_what_to_do(db) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from sqlalchemy import update

    from bot import clock, stats
    from bot.models import Outbox
    from bot.outbox import Item, enqueue
    from bot.platform import Text

    clock.set_now(datetime(2026, 12, 3, 10, 0, tzinfo=clock.zone()))
    try:
        await enqueue("study", "2026-12/x", [Item(Target.group(g), [Text("材料")]) for g in (40001, 40002)])
        await enqueue("concern-digest", "slot-1", [Item(Target.private(20002), [Text("诉求")])])
        await enqueue("care-birthday", "2026-12-03", [Item(Target.group(40001), [Text("生日快乐")])])
        async with db() as s:
            await s.execute(update(Outbox).where(Outbox.target_id == "40002").values(status="failed"))
            await s.execute(update(Outbox).where(Outbox.purpose == "concern-digest").values(status="failed"))
            await s.execute(update(Outbox).where(Outbox.purpose == "care-birthday").values(status="sent"))
            await s.commit()
        status = await data_source.status_text()
    finally:
        clock.set_now(None)
    lines = status.split("\n")
    assert lines[:10] == [
        "连心运行情况（12月3日（周四）10:00）",
        data_source.NO_CONNECTION,
        f"本次启动以来收到消息：{stats.handled} 条",
        "数据库：正常。",
        "等待发送：1 条，QQ 连上后发出。",
        "近 7 天已发出：1 条。",
        "近 7 天没能发出的：2 条",
        "1. 学习日摘要 · 办公室群 · 12-03 10:00",
        "2. 诉求通知（诉求相关，内容和对象保密） · 12-03 10:00",
        data_source.FAILED_ADVICE,
    ]
    assert lines[10].startswith("接下来的定时发送") or lines[10].startswith("私聊可能送不到")
    for jargon in ("账号在线", "已发 ", "待发 ", "sqlite", "（99）"):
        assert jargon not in status
