"""The study commands through NoneBot: exact replies, the API calls made, and none other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from nonebot.adapters.onebot.v11 import Bot
from nonebug import App
from sqlalchemy import select

from bot import clock
from bot.dispatch import PRIVATE_HINT
from bot.models import Outbox
from plugins.study import materials
from plugins.study import posting
from plugins.study.materials import load_library
from plugins.study.models import StudyCheckin, StudyQuizSession
from tests.conftest import ROOT
from tests.helpers import group_event, private_event, text
from tests.fakes import queued

WORKER, OTHER, CADRE = 30001, 30002, 20002
GROUP = 40001
NOW = datetime(2026, 12, 5, 10, 0)
SUMMARY_GROUP = (
    "本期学习材料：《安全生产测试材料》（2026年12月）\n十二月的摘要。\n"
    "学完请在群里发送 /已学 打卡；私聊我发送 /答题 参加测验（共 3 题），答对有积分。\n"
    "全文已在学习日发到群里；私聊我发送 /学习 也能收到全文。"
)
SUMMARY_PRIVATE = (
    "本期学习材料：《安全生产测试材料》（2026年12月）\n十二月的摘要。\n"
    "学完后发送 /已学 打卡；发送 /答题 参加测验（共 3 题），答对有积分。\n全文见下一条消息。"
)
FIRST_QUESTION = "第 1/3 题：第一题问什么？\nA. 甲\nB. 乙\nC. 丙"


@pytest.fixture(autouse=True)
async def _study() -> AsyncIterator[None]:
    """Test materials and the clock at the study day (conftest keeps ticks and the outbox
    worker quiet, so queued rows stay queued: the handlers only enqueue)."""
    previous = materials.use(load_library(ROOT / "tests" / "data" / "study_materials"))
    posting.forget()
    clock.set_now(NOW)
    yield
    clock.set_now(None)
    posting.forget()
    materials.use(previous)


def nodes(*texts: str) -> list[dict]:
    return [
        {"type": "node", "data": {"name": "连心", "uin": "10000", "content": [{"type": "text", "data": {"text": t}}]}}
        for t in texts
    ]


async def test_study_in_a_group_shows_the_summary_only(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = group_event(GROUP, WORKER, "/学习")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(SUMMARY_GROUP), result={"message_id": 1})


async def test_study_in_private_sends_the_full_text_as_a_merged_message(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = private_event(WORKER, "/学习")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(SUMMARY_PRIVATE), result={"message_id": 1})
        ctx.should_call_api(
            "send_private_forward_msg",
            {
                "user_id": WORKER, "group_id": 40001,
                "messages": nodes("《安全生产测试材料》\n\n【一、开头】\n\n这是十二月的正文第一段。", "【二、要点】\n\n· 第一条\n· 第二条"),
            },
            result={"message_id": 2},
        )


async def test_study_without_material_and_with_an_unknown_title(app: App, db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(datetime(2027, 3, 2, 9, 0))
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e1 = group_event(GROUP, WORKER, "/学习")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(
            e1, text("本月还没有学习材料。最近一期是《新年测试材料》（2027年1月），发送 /学习 新年测试材料 即可。"), result={"message_id": 1}
        )
        e2 = group_event(GROUP, WORKER, "/学习 食品安全")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, text("没有找到标题含“食品安全”的学习材料。发送 /学习 查看本期材料。"), result={"message_id": 2})


async def test_check_in_in_a_group_once(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e1 = group_event(GROUP, WORKER, "/已学")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(
            e1,
            text("张三打卡成功：《安全生产测试材料》。积分 +1。\n私聊我发送 /答题 参加本期测验（共 3 题），答对还有积分。"),
            result={"message_id": 1},
        )
        e2 = private_event(WORKER, "/已学")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, text("你已经打过卡了：《安全生产测试材料》（12月5日）。"), result={"message_id": 2})
    async with db() as s:
        rows = (await s.execute(select(StudyCheckin.user_id, StudyCheckin.group_id, StudyCheckin.material_id))).all()
    assert rows == [(str(WORKER), str(GROUP), "2026-12-安全")]


async def test_check_in_of_someone_not_in_the_org_file_uses_the_group_card(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = group_event(GROUP, 55555, "/已学 十一月")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text("用户55555打卡成功：《十一月测试材料》。积分 +1。"), result={"message_id": 1})


async def test_quiz_in_a_group_asks_for_private_chat_and_stores_nothing(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = group_event(GROUP, WORKER, "/答题")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text("/答题 请私聊我使用。"), result={"message_id": 1})
    async with db() as s:
        assert await s.get(StudyQuizSession, str(WORKER)) is None


async def test_quiz_in_private_from_start_to_finish(app: App, db) -> None:  # type: ignore[no-untyped-def]
    start = (
        "《安全生产测试材料》测验开始，共 3 题。回复选项字母（如 A）即可，每题请在 10 分钟内作答；发送“退出”可以随时结束。\n"
        + FIRST_QUESTION
    )
    steps = [
        ("/答题", start),
        ("E", "这道题只有 A–C 3 个选项，请回复其中一个字母（或 1–3）。"),
        ("B", "回答正确！积分 +1。\n\n第 2/3 题：第二题对不对？\nA. 对\nB. 错"),
        ("2", "回答错误，正确答案是 A. 对。\n解析：解析内容。\n\n第 3/3 题：第三题选几？\nA. 一\nB. 二\nC. 三\nD. 四"),
        ("D", "回答正确！积分 +1。\n\n测验结束：答对 2/3 题，本次获得 2 分，本月累计 2 分。"),
        ("A", PRIVATE_HINT),  # the quiz is over: an "A" is ordinary text again
    ]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        for i, (said, answer) in enumerate(steps):
            event = private_event(WORKER, said)
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, text(answer), result={"message_id": i + 1})


async def test_a_timed_out_question_is_answered_gracefully(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e1 = private_event(WORKER, "/答题")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(e1, text("《安全生产测试材料》测验开始，共 3 题。回复选项字母（如 A）即可，每题请在 10 分钟内作答；发送“退出”可以随时结束。\n" + FIRST_QUESTION), result={"message_id": 1})
    clock.set_now(NOW + timedelta(minutes=10, seconds=1))
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e2 = private_event(WORKER, "B")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(
            e2, text("上一题超过 10 分钟没有作答，本次测验已经结束（答对 0/0 题，获得 0 分）。发送 /答题 可以重新开始。"), result={"message_id": 2}
        )


async def test_points_and_ranking(app: App, db) -> None:  # type: ignore[no-untyped-def]
    rules = "积分规则：/已学 打卡 +1；测验每答对一题 +1；一次全部答对再 +2。每天各有上限。"
    private_note = "积分只有你自己能看到，用于自我激励，不作考核依据。"
    opt_in = "积分默认不公开。愿意出现在排行和每月的学习之星里，发送 /排行 公开。"
    steps = [
        (private_event(OTHER, "/积分"), "周六的学习积分：本月还没有积分。\n发送 /已学 打卡、私聊我发送 /答题 参加测验，都能获得积分。\n" + rules),
        (group_event(GROUP, WORKER, "/排行"), "2026年12月的排行里还没有人。" + opt_in),
        (group_event(GROUP, WORKER, "/已学"), "张三打卡成功：《安全生产测试材料》。积分 +1。\n私聊我发送 /答题 参加本期测验（共 3 题），答对还有积分。"),
        # Points are private: /积分 in the group is turned to private chat, the group sees none.
        (group_event(GROUP, WORKER, "/积分"), "/积分 请私聊我使用。"),
        (private_event(WORKER, "/积分"), "张三的学习积分：本月 1 分，累计 1 分。\n今天已得：学习打卡 1/2，答题 0/5，全对奖励 0/2。\n" + rules + "\n" + private_note),
        # Someone with points who has not opted in is not ranked.
        (private_event(OTHER, "/排行"), "2026年12月的排行里还没有人。" + opt_in),
        (private_event(WORKER, "/排行 公开"), "好的，你的学习积分会出现在 /排行 和每月的学习之星里。不想公开时，发送 /排行 不公开。"),
        (private_event(OTHER, "/排行"), "2026年12月学习积分排行（只列愿意公开的同事）：\n1. 张三 1 分\n" + opt_in),
        (private_event(WORKER, "/排行"), "2026年12月学习积分排行（只列愿意公开的同事）：\n1. 张三 1 分"),
        (private_event(WORKER, "/积分"), "张三的学习积分：本月 1 分（排行第 1 名），累计 1 分。\n今天已得：学习打卡 1/2，答题 0/5，全对奖励 0/2。\n" + rules + "\n" + private_note),
        (private_event(WORKER, "/排行 不公开"), "好的，你的学习积分不再公开，只有你自己能看到。"),
        (private_event(WORKER, "/排行 不公开"), "你的学习积分本来就没有公开，只有你自己能看到。"),
        (group_event(GROUP, OTHER, "/排行"), "2026年12月的排行里还没有人。" + opt_in),
        (private_event(WORKER, "/排行 第一"), "用法：/排行 查看本月排行；/排行 公开 或 /排行 不公开 选择是否上榜。"),
    ]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        for i, (event, answer) in enumerate(steps):
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, text(answer), result={"message_id": i + 1})


async def test_an_org_can_turn_the_ranking_off(app: App, db) -> None:  # type: ignore[no-untyped-def]
    from bot import runtime
    from bot.org import build_org
    from plugins.study import points

    old = runtime.org()
    runtime.set_org(build_org(old.source, old.spec.model_copy(update={"study": old.spec.study.model_copy(update={"ranking": False})})))
    try:
        off = "本单位没有开启积分排行。积分只有你自己能看到，发送 /积分 查看。"
        async with app.test_matcher() as ctx:
            bot = ctx.create_bot(base=Bot, self_id="10000")
            for i, said in enumerate(["/排行", "/排行 公开"]):
                event = private_event(WORKER, said)
                ctx.receive_event(bot, event)
                ctx.should_call_send(event, text(off), result={"message_id": i + 1})
        async with db() as s:
            await points.set_public(s, str(WORKER), True)
            await points.award(s, str(WORKER), "checkin", "m", clock.now())
            await s.commit()
            assert await points.ranking(s, clock.now().strftime("%Y-%m")) == []
        # No 学习之星 on the 1st either.
        first = datetime(NOW.year + (NOW.month == 12), NOW.month % 12 + 1, 1, 10, 30, tzinfo=clock.zone())
        await posting.monthly_ranking(first, runtime.org())
        async with db() as s:
            assert (await s.scalars(select(Outbox).where(Outbox.purpose == "study-star"))).all() == []
    finally:
        runtime.set_org(old)
    posting.forget()
    assert await posting.monthly_ranking(first, runtime.org()) > 0  # the same month, ranking on: posted


async def test_publish_is_for_cadres_shows_the_plan_and_sends_on_confirmation(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e1 = group_event(GROUP, WORKER, "/发布学习")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(e1, text("抱歉，/发布学习 只有政工干部可以使用。"), result={"message_id": 1})
    assert len(await queued(db)) == 0
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e2 = private_event(CADRE, "/发布学习 安全生产测试材料")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(
            e2,
            text("将把《安全生产测试材料》（2026年12月）发到 1 个群：质量科职工群\n确认发布请在 30 分钟内发送“/发布学习 确认”；不发就不用回复。"),
            result={"message_id": 2},
        )
    assert len(await queued(db)) == 0  # shown, not sent
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e3 = private_event(CADRE, "/发布学习 确认")
        ctx.receive_event(bot, e3)
        ctx.should_call_send(
            e3,
            text("《安全生产测试材料》：\n· 质量科职工群：已排队发送\n会逐个发送，群与群之间间隔几秒；发完后我会私聊告诉你每个群的结果。"),
            result={"message_id": 3},
        )
        e4 = private_event(CADRE, "/发布学习")
        ctx.receive_event(bot, e4)
        ctx.should_call_send(e4, text("《安全生产测试材料》各学习群都已经有了，不需要再发。\n不再发：质量科职工群（正在发送中，稍后就到）"), result={"message_id": 4})
        e5 = private_event(CADRE, "/发布学习 食品")
        ctx.receive_event(bot, e5)
        ctx.should_call_send(
            e5, text("没有找到标题含“食品”的学习材料。现有材料：《新年测试材料》《安全生产测试材料》《十一月测试材料》。"), result={"message_id": 5}
        )
    # Summary and full text for the one study group: queued, not sent by the handler.
    async with db() as s:
        rows = (await s.execute(select(Outbox.purpose, Outbox.target_id, Outbox.status).order_by(Outbox.id))).all()
    assert rows == [("study-publish", "40001", "pending"), ("study-publish-text", "40001", "pending")]


async def test_invisible_or_bidi_titles_are_read_as_what_is_visible(app: App, db) -> None:  # type: ignore[no-untyped-def]
    # Zero-width characters alone are no title (the current material, not "no material titled
    # ''"), and a bidi override typed with a title neither hides the material nor is echoed.
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e1 = group_event(GROUP, WORKER, "/学习 \u200b\ufeff")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(e1, text(SUMMARY_GROUP), result={"message_id": 1})
        e2 = group_event(GROUP, WORKER, "/学习 \u202e食品安全\u202c")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, text("没有找到标题含“食品安全”的学习材料。发送 /学习 查看本期材料。"), result={"message_id": 2})
        e3 = group_event(GROUP, WORKER, "/已学 \u2060")
        ctx.receive_event(bot, e3)
        ctx.should_call_send(
            e3,
            text("张三打卡成功：《安全生产测试材料》。积分 +1。\n私聊我发送 /答题 参加本期测验（共 3 题），答对还有积分。"),
            result={"message_id": 3},
        )
