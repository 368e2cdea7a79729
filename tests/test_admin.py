"""/重发 and /状态 read what cadres type, and the ids they show, without tripping on odd digits."""

from __future__ import annotations

from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from bot import runtime
from bot.platform import Target
from plugins.admin import data_source
from tests.helpers import private_event, text

CADRE = 20002


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
