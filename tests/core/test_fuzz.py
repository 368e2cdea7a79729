"""Random and hostile text into every command and the private/group hooks: never a crash,
never a traceback in chat, never live markup (an @all) built from user text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import registry
from bot.dispatch import dispatch
from tests.helpers import RecordingBot, group_event, private_event

HOSTILE = st.sampled_from(
    [
        "[CQ:at,qq=all]",
        "[CQ:image,file=http://evil/x.png]",
        "&#91;CQ:at,qq=all&#93;",
        "\x00\x1b[31m\u202e",
        "字" * 10_000,
        "😀" * 500,
        "ABCD-EFGH-JKLM",
        "1",
        "0",
        "#1 回复内容",
        "99999999999999999999",
        "-1",
        "<script>alert(1)</script>",
        "'; DROP TABLE outbox; --",
    ]
)
TEXT = st.one_of(HOSTILE, st.text(max_size=300), st.builds(lambda a, b: a + b, HOSTILE, st.text(max_size=50)))
USERS = [99999, 30001, 20002, 20003, 20000, 10001]


def check(bot) -> None:  # type: ignore[no-untyped-def]
    for message in bot.sent_messages():
        for seg in message:
            assert not (seg.type == "at" and str(seg.data.get("qq")) == "all"), message
            assert seg.type in {"text", "image"}, seg
        flat = str(message)
        assert "Traceback" not in flat and 'File "' not in flat


COMMANDS = sorted(registry.commands)


@pytest.mark.parametrize("name", COMMANDS)
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(args=TEXT, user=st.sampled_from(USERS), in_group=st.booleans())
async def test_commands_survive_any_text(name: str, args: str, user: int, in_group: bool, db) -> None:  # type: ignore[no-untyped-def]
    bot = RecordingBot.make()
    text = f"/{name} {args}"
    event = group_event(40001, user, text, reply_to=123) if in_group else private_event(user, text)
    await dispatch(bot, event)
    check(bot)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=TEXT, user=st.sampled_from(USERS), in_group=st.booleans())
async def test_plain_messages_survive_any_text(text: str, user: int, in_group: bool, db) -> None:  # type: ignore[no-untyped-def]
    bot = RecordingBot.make()
    event = group_event(40001, user, text) if in_group else private_event(user, text)
    await dispatch(bot, event)
    check(bot)
