"""The Feishu port against the Feishu stand-in over real HTTP: what reaches the chat, what Feishu
refused and why, and that an answer that never came is unknown and never sent again."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator

import pytest
from bot.platform import Forward, Image, Inbound, Mention, Quote, Recall, SendFailed, SendUnknown, Target, Text, port_for, shared_group
from bot.platform.feishu import FeishuPort
from tests.feishu_helpers import ALICE, BOB, CAROL, GROUP, OTHER_GROUP, feishu_bot, forget_token, populate
from tests.feishu_peer import FeishuPeer



def png() -> bytes:
    from PIL import Image as PILImage

    out = io.BytesIO()
    PILImage.new("RGB", (4, 4), "white").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def peer() -> AsyncIterator[FeishuPeer]:
    async with FeishuPeer() as p:
        yield populate(p)


@pytest.fixture
async def port(peer: FeishuPeer) -> FeishuPort:
    await forget_token(peer)
    return FeishuPort(feishu_bot(peer), timeout=1.0)


def sends(peer: FeishuPeer, since: int = 0) -> list[str]:
    return [c.route for c in peer.calls[since:] if c.route in ("send", "reply")]


async def test_the_port_registered_for_feishu_bots(peer: FeishuPeer) -> None:
    assert isinstance(port_for(feishu_bot(peer)).inner, FeishuPort)  # type: ignore[attr-defined]


async def test_group_text_with_an_at_arrives_as_rich_text_and_user_text_stays_literal(peer: FeishuPeer, port: FeishuPort) -> None:
    mid = await port.send(Target.group(GROUP), [Mention(ALICE), Text(' 今天学习日。\n转述：<at user_id="all"></at> 大家好')])
    [sent] = peer.sent()
    assert (sent.kind, sent.target, sent.msg_type, sent.message_id) == ("group", GROUP, "post", mid)
    assert sent.text == '@张三 今天学习日。\n转述：<at user_id="all"></at> 大家好'
    assert sent.ats == (ALICE,)  # the relayed markup @'d nobody


async def test_private_text_names_instead_of_at(peer: FeishuPeer, port: FeishuPort) -> None:
    await port.send(Target.private(ALICE), [Mention(BOB, "李四"), Text(" 请您看一下。")])
    [sent] = peer.sent()
    assert (sent.kind, sent.target, sent.text, sent.ats) == ("private", ALICE, "@李四 请您看一下。", ())


async def test_refusals_are_failures_sent_once(peer: FeishuPeer, port: FeishuPort) -> None:
    with pytest.raises(SendFailed, match="230002"):  # the bot is not in that group
        await port.send(Target.group(OTHER_GROUP), [Text("通知")])
    with pytest.raises(SendFailed, match="230013"):  # outside the app's availability
        await port.send(Target.private(CAROL), [Text("你好")])
    with pytest.raises(SendFailed, match="230034"):
        await port.send(Target.private("30001"), [Text("你好")])  # a QQ number is no open_id
    assert sends(peer) == ["send", "send", "send"] and peer.sent() == []


async def test_a_send_left_unanswered_is_unknown_and_not_repeated(peer: FeishuPeer, port: FeishuPort) -> None:
    await port.send(Target.group(GROUP), [Text("热身")])  # the token is fetched now
    peer.hang.add("send")
    since = peer.mark()
    with pytest.raises(SendUnknown):
        await port.send(Target.group(GROUP), [Text("学习日")])
    assert sends(peer, since) == ["send"]


async def test_a_send_answered_late_was_delivered_and_is_unknown(peer: FeishuPeer, port: FeishuPort) -> None:
    await port.send(Target.group(GROUP), [Text("热身")])
    peer.slow["send"] = 3.0  # Feishu posted it, the answer comes after the port stopped waiting
    since = peer.mark()
    with pytest.raises(SendUnknown):
        await port.send(Target.group(GROUP), [Text("学习日")])
    await asyncio.sleep(2.5)
    assert [s.text for s in peer.sent(since)] == ["学习日"] and sends(peer, since) == ["send"]


async def test_a_server_error_after_the_send_is_unknown(peer: FeishuPeer, port: FeishuPort) -> None:
    peer.server_error("send", 502)
    with pytest.raises(SendUnknown, match="502"):
        await port.send(Target.group(GROUP), [Text("学习日")])
    assert sends(peer) == ["send"]


async def test_a_proxy_refusing_the_request_is_a_failure(peer: FeishuPeer, port: FeishuPort) -> None:
    peer.proxy_refuses("send", 413)
    with pytest.raises(SendFailed, match="413"):
        await port.send(Target.group(GROUP), [Text("学习日")])
    assert peer.sent() == []


async def test_a_rotated_token_is_fetched_again_and_the_message_sent_once(peer: FeishuPeer, port: FeishuPort) -> None:
    await port.send(Target.group(GROUP), [Text("第一条")])
    peer.revoke_tokens()
    await port.send(Target.group(GROUP), [Text("第二条")])
    assert [s.text for s in peer.sent()] == ["第一条", "第二条"]
    assert [c.answer and c.answer["code"] for c in peer.calls if c.route == "send"] == [0, 99991663, 0]
    assert [c.route for c in peer.calls].count("token") == 2


async def test_reply_answers_in_the_chat_and_a_quote_replies_to_the_message(peer: FeishuPeer, port: FeishuPort) -> None:
    asked = peer.message_event(ALICE, "/帮助", chat_id=GROUP)[1]
    msg = Inbound("feishu", peer.app_id, ALICE, GROUP, asked.message_id, "/帮助", None, (), None, False, False)
    await port.reply(msg, [Text("可用的命令：")])
    await port.send(Target.group(GROUP), [Quote(asked.message_id), Text("收到")])
    first, second = peer.sent()
    assert (first.target, first.reply_to, first.text) == (GROUP, None, "可用的命令：")
    assert (second.target, second.reply_to, second.text) == (GROUP, asked.message_id, "收到")
    private = Inbound("feishu", peer.app_id, ALICE, None, "om_x", "你好", None, (), None, False, True)
    await port.reply(private, [Text("你好，我是连心。")])
    last = peer.sent()[-1]
    assert (last.kind, last.target, last.msg_type) == ("private", ALICE, "post")


async def test_a_quote_of_a_recalled_message_fails(peer: FeishuPeer, port: FeishuPort) -> None:
    gone = peer.message_event(ALICE, "谣言", chat_id=GROUP)[1]
    gone.deleted = True
    with pytest.raises(SendFailed, match="230011"):
        await port.send(Target.group(GROUP), [Quote(gone.message_id), Text("澄清")])


async def test_images_are_uploaded_then_sent(peer: FeishuPeer, port: FeishuPort) -> None:
    await port.send(Target.group(GROUP), [Image(png())])
    await port.send(Target.group(GROUP), [Text("本月报告"), Image(png()), Text("请查收")])
    alone, mixed = peer.sent()
    assert alone.msg_type == "image" and alone.images[0] in peer.images
    assert mixed.msg_type == "post" and mixed.text == "本月报告\n[图片]\n请查收"
    assert [c.route for c in peer.calls if c.route in ("image", "send")] == ["image", "send", "image", "send"]


async def test_an_image_feishu_cannot_read_sends_nothing(peer: FeishuPeer, port: FeishuPort) -> None:
    with pytest.raises(SendFailed, match="234011"):
        await port.send(Target.group(GROUP), [Text("图表"), Image(b"not an image")])
    assert sends(peer) == []


async def test_a_forward_becomes_pages_within_the_rate_limit(peer: FeishuPeer, port: FeishuPort) -> None:
    nodes = tuple(f"第{n}条：" + "学" * 300 for n in range(1, 13))
    first = await port.send(Target.group(GROUP), [Forward(nodes)])
    pages = peer.sent()
    assert len(pages) == 12 and first == pages[0].message_id  # more than Feishu takes in one second
    assert [p.text for p in pages] == [f"（全文 {n}/12）\n{node}" for n, node in enumerate(nodes, 1)]


async def test_feishu_says_what_it_cannot_do(port: FeishuPort) -> None:
    from bot.platform import capabilities

    caps = capabilities(port)
    assert (caps.mute, caps.merged_forward) == (False, False)
    assert caps.recall_others and caps.member_list and caps.private_chat and caps.files
    assert caps.group_messages_visible  # with the im:message.group_msg scope, as the docs ask


def test_without_the_all_group_messages_scope_screening_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.platform import feishu

    monkeypatch.setenv("LIANXIN_FEISHU_GROUP_MESSAGES", "0")
    assert not feishu._capabilities().group_messages_visible


async def test_a_page_refused_after_others_went_out_is_unknown(peer: FeishuPeer, port: FeishuPort) -> None:
    peer.fail_next("send", 230020, after=1)
    with pytest.raises(SendUnknown, match="page 2 of 3"):
        await port.send(Target.group(GROUP), [Forward(tuple("页" * 1500 for _ in range(3)))])
    assert len(peer.sent()) == 1 and sends(peer) == ["send", "send"]  # and no third page


async def test_recall_follows_feishus_rules(peer: FeishuPeer, port: FeishuPort) -> None:
    own = await port.send(Target.group(GROUP), [Text("发错了")])
    assert own is not None
    assert await port.recall(own) is Recall.RECALLED
    assert await port.recall(own) is Recall.GONE  # already recalled
    old = await port.send(Target.group(GROUP), [Text("昨天的")])
    assert old is not None
    peer.age(old, 25 * 3600)
    assert await port.recall(old) is Recall.GONE  # past the tenant's 24 h window
    rumour = peer.message_event(BOB, "谣言", chat_id=GROUP)[1].message_id
    assert await port.recall(rumour, group_id=GROUP, author_id=BOB) is Recall.NOT_PERMITTED  # a plain member
    peer.make_bot_admin(GROUP)
    assert await port.recall(rumour, group_id=GROUP, author_id=BOB) is Recall.RECALLED
    assert peer.messages[rumour].deleted
    said = peer.message_event(ALICE, "私下说的")[1].message_id
    assert await port.recall(said) is Recall.NOT_PERMITTED  # nobody recalls the other side of a private chat
    assert await port.recall("om_00000000000000000000000000000000") is Recall.GONE


async def test_a_recall_left_unanswered_is_unknown(peer: FeishuPeer, port: FeishuPort) -> None:
    own = await port.send(Target.group(GROUP), [Text("发错了")])
    assert own is not None
    peer.hang.add("delete")
    assert await port.recall(own) is Recall.UNKNOWN


async def test_members_come_in_pages_without_bots(peer: FeishuPeer, port: FeishuPort) -> None:
    people = tuple(f"ou_{n:032x}" for n in range(250))
    peer.add_chat("oc_big", members=people)
    assert await port.members("oc_big") == list(people)
    assert [c.params.get("page_token", "") for c in peer.calls if c.route == "members"] == ["", "100", "200"]
    assert shared_group(people[7]) == "oc_big"
    with pytest.raises(SendFailed, match="232011"):
        await port.members(OTHER_GROUP)


async def test_get_message_reads_the_author_and_text(peer: FeishuPeer, port: FeishuPort) -> None:
    said = peer.message_event(ALICE, "明天停电", chat_id=GROUP, at=(BOB,))[1]
    assert await port.get_message(said.message_id) == (ALICE, "明天停电")
    own = await port.send(Target.group(GROUP), [Text("澄清：不停电")])
    assert own is not None
    assert await port.get_message(own) == (peer.app_id, "澄清：不停电")
    said.deleted = True
    assert await port.get_message(said.message_id) is None


async def test_mute_is_refused_honestly(port: FeishuPort) -> None:
    with pytest.raises(SendFailed, match="mute"):
        await port.mute(GROUP, ALICE, 600)


async def test_a_file_is_uploaded_then_sent(peer: FeishuPeer, port: FeishuPort) -> None:
    await port.send_file(Target.private(ALICE), "2026-12 报告.xlsx", b"PK\x03\x04 workbook")
    [sent] = peer.sent()
    assert (sent.kind, sent.target, sent.msg_type, sent.text) == ("private", ALICE, "file", "[文件] 2026-12 报告.xlsx")
    upload = next(c for c in peer.calls if c.route == "file")
    assert upload.form["file_type"] == "xls"


async def test_every_sent_body_is_what_the_docs_describe(peer: FeishuPeer, port: FeishuPort) -> None:
    await port.send(Target.group(GROUP), [Text("一\n\n二")])
    call = next(c for c in peer.calls if c.route == "send")
    assert call.params == {"receive_id_type": "chat_id"}
    assert call.body["msg_type"] == "post" and call.body["receive_id"] == GROUP
    content = json.loads(call.body["content"])
    assert content == {"zh_cn": {"title": "", "content": [[{"tag": "text", "text": "一"}], [{"tag": "text", "text": ""}], [{"tag": "text", "text": "二"}]]}}


async def test_two_sends_with_the_same_key_deliver_one_message(peer: FeishuPeer, port: FeishuPort) -> None:
    first = await port.send(Target.group(GROUP), [Text("学习日")], key="outbox:7")
    again = await port.send(Target.group(GROUP), [Text("学习日")], key="outbox:7")
    assert first is not None and again == first
    assert [s.text for s in peer.sent()] == ["学习日"]
    uuids = [c.body["uuid"] for c in peer.calls if c.route == "send"]
    assert len(uuids) == 2 and uuids[0] == uuids[1] and "outbox" not in uuids[0] and len(uuids[0]) <= 50
    await port.send(Target.group(GROUP), [Text("学习日")], key="outbox:8")  # another message
    await port.send(Target.group(GROUP), [Text("学习日")])  # no key: no uuid, sent as asked
    assert [s.text for s in peer.sent()] == ["学习日"] * 3
    assert "uuid" not in [c for c in peer.calls if c.route == "send"][-1].body


async def test_a_keyed_resend_after_an_unknown_outcome_repeats_nothing(peer: FeishuPeer, port: FeishuPort) -> None:
    peer.fail_next("send", 230020, after=1)  # page 2 refused after page 1 went out
    with pytest.raises(SendUnknown):
        await port.send(Target.group(GROUP), [Forward(tuple("页" * 1500 for _ in range(3)))], key="outbox:9")
    await port.send(Target.group(GROUP), [Forward(tuple("页" * 1500 for _ in range(3)))], key="outbox:9")
    assert [s.text.split("\n")[0] for s in peer.sent()] == ["（全文 1/3）", "（全文 2/3）", "（全文 3/3）"]
    asked = peer.message_event(ALICE, "/帮助", chat_id=GROUP)[1]
    for _ in range(2):  # a quoted answer goes out as a Feishu reply: the uuid holds there too
        await port.send(Target.group(GROUP), [Quote(asked.message_id), Text("收到")], key="outbox:10")
    assert [s.text for s in peer.sent() if s.reply_to == asked.message_id] == ["收到"]
