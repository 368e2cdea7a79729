"""Every privileged command × every role: refused with a short answer and no other API call,
or let through. Built from the registry, so commands added later are covered automatically."""

from __future__ import annotations

import pytest

from bot import runtime
from bot.commands import registry
from bot.dispatch import dispatch
from bot.org import Role
from tests.helpers import RecordingBot, group_event, private_event

# One person per role in tests/data/org.yaml (group 40001 for the group scene).
PEOPLE = {
    "stranger": 99999,
    "worker": 30001,
    "leader": 20004,
    "cadre": 20002,
    "moderator": 20003,
    "head": 20000,
    "superuser": 10001,
}


def cases() -> list[tuple[str, str, str]]:
    out = []
    for cmd in sorted(registry.commands.values(), key=lambda c: c.name):
        if not cmd.roles:
            continue
        for person in PEOPLE:
            for scene in sorted(cmd.scenes):
                out.append((cmd.name, person, scene))
    return out


@pytest.mark.parametrize(("name", "person", "scene"), cases())
async def test_privileged_commands_check_roles(name: str, person: str, scene: str, db) -> None:  # type: ignore[no-untyped-def]
    cmd = registry.commands[name]
    user = PEOPLE[person]
    group = 40001 if scene == "group" else None
    event = group_event(40001, user, f"/{name} 1") if group else private_event(user, f"/{name} 1")
    bot = RecordingBot.make()
    await dispatch(bot, event)
    allowed = runtime.org().has_role(user, cmd.roles, group)
    refusal = f"抱歉，/{name} 只有{cmd.role_names()}可以使用。"
    sent = [str(m) for m in bot.sent_messages()]
    if allowed:
        assert refusal not in sent
    else:
        assert sent == [refusal], (person, sent)
        assert [api for api, _ in bot.calls] == ["send_msg"]


def test_the_matrix_is_not_empty() -> None:
    names = {n for n, _, _ in cases()}
    assert {"状态", "待办", "受理", "回复", "办结", "转办"} <= names
    assert Role.cadre in registry.commands["状态"].roles
