"""Sends as NapCat really answers them (NAPCAT.md): a timeout may have been delivered, a private
message to a non-friend needs a shared group, an @ of an unknown id fails the whole send, and
an @ in a private chat is dropped. Each test lists every API call the bot may make (nonebug
fails on any other), so "sent once, never resent" is asserted, not assumed."""

from __future__ import annotations


from nonebot.adapters.onebot.v11 import ActionFailed, Bot, Message, MessageSegment
from nonebug import App
from sqlalchemy import select

from bot import clock
from bot.models import Outbox
from bot.outbox import Item, Worker, enqueue
from bot.platform import Forward, Mention, SendFailed, SendUnknown, Target, Text
from bot.platform.onebot_v11 import OneBotV11Port
from plugins.admin import data_source
from tests.helpers import private_event
from tests.onebot_peer import REFUSED_STRANGER, TIMEOUT

GROUP, WORKER, CADRE, STRANGER = 40001, 30001, 20002, 10001  # 10001: superuser in no group


def failed(message: str) -> ActionFailed:
    return ActionFailed(status="failed", retcode=1200, data=None, message=message, wording=message)


async def test_a_timeout_is_unknown_and_a_refusal_is_a_failure(app: App) -> None:
    async with app.test_api() as ctx:
        port = OneBotV11Port(ctx.create_bot(base=Bot, self_id="10000"))
        msg = Message(MessageSegment.text("学习日"))
        ctx.should_call_api("send_group_msg", {"group_id": GROUP, "message": msg}, exception=failed(TIMEOUT))
        try:
            await port.send(Target.group(GROUP), [Text("学习日")])
            raise AssertionError("a timeout must not look like success")
        except SendUnknown:
            pass
        ctx.should_call_api("send_group_msg", {"group_id": GROUP, "message": msg}, exception=failed(REFUSED_STRANGER))
        try:
            await port.send(Target.group(GROUP), [Text("学习日")])
            raise AssertionError("a refusal must raise")
        except SendFailed:
            pass


async def test_a_failed_packet_forward_is_unknown(app: App) -> None:
    async with app.test_api() as ctx:
        port = OneBotV11Port(ctx.create_bot(base=Bot, self_id="10000"))
        nodes = [{"type": "node", "data": {"name": "连心", "uin": "10000", "content": [{"type": "text", "data": {"text": "第一页"}}]}}]
        ctx.should_call_api(
            "send_group_forward_msg", {"group_id": GROUP, "messages": nodes},
            exception=failed("发送转发消息（res_id：abc）失败"),
        )
        try:
            await port.send(Target.group(GROUP), [Forward(("第一页",))])
            raise AssertionError("a failed forward may have been delivered")
        except SendUnknown:
            pass


async def test_an_outbox_send_that_timed_out_is_never_resent(app: App, db) -> None:  # type: ignore[no-untyped-def]
    await enqueue("study", "2026-12", [Item(Target.group(GROUP), [Text("本月学习材料")])], sessions=db)
    async with app.test_api() as ctx:
        port = OneBotV11Port(ctx.create_bot(base=Bot, self_id="10000"))
        worker = Worker(sessions=db, port_for=lambda _: port, interval=0, jitter=0)
        ctx.should_call_api(
            "send_group_msg", {"group_id": GROUP, "message": Message(MessageSegment.text("本月学习材料"))},
            exception=failed(TIMEOUT),
        )
        assert await worker.drain("10000") == 1
        assert await worker.drain("10000") == 0  # no second send_group_msg: nonebug would fail on it
    async with db() as s:
        row = (await s.scalars(select(Outbox))).one()
    assert row.status == "unknown" and row.attempts == 1


async def test_private_sends_name_a_shared_group_and_never_carry_an_at(app: App) -> None:
    async with app.test_api() as ctx:
        port = OneBotV11Port(ctx.create_bot(base=Bot, self_id="10000"))
        # In a group of the org file: NapCat opens a temporary session through it.
        ctx.should_call_api(
            "send_private_msg",
            {"user_id": WORKER, "group_id": GROUP, "message": Message([MessageSegment.text("@李四"), MessageSegment.text(" 你好")])},
            result={"message_id": 5},
        )
        assert await port.send(Target.private(WORKER), [Mention(str(CADRE)), Text(" 你好")]) == "5"
        # In no known group: sent without, and it arrives only for a friend.
        ctx.should_call_api("send_private_msg", {"user_id": STRANGER, "message": Message(MessageSegment.text("你好"))}, result={"message_id": 6})
        assert await port.send(Target.private(STRANGER), [Text("你好")]) == "6"


async def test_an_at_of_an_unknown_id_is_retried_once_with_the_name(app: App) -> None:
    async with app.test_api() as ctx:
        port = OneBotV11Port(ctx.create_bot(base=Bot, self_id="10000"))
        first = Message([MessageSegment.at(WORKER), MessageSegment.text(" 生日快乐")])
        ctx.should_call_api("send_group_msg", {"group_id": GROUP, "message": first}, exception=failed("Get Uid Error"))
        second = Message([MessageSegment.text("@张三"), MessageSegment.text(" 生日快乐")])
        ctx.should_call_api("send_group_msg", {"group_id": GROUP, "message": second}, result={"message_id": 7})
        assert await port.send(Target.group(GROUP), [Mention(str(WORKER)), Text(" 生日快乐")]) == "7"


async def test_status_names_unknown_sends_and_resend_needs_confirmation(app: App, db) -> None:  # type: ignore[no-untyped-def]
    await enqueue("study", "2026-12", [Item(Target.group(GROUP), [Text("材料")]), Item(Target.group(40002), [Text("材料")])], sessions=db)
    async with db() as s:
        first = (await s.scalars(select(Outbox).order_by(Outbox.id))).first()
        assert first is not None
        first.status, first.claimed_at = "unknown", clock.utcnow()
        await s.commit()

    status = await data_source.status_text()
    assert "结果未知的发送 1 条" in status and "质量科职工群" in status and "/重发" in status
    assert "办公室群" not in status.split("结果未知的发送")[1].split("\n")[1]

    assert (await data_source.resend_confirm(CADRE)).startswith("请先发送 /重发")
    offer = await data_source.resend_offer(CADRE)
    assert "1. " in offer and "质量科职工群" in offer and "/重发 确认" in offer
    assert await data_source.resend_confirm(CADRE) == "好的，已重新排队发送 1 条消息。"
    async with db() as s:
        statuses = [r.status for r in (await s.scalars(select(Outbox).order_by(Outbox.id))).all()]
    assert statuses == ["pending", "pending"]
    assert (await data_source.resend_confirm(CADRE)).startswith("请先发送 /重发")  # once per offer


async def test_resend_is_for_cadres_only(app: App) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        event = private_event(WORKER, "/重发 确认")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, Message(MessageSegment.text("抱歉，/重发 只有政工干部可以使用。")), result={"message_id": 1})
