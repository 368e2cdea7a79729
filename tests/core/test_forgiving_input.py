"""What people really type: "、" for "/", a command word without the slash in private chat,
a category's name in the guided /诉求, and one meaning for every answer of that flow."""

from __future__ import annotations

from sqlalchemy import select

from bot.dispatch import PRIVATE_HINT, dispatch
from plugins.concerns.models import Concern, ConcernDraft
from tests.helpers import RecordingBot, group_event, private_event

WORKER = 30001
GROUP = 40001


async def _say(text: str, group: int | None = None, user: int = WORKER) -> list[str]:
    bot = RecordingBot.make()
    await dispatch(bot, group_event(group, user, text) if group else private_event(user, text))
    return [str(m) for m in bot.sent_messages()]


async def test_a_chinese_comma_works_as_the_slash(db) -> None:  # type: ignore[no-untyped-def]
    assert await _say("、帮助") == await _say("/帮助")
    assert await _say("、帮助", GROUP) == await _say("/帮助", GROUP)
    assert (await _say("、积分"))[0] == (await _say("/积分"))[0]
    # Chat that merely starts with "、" is not a command: no "没有这个命令" answer in the group.
    assert await _say("、二、三都可以", GROUP) == []
    assert await _say("、学习很重要", GROUP) == []


async def test_a_command_word_without_slash_works_in_private_only(db) -> None:  # type: ignore[no-untyped-def]
    points = await _say("积分")
    assert points == await _say("/积分") and points != [PRIVATE_HINT]
    assert await _say("帮助") == await _say("/帮助")
    # In a group the same word is ordinary chat: no answer at all.
    bot = RecordingBot.make()
    await dispatch(bot, group_event(GROUP, WORKER, "积分"))
    assert [api for api, _ in bot.calls if api.startswith("send")] == []
    # A word that only starts like a command is text, not /建议.
    assert await _say("建议你们多开一个窗口") == [PRIVATE_HINT]


async def test_concern_without_slash_in_private(db) -> None:  # type: ignore[no-untyped-def]
    sent = await _say("诉求 夜班补贴一直没有发")
    assert sent[0].startswith("已收到你的诉求（工资福利）")
    async with db() as s:
        assert (await s.scalars(select(Concern.text))).all() == ["夜班补贴一直没有发"]


async def test_an_open_flow_takes_the_word_as_its_answer(db) -> None:  # type: ignore[no-untyped-def]
    await _say("/诉求")
    # "积分" while choosing a category is not /积分: the flow asks again.
    assert (await _say("积分"))[0].startswith("请回复 1 到 3 的序号或类别名称")


async def test_guided_flow_by_category_name_and_one_meaning_per_answer(db) -> None:  # type: ignore[no-untyped-def]
    menu = (await _say("/诉求"))[0]
    assert "回复序号或类别名称" in menu and "回复“取消”可以随时放弃" in menu and "回复 0" not in menu
    # "0" cancels nothing and chooses nothing.
    assert (await _say("0"))[0] == "请回复 1 到 3 的序号或类别名称选择类别。回复“取消”可以随时放弃。"
    assert "请写下你想反映的内容" in (await _say("食堂"))[0]
    async with db() as s:
        assert (await s.scalars(select(ConcernDraft.category))).all() == ["canteen"]
    disclose = (await _say("晚饭六点就收摊了"))[0]
    assert "1. 保持匿名（回复 1）" in disclose and "取消" in disclose and "回复 0" not in disclose
    assert (await _say("0"))[0] == "保持匿名请回复 1；愿意留下，请直接写部门或姓名。回复“取消”可以随时放弃。"
    confirm = (await _say("1"))[0]
    assert "类别：食堂后勤" in confirm and "署名：匿名" in confirm and confirm.endswith("回复 1 提交，回复“取消”放弃。")
    assert (await _say("0"))[0] == "回复 1 提交，回复“取消”放弃。"
    assert (await _say("取消"))[0] == "已取消，草稿已删除。需要时随时发送 /诉求。"
    async with db() as s:
        assert (await s.scalars(select(ConcernDraft))).all() == []
        assert (await s.scalars(select(Concern))).all() == []


async def test_category_names_numbers_and_keywords(db) -> None:  # type: ignore[no-untyped-def]
    from plugins.concerns.flow import pick_category

    assert pick_category("2") == "canteen"
    assert pick_category("食堂后勤") == "canteen"
    assert pick_category("工资") == "pay"  # part of the name
    assert pick_category("奖金") == "pay"  # a keyword of exactly one category
    assert pick_category("其他类") == "other"
    assert pick_category("9") is None and pick_category("0") is None and pick_category("天气") is None


async def test_cancel_works_while_choosing_to_stay_anonymous(db) -> None:  # type: ignore[no-untyped-def]
    await _say("/诉求")
    await _say("1")
    assert "是否愿意留下" in (await _say("补贴没发"))[0]
    assert (await _say("取消"))[0].startswith("已取消")
    async with db() as s:
        assert (await s.scalars(select(ConcernDraft))).all() == []
