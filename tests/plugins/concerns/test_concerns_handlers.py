"""/诉求 and friends through NoneBot: what the person sees, and what the bot calls (and does not)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from nonebot.adapters.onebot.v11 import Bot, Message, MessageSegment
from nonebug import App
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot import clock
from plugins.concerns import NOT_SAVED, PRIVATE_ONLY, intake, ticks
from plugins.concerns.models import Concern
from tests.helpers import _parse, group_event, private_event, text

WORKER, LEADER = 30001, 20002


class Matching:
    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern, re.DOTALL)

    def __eq__(self, other: object) -> bool:
        return bool(self.pattern.search(str(other)))

    def __repr__(self) -> str:
        return f"Matching({self.pattern.pattern!r})"


pytestmark = pytest.mark.usefixtures("monday")


async def released() -> None:
    """The next batch slot: the leader is told, and only now may see and act on the concern."""
    clock.set_now(clock.now() + timedelta(minutes=30))
    await ticks.digest_tick()


async def test_one_step_submission_replies_with_a_receipt(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = private_event(WORKER, "/诉求 夜班补贴三个月没发了")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, Matching(r"已收到你的诉求（工资福利）.*回执码：[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}"), result={"message_id": 1})
    async with db() as s:
        assert (await s.scalars(select(Concern.text))).all() == ["夜班补贴三个月没发了"]


async def test_concern_typed_in_a_group_is_not_echoed_and_is_recalled(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = group_event(40001, WORKER, "/诉求 科长总是把重活派给我")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(PRIVATE_ONLY), result={"message_id": 1})
        ctx.should_call_api("delete_msg", {"message_id": event.message_id}, result=None)
    async with db() as s:
        assert (await s.scalars(select(Concern))).all() == []


async def test_images_are_refused_and_nothing_is_stored(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = _parse(
        {
            "post_type": "message", "message_type": "private", "sub_type": "friend", "user_id": WORKER,
            "sender": {"user_id": WORKER}, "raw_message": "/诉求 看图",
            "message": [{"type": "text", "data": {"text": "/诉求 看图"}}, {"type": "image", "data": {"file": "a.jpg", "url": "http://x/a.jpg"}}],
        },
        10000,
    )
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, Matching("暂时只能收文字"), result={"message_id": 1})
    async with db() as s:
        assert (await s.scalars(select(Concern))).all() == []


async def test_database_error_tells_the_user_to_retry(app: App, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def broken(**kw):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT INTO concerns_concern", {}, Exception("database is locked"))

    monkeypatch.setattr(intake, "submit", broken)
    event = private_event(WORKER, "/诉求 食堂太贵")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(NOT_SAVED), result={"message_id": 1})


async def test_leader_commands_are_refused_to_workers_and_in_groups(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e1 = private_event(WORKER, "/待办")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(e1, text("抱歉，/待办 只有分管领导、政工干部、主要负责人可以使用。"), result={"message_id": 1})
        e2 = group_event(40001, LEADER, "/回复 1 好的")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, text("/回复 请私聊我使用。"), result={"message_id": 2})


async def test_leader_reply_is_relayed_as_plain_text_segments(app: App, db) -> None:  # type: ignore[no-untyped-def]
    done = await intake.submit(user_id=WORKER, bot_id="10000", text="工资条看不懂")
    await released()
    event = private_event(LEADER, f"/回复 {done.concern_id} [CQ:at,qq=all] 明天到财务室看")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_private_msg",
            {"user_id": WORKER, "group_id": 40001, "message": Message(MessageSegment.text(
                f"【连心】回执码 {done.code}\n你反映的诉求有了新答复：\n[CQ:at,qq=all] 明天到财务室看\n发送“/进度 {done.code}”可查看全部进展。"
            ))},
            result={"message_id": 9},
        )
        ctx.should_call_send(event, text(f"已答复 #{done.concern_id}，已转达提交人。"), result={"message_id": 10})
