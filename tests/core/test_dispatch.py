"""The dispatcher and /帮助, /状态 through NoneBot, as a person in chat would see them."""

from __future__ import annotations

import pytest
from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from bot.commands import Command, registry
from bot.dispatch import PRIVATE_HINT, SORRY
from bot.org import Role
from tests.helpers import group_event, private_event, text

WORKER, CADRE, SUPERUSER = 30001, 20002, 10001


@pytest.fixture
def extra_commands():  # type: ignore[no-untyped-def]
    """Temporary commands for scene and failure paths, removed afterwards."""
    added: list[str] = []

    def add(name: str, handler, **kw) -> None:  # type: ignore[no-untyped-def]
        registry.add(Command(name=name, handler=handler, summary="测试", usage=f"/{name}", **kw))
        added.append(name)

    yield add
    for name in added:
        registry.commands.pop(name, None)


async def test_help_in_private_lists_what_a_worker_may_use(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = private_event(WORKER, "/帮助")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(_help_for(frozenset(), "private")), result={"message_id": 1})


async def test_help_for_a_cadre_includes_status(app: App, db) -> None:  # type: ignore[no-untyped-def]
    from plugins.admin.data_source import help_text

    assert "/状态" in help_text(frozenset({Role.cadre}), "private")
    assert "/状态" not in help_text(frozenset({Role.worker}), "group")
    event = private_event(CADRE, "/帮助")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(help_text(frozenset({Role.leader, Role.cadre}), "private")), result={"message_id": 1})


async def test_help_in_group_points_concerns_to_private_chat(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = group_event(40001, WORKER, "/帮助")
    expected = _help_for(frozenset({Role.worker}), "group")
    assert "请私聊我" in expected
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(expected), result={"message_id": 1})


async def test_status_is_refused_to_a_worker(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = private_event(WORKER, "/状态")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text("抱歉，/状态 只有政工干部可以使用。"), result={"message_id": 1})


async def test_status_for_a_superuser(app: App, db) -> None:  # type: ignore[no-untyped-def]
    from bot.outbox import Item, enqueue
    from bot.platform import Target, Text

    await enqueue("test", "p", [Item(Target.group(40001), [Text("x")])])
    event = private_event(SUPERUSER, "/状态")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, _StatusLike(), result={"message_id": 1})


class _StatusLike:
    """Matches the /状态 answer: connected, database reachable, one queued send being sent."""

    def __eq__(self, other: object) -> bool:
        s = str(other)
        return (
            s.startswith("连心运行情况") and "QQ：已连上（账号 10000）。" in s and "数据库：正常。" in s
            and "等待发送：1 条，正在一条条发出" in s
        )


async def test_unknown_command_gets_a_short_answer(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = private_event(WORKER, "/不存在的命令 参数")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text("没有 /不存在的命令 这个命令。发送 /帮助 查看可用的命令。"), result={"message_id": 1})


async def test_plain_private_text_gets_a_hint_and_group_chat_gets_nothing(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        event = private_event(WORKER, "你好")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(PRIVATE_HINT), result={"message_id": 1})
        ctx.receive_event(bot, group_event(40001, WORKER, "今天食堂吃什么"))
        # nonebug fails on any unexpected API call: the group message must cause none.


async def test_scene_and_failure_paths(app: App, db, extra_commands) -> None:  # type: ignore[no-untyped-def]
    async def boom(ctx) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("secret text 123")

    async def ok(ctx) -> None:  # type: ignore[no-untyped-def]
        await ctx.reply(f"收到：{ctx.args}")

    extra_commands("私聊专用", ok, scenes=frozenset({"private"}))
    extra_commands("会出错", boom)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        e1 = group_event(40001, WORKER, "/私聊专用 内容")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(e1, text("/私聊专用 请私聊我使用。"), result={"message_id": 1})
        e2 = private_event(WORKER, "/私聊专用内容连写")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, text("收到：内容连写"), result={"message_id": 2})
        e3 = private_event(WORKER, "/会出错")
        ctx.receive_event(bot, e3)
        ctx.should_call_send(e3, text(SORRY), result={"message_id": 3})


async def test_cq_codes_in_user_text_are_never_sent_as_markup(app: App, db, extra_commands) -> None:  # type: ignore[no-untyped-def]
    async def echo(ctx) -> None:  # type: ignore[no-untyped-def]
        await ctx.reply(ctx.args)

    extra_commands("复述", echo)
    event = group_event(40001, WORKER, "/复述 [CQ:at,qq=all] 大家看")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        # One text segment holding the literal characters, no "at" segment.
        ctx.should_call_send(event, _OnlyText("[CQ:at,qq=all] 大家看"), result={"message_id": 1})


class _OnlyText:
    def __init__(self, expected: str) -> None:
        self.expected = expected

    def __eq__(self, other: object) -> bool:
        segments = list(other)  # type: ignore[call-overload]
        return [s.type for s in segments] == ["text"] and segments[0].data["text"] == self.expected


def _help_for(roles, scene) -> str:  # type: ignore[no-untyped-def]
    from plugins.admin.data_source import help_text

    return help_text(roles, scene)


@pytest.fixture
def log_lines():  # type: ignore[no-untyped-def]
    from nonebot import logger

    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level=0, format="{name} | {message}")
    yield lines
    logger.remove(sink)


async def test_a_refusal_is_answered_once_with_its_text_and_never_logged(app: App, db, extra_commands, log_lines) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    from bot.errors import Refusal, when_not_saved

    async def refuse(ctx) -> None:  # type: ignore[no-untyped-def]
        raise Refusal(f"没有找到“{ctx.args}”，请核对后再试。")

    @when_not_saved("抱歉，这次没有保存。")
    async def broken(ctx) -> None:  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT INTO t VALUES (?)", {"text": ctx.args}, Exception("database is locked"))

    async def hook(ctx) -> bool:  # type: ignore[no-untyped-def]
        if ctx.text.startswith("拒绝"):
            raise Refusal(f"这一步不能写“{ctx.text}”。")
        return False

    extra_commands("拒绝", refuse)
    extra_commands("存不上", broken)
    registry.private_hooks.append(hook)
    try:
        async with app.test_matcher() as ctx:
            bot = ctx.create_bot(base=Bot, self_id="10000")
            e1 = private_event(WORKER, "/拒绝 我的秘密诉求")
            ctx.receive_event(bot, e1)
            # Once, and no apology after it (nonebug fails on any call not expected).
            ctx.should_call_send(e1, text("没有找到“我的秘密诉求”，请核对后再试。"), result={"message_id": 1})
            e2 = group_event(40001, WORKER, "/存不上 群里的秘密")
            ctx.receive_event(bot, e2)
            ctx.should_call_send(e2, text("抱歉，这次没有保存。"), result={"message_id": 2})
            e3 = private_event(WORKER, "拒绝 私聊的秘密")
            ctx.receive_event(bot, e3)
            # The hook's refusal consumed the message: no hint after it.
            ctx.should_call_send(e3, text("这一步不能写“拒绝 私聊的秘密”。"), result={"message_id": 3})
    finally:
        registry.private_hooks.remove(hook)
    logged = "\n".join(log_lines)
    assert "秘密" not in logged and "没有找到" not in logged and "不能写" not in logged
    assert "Refusal" not in logged
    assert "存不上 failed in group chat: OperationalError" in logged  # the database failure, by class name
    assert SORRY not in logged


@pytest.fixture
def weather_plugin():  # type: ignore[no-untyped-def]
    """A real second plugin loaded into the app; its matchers go again afterwards (the bot's
    own hot path keeps exactly one matcher, tests/core/test_hot_path.py)."""
    import nonebot
    from nonebot.matcher import matchers

    from bot import citizen

    plugin = nonebot.get_plugin("weather") or nonebot.load_plugin("tests.fake_plugins.weather")
    assert plugin is not None
    added = [m for m in plugin.matcher if m not in matchers.get(m.priority, [])]
    for m in added:
        matchers[m.priority].append(m)
    from tests.fake_plugins import weather

    yield weather
    for m in plugin.matcher:
        if m in matchers.get(m.priority, []):
            matchers[m.priority].remove(m)
    assert "天气" not in citizen.claimed_commands()


async def test_another_plugins_command_gets_only_its_answer(app: App, db, weather_plugin) -> None:  # type: ignore[no-untyped-def]
    for event in (private_event(WORKER, "/天气"), group_event(40001, WORKER, "/天气 北京")):
        async with app.test_matcher() as ctx:
            bot = ctx.create_bot(base=Bot, self_id="10000")
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, weather_plugin.WEATHER, result={"message_id": 1})
            # nonebug fails on any further call: no "没有 /天气 这个命令".


async def test_an_unknown_command_is_still_answered_beside_another_plugin(app: App, db, weather_plugin) -> None:  # type: ignore[no-untyped-def]
    event = private_event(WORKER, "/天器")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text("没有 /天器 这个命令。发送 /帮助 查看可用的命令。"), result={"message_id": 1})


async def test_private_text_another_plugin_handles_gets_no_greeting(app: App, db, weather_plugin) -> None:  # type: ignore[no-untyped-def]
    event = private_event(WORKER, "我的快递到了吗")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, weather_plugin.PARCELS, result={"message_id": 1})


async def test_private_text_nothing_handles_still_gets_the_greeting(app: App, db, weather_plugin) -> None:  # type: ignore[no-untyped-def]
    event = private_event(WORKER, "你好呀")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(PRIVATE_HINT), result={"message_id": 1})
