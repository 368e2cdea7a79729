"""Issue 10, driven as people would: a worker and leaders typing to the bot through NoneBot.

- a concern is seen by nobody before the batch slot at which its leader is told (item 4);
- /转办 only hands a concern to someone who answers concerns, by name or QQ number (item 8);
- the leader hears "已告知提交人" only when the relay was delivered, and learns what became of
  it otherwise; the submitter's /进度 shows it anyway (item 14);
- odd digits and invisible text get clear short answers (items 16, 17).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import ActionFailed, Bot, Message, MessageSegment, NetworkError
from nonebug import App
from sqlalchemy import select

from bot import clock
from bot.models import Outbox
from plugins.concerns import intake, ticks
from plugins.concerns.models import Concern, ConcernEvent
from tests.helpers import MONDAY, private_event, text
from tests.plugins.concerns.test_concerns_handlers import Matching

WORKER, PAY_LEADER, CANTEEN_LEADER, HEAD, MODERATOR = 30001, 20002, 20004, 20000, 20003
SECRET = "夜班补贴三个月没发了"


pytestmark = pytest.mark.usefixtures("monday")


Call = tuple[str, dict[str, Any], dict[str, Any]]


async def say(app: App, user: int, words: str, answer: Any, calls: Sequence[Call] = ()) -> None:
    """`user` types `words` in private chat; the bot makes exactly `calls`, then answers."""
    event = private_event(user, words)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        for api, data, kw in calls:
            ctx.should_call_api(api, data, **kw)
        ctx.should_call_send(event, text(answer) if isinstance(answer, str) else answer, result={"message_id": 1})


def to_submitter(code: str, message: str, tail: str | None = None, **kw: Any) -> Call:
    tail = tail or f"发送“/进度 {code}”可查看全部进展。"
    body = f"【连心】回执码 {code}\n{message}\n{tail}"
    return ("send_private_msg", {"user_id": WORKER, "group_id": 40001, "message": Message(MessageSegment.text(body))}, kw or {"result": {"message_id": 9}})


async def submitted() -> intake.Submitted:
    done = await intake.submit(user_id=WORKER, bot_id="10000", text=SECRET)
    clock.set_now(MONDAY + timedelta(minutes=25))  # the next batch slot: 10:30
    await ticks.digest_tick()
    return done


# --- item 4: visible only from the batch slot ------------------------------------------------


async def test_a_new_concern_is_seen_by_nobody_before_its_batch_slot(app: App, db) -> None:  # type: ignore[no-untyped-def]
    from plugins.concerns.section import concerns_section

    clock.set_now(MONDAY - timedelta(minutes=5))
    await ticks.digest_tick()  # 10:00: the tick has run this slot already (it runs every minute)
    clock.set_now(MONDAY)
    await say(app, WORKER, f"/诉求 {SECRET}", Matching("已收到你的诉求（工资福利）"))
    clock.set_now(MONDAY + timedelta(minutes=1))
    # The leader polls a minute later: nothing yet, and the number cannot be acted on.
    await say(app, PAY_LEADER, "/待办", "你目前没有待办的诉求。")
    await say(app, PAY_LEADER, "/受理 1", "没有找到你负责的 #1 号诉求。发送 /待办 查看你负责的诉求。")
    section = await concerns_section(datetime(2026, 11, 1, tzinfo=clock.zone()), datetime(2026, 12, 1, tzinfo=clock.zone()))
    assert sum(map(sum, section.tables[0].cells)) == 0 and section.texts == []
    assert await ticks.digest_tick() == 0  # the slot of 10:00 is still running: no notice either
    async with db() as s:
        assert (await s.scalars(select(Outbox))).all() == []

    clock.set_now(MONDAY + timedelta(minutes=25))  # 10:30: the leader is told, and now sees it
    assert await ticks.digest_tick() == 1
    await say(app, PAY_LEADER, "/待办", Matching(rf"你有 1 件待办诉求：\n\n#1 工资福利｜待受理｜11-16 提交.*{SECRET}"))
    section = await concerns_section(datetime(2026, 11, 1, tzinfo=clock.zone()), datetime(2026, 12, 1, tzinfo=clock.zone()))
    assert section.texts == [SECRET]


async def test_a_concern_sent_right_after_a_start_waits_for_the_next_slot(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The scheduler's first tick runs some time after the bot listens; had nothing claimed the
    # slot before, that tick would tell the leader of a concern sent a second earlier.
    from nonebot import get_driver

    import plugins.concerns as concerns_plugin

    monkeypatch.setattr(get_driver().config, "apscheduler_autostart", True, raising=False)
    await concerns_plugin._claim_current_slot()  # what the bot runs before it listens
    await intake.submit(user_id=WORKER, bot_id="10000", text=SECRET)
    assert await ticks.digest_tick() == 0  # the scheduler's first tick, after the message
    async with db() as s:
        assert (await s.scalars(select(Outbox))).all() == []
    clock.set_now(MONDAY + timedelta(minutes=25))  # 10:30
    assert await ticks.digest_tick() == 1


# --- item 8: /转办 targets ---------------------------------------------------------------------


async def test_transfer_goes_only_to_people_who_answer_concerns(app: App, db) -> None:  # type: ignore[no-untyped-def]
    done = await submitted()
    refusal = "抱歉，{} 不负责办理诉求，不能转交给对方。可以转给分管领导、政工干部或主要负责人。"
    # A worker, by name or by number, and a group moderator: politely refused, nothing sent.
    await say(app, PAY_LEADER, "/转办 1 张三", refusal.format("张三"))
    await say(app, PAY_LEADER, f"/转办 1 {WORKER}", refusal.format("张三"))
    await say(app, PAY_LEADER, f"/转办 1 {MODERATOR}", refusal.format("王五"))
    await say(app, PAY_LEADER, "/转办 1 99999", "组织名单里没有 QQ 号 99999。请核对，或写对方的姓名。")
    async with db() as s:
        assert (await s.get(Concern, done.concern_id)).leader == str(PAY_LEADER)

    # A leader by name: the answer says who has it now; the submitter is told it moved on.
    await say(
        app, PAY_LEADER, "/转办 1 孙主任", "已转给 孙主任（食堂后勤分管领导）。对方会在下一批通知中收到。",
        [to_submitter(done.code, "你反映的诉求已转交另一位领导办理。")],
    )
    # The head by QQ number.
    await say(
        app, CANTEEN_LEADER, f"/转办 1 {HEAD}", "已转给 赵局长（主要负责人）。对方会在下一批通知中收到。",
        [to_submitter(done.code, "你反映的诉求已转交另一位领导办理。")],
    )
    clock.set_now(MONDAY + timedelta(minutes=55))
    await ticks.digest_tick()
    async with db() as s:
        assert (await s.get(Concern, done.concern_id)).leader == str(HEAD)
        rows = (await s.scalars(select(Outbox))).all()
    # Notices went to the pay leader (first digest) and the head; never to the worker.
    assert sorted(r.target_id for r in rows) == [str(HEAD), str(PAY_LEADER)]


# --- item 14: honest relays ------------------------------------------------------------------


async def test_the_leader_hears_what_became_of_each_relay(app: App, db) -> None:  # type: ignore[no-untyped-def]
    done = await submitted()
    ack = "你反映的诉求已由负责的领导受理，请耐心等待答复。"
    # The connection drops mid-send: it may have arrived. Not "已告知", and never resent blindly.
    await say(
        app, PAY_LEADER, "/受理 1",
        "已受理 #1，请在 11月25日（周三）10:00 前答复。告知提交人时没有收到 QQ 的确认，可能已送达；为免重复不会自动重发。提交人发送 /进度 可以看到。",
        [to_submitter(done.code, ack, exception=NetworkError("WebSocket connection closed"))],
    )
    async with app.test_matcher() as ctx:  # a retry tick with the bot connected makes no call
        ctx.create_bot(base=Bot, self_id="10000")
        await ticks.relay_retry_tick()
    await say(app, PAY_LEADER, "/待办", Matching(r"#1 工资福利｜已受理.*\n转达提交人：受理通知（11-16）不确定是否送达"))

    # QQ refuses the reply: the leader is told it is queued, and the next tick delivers it.
    refused = ActionFailed(status="failed", retcode=1200, message="EventChecker Failed", wording="EventChecker Failed", data=None)
    reply = "你反映的诉求有了新答复：\n已向财务核实，下月补发"
    await say(
        app, PAY_LEADER, "/回复 1 已向财务核实，下月补发",
        "已答复 #1，暂时没能发给提交人，我会继续尝试，送达情况可在 /待办 查看。",
        [to_submitter(done.code, reply, exception=refused)],
    )
    await say(app, PAY_LEADER, "/待办", Matching(r"转达提交人：答复（11-16）还没发出，正在重试"))
    async with app.test_matcher() as ctx:
        ctx.create_bot(base=Bot, self_id="10000")
        api, data, kw = to_submitter(done.code, reply)
        ctx.should_call_api(api, data, **kw)
        await ticks.relay_retry_tick()
    # Delivered now: only the acknowledgement's uncertain fate is left to show.
    await say(app, PAY_LEADER, "/待办", Matching(r"^(?!.*答复（11-16）).*转达提交人：受理通知（11-16）不确定是否送达"))

    # The submitter's /进度 shows everything, whatever the relays' fate.
    await say(app, WORKER, f"/进度 {done.code}", Matching(r"领导已受理.*领导答复：已向财务核实，下月补发"))

    # Closed with a delivered relay: now, and only now, "已告知提交人".
    # The invitation to rate carries the code and says what 1 and 5 mean.
    close = "你反映的诉求已办结：\n已补发到位"
    invite = f"欢迎为办理情况打分：发送“/评价 {done.code} 5”，1 分是很不满意，5 分是很满意。"
    await say(app, PAY_LEADER, "/办结 1 已补发到位", "已办结 #1。已告知提交人。", [to_submitter(done.code, close, invite)])
    await say(app, WORKER, f"/进度 {done.code.lower()}", Matching(f"已办结。{invite}$"))
    async with db() as s:
        states = (await s.scalars(select(ConcernEvent.relay).where(ConcernEvent.relay.is_not(None)).order_by(ConcernEvent.id))).all()
    assert states == ["unknown", "sent", "sent"]


# --- items 16, 17: odd digits, invisible text -------------------------------------------------


async def test_superscripts_and_invisible_text_get_clear_answers(app: App, db) -> None:  # type: ignore[no-untyped-def]
    done = await submitted()
    await say(app, PAY_LEADER, "/受理 ²", "请写明诉求编号（阿拉伯数字），例如：/受理 3")
    await say(app, PAY_LEADER, "/转办 1 ²", "没有找到转办对象：请写领导的姓名或 QQ 号，或诉求类别名称（如 食堂后勤）。")
    await say(app, PAY_LEADER, "/回复 1 \u200b\u2060\ufeff", "内容是空的，没有发出。请写上要转达的话，例如：/回复 1 已向财务核实，下月补发")
    await say(app, PAY_LEADER, "/办结 1 \u200b", "内容是空的，没有发出。请写上要转达的话，例如：/办结 1 已补发到位")
    await say(app, WORKER, "/诉求 \u200b\ufeff", Matching("^内容是空的"))
    # No text at all: each command answers with its own example, not the /诉求 one.
    await say(app, PAY_LEADER, "/回复 1", "内容是空的，没有发出。请写上要转达的话，例如：/回复 1 已向财务核实，下月补发")
    await say(app, PAY_LEADER, "/办结 1", "内容是空的，没有发出。请写上要转达的话，例如：/办结 1 已补发到位")
    await say(app, WORKER, f"/补充 {done.code}", f"请在回执码后面写上要补充的内容，例如：/补充 {done.code} 事情发生在上周五晚班")
    await say(app, WORKER, "/补充", "请在回执码后面写上要补充的内容，例如：/补充 ABCD-EFGH-JKLM 事情发生在上周五晚班")
    await say(app, WORKER, f"/评价 {done.code}", f"请在回执码后面写 1 到 5 的分数（1 分很不满意，5 分很满意），例如：/评价 {done.code} 5")
    await say(app, WORKER, f"/评价 {done.code} ²", "评分请用 1 到 5 的整数，例如：/评价 ABCD-EFGH-JKLM 5")
    # The guided flow: a superscript number, then invisible-only text, then a disclosure of nothing.
    await say(app, WORKER, "/诉求", Matching("回复序号"))
    await say(app, WORKER, "¹", "请回复 1 到 3 的序号或类别名称选择类别。回复“取消”可以随时放弃。")
    await say(app, WORKER, "１", Matching("请写下你想反映的内容"))  # full-width digits are fine
    await say(app, WORKER, "\u200b\u2060", "内容是空的，请写下你想反映的事。回复“取消”可以随时放弃。")
    await say(app, WORKER, "食堂\u202e饭菜太咸", Matching("是否愿意留下"))
    await say(app, WORKER, "\ufeff", "保持匿名请回复 1；愿意留下，请直接写部门或姓名。回复“取消”可以随时放弃。")
    await say(app, WORKER, "１", Matching("署名：匿名"))
    await say(app, WORKER, "1", Matching("回执码："))
    # A reply with a bidi override reaches the submitter without it.
    await say(
        app, PAY_LEADER, "/回复 1 已核实\u202e，下月补发", "已答复 #1，已转达提交人。",
        [to_submitter(done.code, "你反映的诉求有了新答复：\n已核实，下月补发")],
    )
    async with db() as s:
        texts = (await s.scalars(select(Concern.text).order_by(Concern.id))).all()
        assert (await s.scalars(select(Concern.rating))).all() == [None, None]
    assert texts == [SECRET, "食堂饭菜太咸"]


# --- issue 12: escalation reaches people, and the owner hears what others did ----------------


async def test_a_cadre_answering_an_escalated_concern_tells_the_owner_not_the_submitters_name(app: App, db) -> None:  # type: ignore[no-untyped-def]
    from bot import outbox

    done = await intake.submit(user_id=WORKER, bot_id="10000", text="食堂的饭菜越来越咸了")
    clock.set_now(MONDAY + timedelta(minutes=25))
    await ticks.digest_tick()
    for day in (datetime(2026, 11, 17, 9), datetime(2026, 11, 18, 10)):  # reminded; then up to the cadre
        clock.set_now(day.replace(tzinfo=clock.zone()))
        await ticks.escalation_tick()
    # The canteen's leader heads the office himself: the cadre is told, by name of who is late.
    async with db() as s:
        rows = (await s.scalars(select(Outbox).where(Outbox.purpose == "concern-escalation").order_by(Outbox.id))).all()
    assert [r.target_id for r in rows] == [str(CANTEEN_LEADER), str(PAY_LEADER)]
    to_cadre = "".join(p.text for p in await outbox.render(rows[1].payload))
    assert to_cadre.startswith("【诉求上报】#1 由 孙主任（食堂后勤分管领导）负责，已超过受理期限（11月18日（周三）10:00）还没有受理。")
    await say(app, PAY_LEADER, "/待办", Matching(r"#1 食堂后勤｜待受理｜11-16 提交\n受理期限：11月18日（周三）10:00，已超期\n负责：孙主任（食堂后勤分管领导）"))

    # The cadre answers: relayed to the submitter (the one API call), and the owner is told.
    await say(
        app, PAY_LEADER, "/回复 1 已和食堂沟通，下周起少放盐",
        "已答复 #1，已转达提交人。已通知负责的 孙主任（食堂后勤分管领导）。",
        [to_submitter(done.code, "你反映的诉求有了新答复：\n已和食堂沟通，下周起少放盐")],
    )
    async with db() as s:
        action = (await s.scalars(select(Outbox).where(Outbox.purpose == "concern-action"))).all()
    assert [r.target_id for r in action] == [str(CANTEEN_LEADER)]
    told = "".join(p.text for p in await outbox.render(action[0].payload))
    assert told.startswith("【诉求动态】你负责的 #1 已由 李四（政工干部）答复。\n答复内容：已和食堂沟通，下周起少放盐\n")
    assert str(WORKER) not in told and "张三" not in told and str(WORKER) not in to_cadre
