"""Logs never pair a user id with private-message text (DESIGN invariant 1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nonebot import logger
from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from bot.dispatch import PRIVATE_HINT
from tests.helpers import group_event, private_event, text

SECRET = "我的工资被拖欠了三个月想反映一下"
USER = 30001


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level=0, format="{name} | {message}")
    yield lines
    logger.remove(sink)


async def test_private_text_never_reaches_the_log(app: App, db, log_lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    event = private_event(USER, SECRET)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(PRIVATE_HINT), result={"message_id": 1})
    event_lines = [line for line in log_lines if f"Private message {event.message_id}" in line]
    assert event_lines, "the event log line itself should still be written, redacted"
    assert not [line for line in log_lines if SECRET[:6] in line]
    assert not any(str(USER) in line for line in event_lines)


async def test_group_message_log_line_carries_no_text(app: App, db, log_lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    from plugins.concerns import PRIVATE_ONLY

    event = group_event(40001, USER, "/诉求 " + SECRET)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(PRIVATE_ONLY), result={"message_id": 1})
        ctx.should_call_api("delete_msg", {"message_id": event.message_id}, result=None)
    assert not [line for line in log_lines if SECRET[:6] in line]


def test_adapter_builds_the_redacted_event_classes() -> None:
    from bot.privacy import GroupMessageEvent, PrivateMessageEvent

    assert isinstance(private_event(USER, SECRET), PrivateMessageEvent)
    assert isinstance(group_event(40001, USER, SECRET), GroupMessageEvent)
    assert SECRET not in private_event(USER, SECRET).get_log_string()
