"""/表扬, /审核, /通过, /退回, /建议 and /建议汇总 through NoneBot: the exact replies, and which
platform calls are made (a reply) and which are not (cadres and leaders hear through the
outbox, never directly from the handler)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import Bot, Message
from nonebug import App
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot import clock
from plugins.care import NOT_SAVED, PRIVATE_HELP, commend, suggest
from plugins.care.models import Commendation, Suggestion
from tests.helpers import _parse, group_event, private_event, text
from tests.fakes import fields, queued

ZHANG, ZHOU, CADRE, WORKER_OUTSIDE = 30001, 30002, 20002, 39999
BOT = "10000"
MENTION_HELP = "请 @ 你想表扬的同事，再写上事迹，例如：/表扬 @张三 主动留下来帮大家修好了打印机"


@pytest.fixture(autouse=True)
async def _no_outbox_worker(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Keep the outbox worker from sending in the background: these tests assert the calls the
    handler itself makes, and that cadres and leaders are reached through ledger rows only."""
    from bot import outbox

    if outbox.worker is not None:
        await outbox.worker.stop()
    monkeypatch.setattr(outbox, "worker", None)
    yield


def group_message(user: int, segments: list[dict[str, Any]], group: int = 40001, *, to_me: bool = False):  # type: ignore[no-untyped-def]
    raw = "".join(s["data"].get("text", f"[CQ:at,qq={s['data'].get('qq')}]") for s in segments)
    event = _parse(
        {
            "post_type": "message", "message_type": "group", "sub_type": "normal", "group_id": group, "user_id": user,
            "sender": {"user_id": user, "nickname": f"用户{user}", "card": "小刘" if user == WORKER_OUTSIDE else "", "role": "member"},
            "message": segments, "raw_message": raw,
        },
        int(BOT),
    )
    event.to_me = to_me
    return event


def t(s: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": s}}


def at(qq: int | str) -> dict[str, Any]:
    return {"type": "at", "data": {"qq": str(qq)}}


async def test_group_commendation_with_an_at_segment(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = group_message(ZHOU, [t("/表扬 "), at(ZHANG), t(" 主动留下来帮大家修好了打印机")])
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        ctx.receive_event(bot, event)
        ctx.should_call_send(
            event,
            text("谢谢推荐！表扬 张三（质量科） 的事迹已登记（#1），政工干部审核通过后，会在周一的“好人好事”里和大家分享。"),
            result={"message_id": 1},
        )
        # Nothing else: the cadre hears through the outbox, not from this handler.
    async with db() as s:
        row = (await s.scalars(select(Commendation))).one()
    assert (row.nominee, row.nominator, row.group_id, row.deed) == (str(ZHANG), str(ZHOU), "40001", "主动留下来帮大家修好了打印机")
    assert fields(await queued(db), "purpose", "period", "target_id") == [(commend.NOMINATED, "1", str(CADRE))]


async def test_a_colleague_outside_the_org_file_can_be_commended_in_a_group(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = group_message(WORKER_OUTSIDE, [t("/表扬"), at(ZHOU), t(" 帮我搬了一上午的档案")])
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        ctx.receive_event(bot, event)
        ctx.should_call_send(
            event,
            text("谢谢推荐！表扬 周六（办公室） 的事迹已登记（#1），政工干部审核通过后，会在周一的“好人好事”里和大家分享。"),
            result={"message_id": 1},
        )
    async with db() as s:
        assert (await s.scalars(select(Commendation.nominator_name))).one() == "小刘"


async def test_bad_commendations_get_short_clear_answers_and_store_nothing(app: App, db) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ([t("/表扬 帮大家修好了打印机")], MENTION_HELP),
        ([t("/表扬 "), at(BOT), t(" 每天提醒大家学习")], "谢谢你的好意，不过我只是个机器人，不用表扬我。" + MENTION_HELP),
        ([t("/表扬 "), at("all"), t(" 大家都很棒")], "表扬要 @ 一位具体的同事，不能 @全体成员。" + MENTION_HELP),
        ([t("/表扬 "), at(ZHANG), t(" 和 "), at(20003), t(" 一起值夜班")], "一次请只 @ 一位同事。要表扬几位同事，请分开推荐，每位发一条。"),
        ([t("/表扬 "), at(ZHANG)], "请写上要表扬的事迹，例如：/表扬 @张三 主动留下来帮大家修好了打印机"),
        ([t("/表扬 "), at(ZHOU), t(" 我自己")], "不能表扬自己哦。好人好事请让同事来推荐，你也可以去发现身边同事的闪光点。"),
    ]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        for i, (segments, answer) in enumerate(cases):
            event = group_message(ZHOU, segments)
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, text(answer), result={"message_id": i})
    async with db() as s:
        assert (await s.scalars(select(Commendation))).all() == []
    assert fields(await queued(db), "purpose", "period", "target_id") == []


async def test_an_at_of_the_bot_taken_off_by_the_adapter_is_still_understood(app: App, db) -> None:  # type: ignore[no-untyped-def]
    # "@连心 /表扬 修好了打印机": the adapter removes the leading @ and sets to_me.
    event = group_message(ZHOU, [t("/表扬 修好了打印机")], to_me=True)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text("谢谢你的好意，不过我只是个机器人，不用表扬我。" + MENTION_HELP), result={"message_id": 1})


async def test_quoting_a_bot_message_is_not_taken_for_an_at_of_the_bot(app: App, db) -> None:  # type: ignore[no-untyped-def]
    from nonebot.adapters.onebot.v11.event import Reply, Sender

    # The adapter sets `reply` (and to_me, when the quoted message is the bot's) from get_msg.
    event = group_message(ZHOU, [t("/表扬 修好了打印机")], to_me=True)
    event.reply = Reply(time=0, message_type="group", message_id=77, real_id=77, sender=Sender(user_id=int(BOT)), message=Message("好人好事"))
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(MENTION_HELP), result={"message_id": 1})


async def test_private_commendation_by_number_or_name(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        e1 = private_event(ZHOU, "/表扬 30001 帮新同事熟悉计量检定流程")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(e1, text("谢谢推荐！表扬 张三（质量科） 的事迹已登记（#1），政工干部审核通过后，会在周一的“好人好事”里和大家分享。"), result={"message_id": 1})
        e2 = private_event(ZHANG, "/表扬 周六 连夜赶完了年终材料")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, text("谢谢推荐！表扬 周六（办公室） 的事迹已登记（#2），政工干部审核通过后，会在周一的“好人好事”里和大家分享。"), result={"message_id": 2})
        e3 = private_event(ZHANG, "/表扬 99999 很好")
        ctx.receive_event(bot, e3)
        ctx.should_call_send(e3, text(f"组织名单里没有 QQ 号 99999。{PRIVATE_HELP}"), result={"message_id": 3})
        e4 = private_event(ZHANG, "/表扬")
        ctx.receive_event(bot, e4)
        ctx.should_call_send(e4, text(PRIVATE_HELP), result={"message_id": 4})
        e5 = private_event(ZHOU, "/表扬 @张三 又帮大家修好了打印机")
        ctx.receive_event(bot, e5)
        ctx.should_call_send(e5, text("谢谢推荐！表扬 张三（质量科） 的事迹已登记（#3），政工干部审核通过后，会在周一的“好人好事”里和大家分享。"), result={"message_id": 5})
    async with db() as s:
        assert [(c.nominee, c.group_id) for c in (await s.scalars(select(Commendation).order_by(Commendation.id))).all()] == [
            (str(ZHANG), None), (str(ZHOU), None), (str(ZHANG), None)
        ]


async def test_review_commands_are_for_cadres_in_private(app: App, db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(clock.now().replace(year=2026, month=11, day=17, hour=10, minute=0))
    try:
        await commend.nominate(nominator=str(ZHOU), nominator_name=None, nominee=str(ZHANG), nominee_name=None, group_id="40001", deed="修好了打印机")
        async with app.test_matcher() as ctx:
            bot = ctx.create_bot(base=Bot, self_id=BOT)
            e1 = private_event(ZHANG, "/审核")
            ctx.receive_event(bot, e1)
            ctx.should_call_send(e1, text("抱歉，/审核 只有政工干部可以使用。"), result={"message_id": 1})
            e2 = group_event(40001, CADRE, "/通过 1")
            ctx.receive_event(bot, e2)
            ctx.should_call_send(e2, text("/通过 请私聊我使用。"), result={"message_id": 2})
            e3 = private_event(CADRE, "/审核")
            ctx.receive_event(bot, e3)
            ctx.should_call_send(
                e3,
                text("待审核的表扬推荐共 1 条：\n\n#1 表扬 张三（质量科）｜11月17日由周六（办公室）推荐\n事迹：修好了打印机\n\n审核：/通过 编号　/退回 编号 理由"),
                result={"message_id": 3},
            )
            e4 = private_event(CADRE, "/通过 1")
            ctx.receive_event(bot, e4)
            ctx.should_call_send(
                e4, text("已通过 #1（表扬 张三（质量科）），将在11月23日（周一）09:00 的“好人好事”里发到被表扬人所在的群，已告知推荐人。"), result={"message_id": 4}
            )
            e5 = private_event(CADRE, "/退回 1")
            ctx.receive_event(bot, e5)
            ctx.should_call_send(e5, text("#1 号表扬推荐已经审核过了（已通过）。"), result={"message_id": 5})
    finally:
        clock.set_now(None)
    assert (commend.RESULT, "1", str(ZHOU)) in fields(await queued(db), "purpose", "period", "target_id")


async def test_suggestion_in_a_group_is_answered_with_its_number_and_forwarded_through_the_outbox(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = group_event(40001, ZHANG, "/建议 食堂晚饭延长到七点，照顾加班的同事")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        ctx.receive_event(bot, event)
        ctx.should_call_send(
            event,
            text(
                "谢谢你的建议！已登记为第 1 号建议，归入“食堂后勤”类，已转给负责的领导孙主任。\n"
                "建议是署名的，好建议会被推荐表扬；想匿名反映问题，请私聊我发送 /诉求。"
            ),
            result={"message_id": 1},
        )
    assert fields(await queued(db), "purpose", "period", "target_id") == [(suggest.FORWARD, "1", "20004")]
    async with db() as s:
        assert (await s.scalars(select(Suggestion.group_id))).one() == "40001"


async def test_empty_suggestion_and_database_errors(app: App, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def broken(**kw):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT INTO care_suggestion", {}, Exception("database is locked"))

    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        e1 = private_event(ZHANG, "/建议")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(e1, text("请在 /建议 后面写下你的建议，例如：/建议 会议室的投影仪经常连不上，建议换一根长一点的 HDMI 线"), result={"message_id": 1})
    monkeypatch.setattr(suggest, "submit", broken)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        e2 = private_event(ZHANG, "/建议 多组织培训")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, text(NOT_SAVED), result={"message_id": 2})


async def test_year_summary_is_one_merged_message_for_cadres(app: App, db) -> None:  # type: ignore[no-untyped-def]
    year = clock.now().year
    await suggest.submit(author=str(ZHANG), author_name=None, group_id=None, text="建议工资条增加绩效明细")
    texts = await suggest.summary(year)
    nodes = [
        {"type": "node", "data": {"name": "连心", "uin": BOT, "content": [{"type": "text", "data": {"text": n}}]}} for n in texts
    ]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        e1 = private_event(CADRE, "/建议汇总")
        ctx.receive_event(bot, e1)
        ctx.should_call_api("send_private_forward_msg", {"user_id": CADRE, "group_id": 40001, "messages": nodes}, result={"message_id": 1})
        e2 = private_event(CADRE, "/建议汇总 2001")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, text("2001 年还没有收到建议。"), result={"message_id": 2})
        e3 = private_event(ZHANG, "/建议汇总")
        ctx.receive_event(bot, e3)
        ctx.should_call_send(e3, text("抱歉，/建议汇总 只有政工干部、主要负责人可以使用。"), result={"message_id": 3})



async def test_odd_digits_and_invisible_text_get_short_answers_and_store_nothing(app: App, db) -> None:  # type: ignore[no-untyped-def]
    # On main these crashed the handler ("²".isdigit() is True, int("²") raises) or were stored
    # as a deed or a suggestion nobody could read. Superscripts and other scripts' digits are no
    # number; text of only zero-width characters, BOM or word joiners is no text.
    invisible = "\u200b\ufeff\u2060"
    cases = [
        (CADRE, "/通过 ²", "请写明编号，例如：/通过 3"),
        (CADRE, "/退回 ٣ 不合适", "请写明编号，例如：/退回 3"),
        (CADRE, "/建议汇总 ²⁰²⁶", "年份请写四位数字，例如：/建议汇总 2026"),
        (ZHOU, "/表扬 ² 修好了打印机", f"组织名单里没有叫“²”的同事。{PRIVATE_HELP}"),
        (ZHOU, f"/表扬 {invisible}", PRIVATE_HELP),
        (ZHOU, f"/表扬 30001 {invisible}", "请写上要表扬的事迹，例如：/表扬 @张三 主动留下来帮大家修好了打印机"),
        (ZHANG, f"/建议 {invisible}", "请在 /建议 后面写下你的建议，例如：/建议 会议室的投影仪经常连不上，建议换一根长一点的 HDMI 线"),
    ]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        for i, (user, typed, answer) in enumerate(cases):
            event = private_event(user, typed)
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, text(answer), result={"message_id": i})
        # Full-width digits are what a Chinese keyboard types: they are read.
        e = private_event(CADRE, "/建议汇总 ２００１")
        ctx.receive_event(bot, e)
        ctx.should_call_send(e, text("2001 年还没有收到建议。"), result={"message_id": 99})
    async with db() as s:
        assert (await s.scalars(select(Commendation))).all() == []
        assert (await s.scalars(select(Suggestion))).all() == []

