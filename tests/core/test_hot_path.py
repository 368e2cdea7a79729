"""What every message pays for: one matcher, no per-run clean-up, no unneeded lookups."""

from __future__ import annotations

import re
from pathlib import Path

from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from bot.dispatch import UNREADABLE
from tests.helpers import group_event

ROOT = Path(__file__).resolve().parents[2]
USER = 30001


def _unreadable_private(user_id: int):  # type: ignore[no-untyped-def]
    from bot.platform import onebot_ingress as ingress

    payload = {
        "time": 1_700_000_000, "self_id": 10000, "post_type": "message", "message_type": "private",
        "sub_type": "friend", "message_id": 88, "user_id": user_id, "raw_message": "看不懂的内容",
        "message": [{"type": "text", "data": {"text": "看不懂的内容"}}],  # no font, no sender: unreadable
    }
    event = ingress.Adapter.json_to_event(payload)
    assert isinstance(event, ingress.UnreadableEvent)
    return event


async def test_one_matcher_sees_every_event(app: App) -> None:
    """NoneBot checks each matcher's rule in tasks of its own for every event: the bot keeps
    exactly one, which answers unreadable private messages as well."""
    from nonebot.matcher import matchers

    own = [m for ms in matchers.values() for m in ms if m.plugin_id is None or not m.plugin_id.startswith("nonebug")]
    assert len(own) == 1, own
    assert own[0].module_name == "bot.dispatch"


async def test_an_unreadable_private_message_is_answered_by_the_one_matcher(app: App) -> None:
    event = _unreadable_private(USER)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.receive_event(bot, event)
        ctx.should_call_api("send_private_msg", _PrivateText(USER, UNREADABLE), {"message_id": 5})
        # A group message the bot reads fine still costs no API call (nonebug fails on any).
        ctx.receive_event(bot, group_event(40001, USER, "今天食堂吃什么"))


class _PrivateText:
    """The call's data: to this user (the port may add the group it shares), with this text."""

    def __init__(self, user_id: int, text: str) -> None:
        self.user_id, self.text = user_id, text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and other.get("user_id") == self.user_id and str(other.get("message")) == self.text


async def test_nothing_runs_after_each_matcher(app: App) -> None:
    """NoneBot runs every run-postprocessor (with dependency injection, in tasks) after every
    matcher run: nonebot-plugin-orm's scoped-session clean-up cost a third of an ordinary group
    message. The bot's plain sessions need none; the schema upgrade adds none either."""
    import sys

    from nonebot import message

    from bot import db

    assert message._run_postprocessors == set()
    await db._upgrade()
    assert message._run_postprocessors == set()
    assert "nonebot_plugin_orm" not in sys.modules


def test_no_code_opens_a_scoped_session() -> None:
    """Nothing cleans up scoped sessions after a matcher run, so nothing may open one (they
    would pile up, one per event and matcher)."""
    pattern = re.compile(r"get_scoped_session|async_scoped_session")
    users = [
        p.relative_to(ROOT).as_posix()
        for folder in ("bot", "plugins")
        for p in (ROOT / folder).rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert users == []
