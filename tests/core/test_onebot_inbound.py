"""OneBot v11 events as the neutral Inbound message plugins read (bot.platform.onebot_v11)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import Adapter, MessageEvent
from nonebot.adapters.onebot.v11.bot import _check_at_me, _check_reply

from bot.platform import Inbound, Quoted, Text, inbound_for, unreadable_sender
from bot.platform.onebot_v11 import ADAPTER, OneBotV11Port
from tests.helpers import RecordingBot

SELF, USER, OTHER, GROUP = 10000, 30001, 30002, 40001


def _event(segments: list[dict[str, Any]], *, group: bool = True, sender: dict[str, Any] | None = None,
           message_id: int = 501) -> MessageEvent:
    data: dict[str, Any] = {
        "time": int(time.time()), "self_id": SELF, "post_type": "message", "message_id": message_id, "font": 0,
        "user_id": USER, "message": segments, "raw_message": "",
        "sender": {"user_id": USER, "nickname": "小王", "card": "王师傅"} if sender is None else sender,
    }
    data |= {"message_type": "group", "sub_type": "normal", "group_id": GROUP} if group else {"message_type": "private", "sub_type": "friend"}
    event = Adapter.json_to_event(data)
    assert isinstance(event, MessageEvent)
    return event


def _quoting(bot, author: int, text: str):  # type: ignore[no-untyped-def]
    """The bot, with get_msg answering as NapCat does for a message by `author`."""

    async def get_msg(api: str, **data: Any) -> Any:
        bot.calls.append((api, data))
        return {"message_id": data["message_id"], "real_id": data["message_id"], "time": 1, "message_type": "group",
                "sender": {"user_id": author, "nickname": "老周"}, "message": [_text(text)]}

    bot.call_api = get_msg
    return bot


async def _delivered(bot, event: MessageEvent) -> Inbound:  # type: ignore[no-untyped-def]
    """What the adapter does to an event before NoneBot hands it on (Bot.handle_event)."""
    await _check_reply(bot, event)
    _check_at_me(bot, event)
    msg = inbound_for(bot, event)
    assert msg is not None
    return msg


def _text(t: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": t}}


def _at(qq: int | str) -> dict[str, Any]:
    return {"type": "at", "data": {"qq": str(qq)}}


async def test_a_plain_group_message() -> None:
    bot = RecordingBot.make()
    msg = await _delivered(bot, _event([_text("  今天食堂吃什么  ")], message_id=777))
    assert msg == Inbound(
        platform="qq", bot_id="10000", user_id="30001", group_id="40001", message_id="777", text="今天食堂吃什么",
        sender_name="王师傅", mentions=(), quoted=None, attachments=False, to_me=False,
    )
    assert bot.calls == []  # building it asks the platform nothing


async def test_at_segments_are_mentions_and_an_at_of_the_bot_counts() -> None:
    bot = RecordingBot.make()
    # The adapter takes the leading @ of the bot off the text (and sets to_me); it stays a mention.
    msg = await _delivered(bot, _event([_at(SELF), _text(" /表扬 "), _at(OTHER), _text(" 帮我搬了一下午的货")]))
    assert msg.text == "/表扬  帮我搬了一下午的货"
    assert msg.mentions == ("10000", "30002")
    assert msg.to_me and msg.quoted is None and not msg.attachments
    everyone = await _delivered(bot, _event([_text("开会了 "), _at("all")]))
    assert everyone.mentions == ("all",) and not everyone.to_me


async def test_a_reply_carries_the_quoted_author_and_text() -> None:
    bot = _quoting(RecordingBot.make(), USER, "被引用的消息")
    # A QQ client sends a reply as [reply, at(author), text].
    msg = await _delivered(bot, _event([{"type": "reply", "data": {"id": "55"}}, _at(USER), _text(" /谣言")]))
    assert msg.quoted == Quoted("55", "30001", "被引用的消息")
    assert msg.mentions == ()  # the @ QQ puts after a reply names the quoted author, not a mention
    assert msg.text == "/谣言" and not msg.to_me
    assert [api for api, _ in bot.calls] == ["get_msg"]  # the adapter's own fetch


async def test_a_reply_the_adapter_could_not_fetch_keeps_its_id() -> None:
    bot = RecordingBot.make()
    event = _event([{"type": "reply", "data": {"id": "56"}}, _at(OTHER), _text(" /举报 造谣")])
    _check_at_me(bot, event)  # no get_msg answer: the reply segment stays in the message
    msg = inbound_for(bot, event)
    assert msg is not None
    assert msg.quoted == Quoted("56") and msg.quoted.author_id is None and msg.quoted.text is None
    assert msg.mentions == ("30002",)  # whose @ it is cannot be told without the author


async def test_a_reply_to_the_bot_is_addressed_to_it() -> None:
    bot = _quoting(RecordingBot.make(), SELF, "本期学习材料")
    msg = await _delivered(bot, _event([{"type": "reply", "data": {"id": "57"}}, _at(SELF), _text(" 收到")]))
    assert msg.to_me and msg.quoted == Quoted("57", "10000", "本期学习材料")
    assert msg.mentions == () and msg.text == "收到"


@pytest.mark.parametrize(
    ("segment", "attached"),
    [
        ({"type": "image", "data": {"file": "abc.jpg", "url": "http://127.0.0.1/abc.jpg"}}, True),
        ({"type": "record", "data": {"file": "a.amr"}}, True),
        ({"type": "file", "data": {"file": "报表.xlsx"}}, True),
        ({"type": "json", "data": {"data": "{}"}}, True),
        ({"type": "face", "data": {"id": "14"}}, False),
        (_at(OTHER), False),
    ],
    ids=["image", "voice", "file", "card", "face", "at"],
)
async def test_attachments_are_any_content_but_text(segment: dict[str, Any], attached: bool) -> None:
    bot = RecordingBot.make()
    msg = await _delivered(bot, _event([_text("看这个"), segment], group=False))
    assert msg.attachments is attached
    assert msg.text == "看这个"


@pytest.mark.parametrize(
    ("sender", "name"),
    [
        ({"user_id": USER, "nickname": " 小王 ", "card": ""}, "小王"),
        ({"user_id": USER, "nickname": "小王", "card": "   "}, "小王"),
        ({"user_id": USER, "card": "王师傅"}, "王师傅"),
        ({"user_id": USER, "nickname": "", "card": None}, None),
        ({}, None),
    ],
    ids=["nickname", "blank card", "card only", "both empty", "empty sender"],
)
async def test_the_sender_name_and_a_malformed_sender(sender: dict[str, Any], name: str | None) -> None:
    bot = RecordingBot.make()
    msg = await _delivered(bot, _event([_text("你好")], sender=sender))
    assert msg.sender_name == name
    assert msg.user_id == "30001"  # the event's, whatever the sender block says


async def test_a_private_message() -> None:
    bot = RecordingBot.make()
    msg = await _delivered(bot, _event([_text("/诉求 食堂太挤")], group=False))
    assert (msg.group_id, msg.to_me, msg.text) == (None, True, "/诉求 食堂太挤")


async def test_no_inbound_for_what_is_not_a_readable_message() -> None:
    bot = RecordingBot.make()
    notice = Adapter.json_to_event({"time": 1, "self_id": SELF, "post_type": "notice", "notice_type": "friend_recall",
                                    "user_id": USER, "message_id": 7})
    assert notice is not None and inbound_for(bot, notice) is None and unreadable_sender(bot, notice) is None
    broken = {"time": 1, "self_id": SELF, "post_type": "message", "message_id": 8, "user_id": USER,
              "message": [_text("x")], "raw_message": "x"}  # no font, no sender
    private = ADAPTER.json_to_event(broken | {"message_type": "private", "sub_type": "friend"})
    group = ADAPTER.json_to_event(broken | {"message_type": "group", "sub_type": "normal", "group_id": GROUP})
    assert private is not None and group is not None
    assert inbound_for(bot, private) is None and unreadable_sender(bot, private) == "30001"
    assert unreadable_sender(bot, group) is None  # not answered in a group


async def test_a_reply_to_an_inbound_not_built_from_an_event_goes_by_its_ids() -> None:
    bot = RecordingBot.make()
    port = OneBotV11Port(bot)
    msg = Inbound(platform="qq", bot_id="10000", user_id="30001", group_id="40001", message_id="9", text="x",
                  sender_name=None, mentions=(), quoted=None, attachments=False, to_me=False)
    await port.reply(msg, [Text("好的")])
    assert [(api, data["group_id"], str(data["message"])) for api, data in bot.calls] == [("send_group_msg", 40001, "好的")]
