"""What comes in over Feishu: callbacks as the Open Platform posts them, read into the bot's
neutral message, signed, once, and never described in the log by their text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from nonebot import logger
from nonebot.adapters.feishu import Adapter as StockAdapter
from nonebot.adapters.feishu.bot import _check_reply
from nonebot.adapters.feishu.event import GroupMessageEvent, MessageEvent, PrivateMessageEvent
from nonebot.drivers import URL, Request
from nonebot.exception import NoLogException

from bot import platform
from bot.platform import Target, Text
from bot.platform.feishu import FeishuPort, inbound, unreadable_sender
from bot.platform.feishu_ingress import Adapter, UnreadableEvent, install_log_redaction
from tests.feishu_helpers import ALICE, BOB, GROUP, feishu_bot, forget_token, populate
from tests.feishu_peer import FeishuPeer, encrypt, sign

SECRET = "车间主任扣了我们三个月的加班费"


@pytest.fixture(autouse=True)
def _redacted() -> None:
    install_log_redaction()  # bot.app does this when Feishu bots are configured


@pytest.fixture
async def peer() -> AsyncIterator[FeishuPeer]:
    async with FeishuPeer() as p:
        yield populate(p)


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level=0, format="{name} | {message}")
    yield lines
    logger.remove(sink)


def parsed(payload: dict) -> MessageEvent:  # type: ignore[type-arg]
    event = Adapter.json_to_event(json.loads(json.dumps(payload)))
    assert isinstance(event, MessageEvent)
    return event


async def test_a_group_message_at_the_bot(peer: FeishuPeer) -> None:
    bot = feishu_bot(peer)
    payload, message = peer.message_event(ALICE, "/学习 第三章", chat_id=GROUP, at_bot=True)
    msg = inbound(bot, parsed(payload))
    assert msg is not None
    assert (msg.platform, msg.bot_id, msg.user_id, msg.group_id, msg.message_id) == ("feishu", peer.app_id, ALICE, GROUP, message.message_id)
    assert (msg.text, msg.mentions, msg.to_me, msg.attachments, msg.quoted) == ("/学习 第三章", (peer.app_id,), True, False, None)


async def test_a_group_message_at_someone_else_is_not_to_the_bot(peer: FeishuPeer) -> None:
    bot = feishu_bot(peer)
    payload, _ = peer.message_event(ALICE, "你看看这个", chat_id=GROUP, at=(BOB,))
    msg = inbound(bot, parsed(payload))
    assert msg is not None and (msg.text, msg.mentions, msg.to_me) == ("你看看这个", (BOB,), False)
    # Feishu's events carry no sender name; the @ taught the bot Bob's.
    later = inbound(bot, parsed(peer.message_event(BOB, "好的", chat_id=GROUP)[0]))
    assert later is not None and later.sender_name == "李四"


async def test_a_private_message_is_to_the_bot(peer: FeishuPeer) -> None:
    msg = inbound(feishu_bot(peer), parsed(peer.message_event(ALICE, " /诉求 " + SECRET)[0]))
    assert msg is not None and (msg.group_id, msg.text, msg.to_me, msg.mentions) == (None, "/诉求 " + SECRET, True, ())
    assert isinstance(parsed(peer.message_event(ALICE, "你好")[0]), PrivateMessageEvent)


async def test_an_image_is_an_attachment(peer: FeishuPeer) -> None:
    payload, _ = peer.message_event(ALICE, msg_type="image", content={"image_key": "img_v3_0001_abc"})
    msg = inbound(feishu_bot(peer), parsed(payload))
    assert msg is not None and (msg.text, msg.attachments) == ("", True)
    post = {"title": "", "content": [[{"tag": "text", "text": "工资条"}], [{"tag": "img", "image_key": "img_v3_0002"}]]}
    msg = inbound(feishu_bot(peer), parsed(peer.message_event(ALICE, msg_type="post", content=post)[0]))
    assert msg is not None and (msg.text, msg.attachments) == ("工资条", True)
    plain = {"title": "通知", "content": [[{"tag": "text", "text": "明天"}, {"tag": "emotion", "emoji_type": "SMILE"}, {"tag": "a", "text": "链接", "href": "https://e.cn"}]]}
    msg = inbound(feishu_bot(peer), parsed(peer.message_event(ALICE, msg_type="post", content=plain)[0]))
    assert msg is not None and (msg.text, msg.attachments) == ("通知\n明天链接", False)


async def test_a_reply_to_the_bot_is_to_the_bot_and_quotes_it(peer: FeishuPeer) -> None:
    await forget_token(peer)
    bot = feishu_bot(peer)
    said = await FeishuPort(bot).send(Target.group(GROUP), [Text("本月学习材料已发布")])
    assert said is not None
    event = parsed(peer.message_event(ALICE, "收到", chat_id=GROUP, parent_id=said)[0])
    await _check_reply(bot, event)  # the adapter fetches the quoted message before NoneBot sees the event
    msg = inbound(bot, event)
    assert msg is not None and msg.to_me
    assert msg.quoted is not None and (msg.quoted.message_id, msg.quoted.author_id, msg.quoted.text) == (said, peer.app_id, "本月学习材料已发布")
    rumour = peer.message_event(BOB, "听说要裁员", chat_id=GROUP)[1]
    event = parsed(peer.message_event(ALICE, "/谣言", chat_id=GROUP, parent_id=rumour.message_id)[0])
    await _check_reply(bot, event)
    msg = inbound(bot, event)
    assert msg is not None and not msg.to_me
    assert msg.quoted is not None and (msg.quoted.author_id, msg.quoted.text) == (BOB, "听说要裁员")


async def test_events_without_the_employee_id_are_read(peer: FeishuPeer) -> None:
    payload, _ = peer.message_event(ALICE, "/帮助", chat_id=GROUP, at_bot=True)
    assert "user_id" not in payload["event"]["sender"]["sender_id"]  # as sent to an app without that scope
    assert not isinstance(StockAdapter.json_to_event(json.loads(json.dumps(payload))), MessageEvent)
    assert isinstance(parsed(payload), GroupMessageEvent)


async def test_an_event_delivered_twice_is_handled_once(peer: FeishuPeer) -> None:
    payload, _ = peer.message_event(ALICE, "/签到", chat_id=GROUP)
    assert Adapter.json_to_event(json.loads(json.dumps(payload))) is not None
    assert Adapter.json_to_event(json.loads(json.dumps(payload))) is None


async def test_an_unreadable_message_is_logged_without_its_content(peer: FeishuPeer, log_lines: list[str]) -> None:
    payload, _ = peer.message_event(ALICE, SECRET)
    del payload["event"]["message"]["message_id"]
    before = platform.unreadable_count
    event = Adapter.json_to_event(payload)
    assert isinstance(event, UnreadableEvent) and event.get_type() == "notice"  # no command rule sees it
    assert event.get_event_name() == "unreadable.im.message.receive_v1.p2p"
    with pytest.raises(NoLogException):  # NoneBot writes no line of its own for it
        event.get_log_string()
    assert inbound(feishu_bot(peer), event) is None
    assert unreadable_sender(feishu_bot(peer), event) == ALICE  # asked to send it again
    assert platform.unreadable_count == before + 1  # counted for /状态
    assert any("Unreadable im.message.receive_v1.p2p event" in line for line in log_lines)
    assert not [line for line in log_lines if SECRET[:6] in line or ALICE in line]
    assert SECRET[:6] not in repr(event)
    group, _ = peer.message_event(ALICE, SECRET, chat_id=GROUP)
    del group["event"]["message"]["message_id"]
    assert unreadable_sender(feishu_bot(peer), Adapter.json_to_event(group)) is None  # nobody is asked in a group


async def test_message_events_describe_themselves_without_text_or_sender(peer: FeishuPeer) -> None:
    event = parsed(peer.message_event(ALICE, SECRET)[0])
    for line in (event.get_log_string(), repr(event), str(event)):
        assert SECRET[:6] not in line and ALICE not in line, line


def webhook_request(peer: FeishuPeer, payload: dict, *, key: str | None = None, signed_with: str | None = None) -> Request:  # type: ignore[type-arg]
    raw = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if key is not None:
        raw = json.dumps({"encrypt": encrypt(key, raw)}).encode()
        headers |= {"X-Lark-Request-Timestamp": "1700000000", "X-Lark-Request-Nonce": "n0nce",
                    "X-Lark-Signature": sign("1700000000", "n0nce", signed_with or key, raw)}
    return Request("POST", URL(f"http://127.0.0.1/feishu/{peer.app_id}"), headers=headers, content=raw)


async def test_with_an_encrypt_key_only_signed_callbacks_are_taken() -> None:
    async with FeishuPeer(encrypt_key="peer-encrypt-key-abcdef") as peer:
        bot = feishu_bot(peer)
        adapter = bot.adapter
        assert isinstance(adapter, Adapter)
        adapter.bot_apps[peer.app_id] = bot.bot_config
        challenge = {"challenge": "c-123", "token": peer.verification_token, "type": "url_verification"}
        answer = await adapter._handle_http(webhook_request(peer, challenge, key="peer-encrypt-key-abcdef"))
        assert (answer.status_code, json.loads(answer.content or b"")) == (200, {"challenge": "c-123"})
        payload, _ = peer.message_event(ALICE, "/诉求 " + SECRET)
        forged = await adapter._handle_http(webhook_request(peer, payload, key="peer-encrypt-key-abcdef", signed_with="guessed"))
        assert forged.status_code == 401
        unsigned = webhook_request(peer, payload, key="peer-encrypt-key-abcdef")
        unsigned.headers.pop("X-Lark-Signature")
        assert (await adapter._handle_http(unsigned)).status_code == 401
        # Signed right: through to the token check and on to the (here absent) bot.
        with pytest.raises(RuntimeError, match="Bot instance not found"):
            await adapter._handle_http(webhook_request(peer, payload, key="peer-encrypt-key-abcdef"))
