"""/帮助 as each person reads it: short, their own commands first, topics after, and never a
command they cannot use."""

from __future__ import annotations

import re

import pytest

from bot import runtime
from bot.commands import registry
from bot.dispatch import dispatch
from bot.org import Role
from tests.helpers import RecordingBot, group_event, private_event

PEOPLE = {"worker": 30001, "leader": 20004, "cadre": 20002, "moderator": 20003, "superuser": 10001}
MOD_ONLY = {"确认", "驳回", "案件", "撤销", "维持", "防骗"}
MAX_LINES = 10


async def _ask(user: int, text: str, group: int | None = None) -> str:
    bot = RecordingBot.make()
    await dispatch(bot, group_event(group, user, text) if group else private_event(user, text))
    sent = [str(m) for m in bot.sent_messages()]
    assert len(sent) == 1, sent
    return sent[0]


def _commands_in(text: str) -> set[str]:
    return {m for m in re.findall(r"^/(\S+?)(?=[ （：]|$)", text, flags=re.M)} - {"帮助"}


def _may_use(person: str, name: str) -> bool:
    user = PEOPLE[person]
    cmd = registry.commands[name]
    org = runtime.org()
    roles = org.roles_of(user) | {r for g in org.groups for r in org.roles_of(user, g)}
    if name in MOD_ONLY:
        return bool(roles & {Role.moderator, Role.cadre, Role.superuser})
    return cmd.allowed(frozenset(roles))


async def test_worker_help_is_short_and_has_no_moderator_or_cadre_commands(db) -> None:  # type: ignore[no-untyped-def]
    text = await _ask(PEOPLE["worker"], "/帮助")
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES, text
    assert lines[0] == "我最常用的命令："
    assert {"诉求", "进度", "学习", "积分"} <= _commands_in(text)
    assert not _commands_in(text) & (MOD_ONLY | {"谣言", "状态", "待办", "发布学习", "月报"})
    assert lines[-1] == "想看更多，发送：/帮助 诉求、/帮助 学习、/帮助 关爱、/帮助 群管理"
    # The moderation topic for a worker: how to report and appeal, not how to decide cases.
    topic = await _ask(PEOPLE["worker"], "/帮助 群管理")
    assert _commands_in(topic) == {"举报", "申诉"}
    assert "没有" in await _ask(PEOPLE["worker"], "/帮助 报表")


@pytest.mark.parametrize("person", list(PEOPLE))
async def test_every_role_sees_only_what_it_can_use(person: str, db) -> None:  # type: ignore[no-untyped-def]
    main = await _ask(PEOPLE[person], "/帮助")
    assert len(main.splitlines()) <= MAX_LINES, main
    topics = re.findall(r"/帮助 (\S+?)(?:、|$)", main.splitlines()[-1])
    assert topics, main
    seen = _commands_in(main)
    for topic in topics:
        body = await _ask(PEOPLE[person], f"/帮助 {topic}")
        assert body.startswith(f"{topic}："), body
        seen |= _commands_in(body)
    assert seen
    refused = {n for n in seen if not _may_use(person, n)}
    assert not refused, (person, refused)
    # And what they can use is reachable from /帮助 (main list or a topic).
    usable = {n for n in registry.commands if n != "帮助" and _may_use(person, n)}
    assert usable == seen, (person, usable ^ seen)


async def test_role_first_commands(db) -> None:  # type: ignore[no-untyped-def]
    leader = (await _ask(PEOPLE["leader"], "/帮助")).splitlines()
    assert leader[1].startswith("/待办")
    cadre = (await _ask(PEOPLE["cadre"], "/帮助")).splitlines()
    assert cadre[1].startswith("/发布学习")
    assert "/帮助 报表" in cadre[-1]
    moderator = await _ask(PEOPLE["moderator"], "/帮助")
    assert moderator.splitlines()[1].startswith("/案件")
    su = await _ask(PEOPLE["superuser"], "/帮助")
    assert su.splitlines()[1].startswith("/状态") and "/帮助 系统" in su


async def test_group_moderator_sees_case_commands_in_private_too(db) -> None:  # type: ignore[no-untyped-def]
    from plugins.admin.data_source import help_roles

    org = runtime.org()
    roles = help_roles(org, "20003", frozenset())
    assert Role.moderator in roles  # 20003 moderates 40001 in tests/data/org.yaml
    assert Role.moderator not in help_roles(org, "30001", org.roles_of("30001"))


async def test_help_in_group_mentions_private_concerns(db) -> None:  # type: ignore[no-untyped-def]
    text = await _ask(PEOPLE["worker"], "/帮助", group=40001)
    assert text.endswith("反映诉求请私聊我，内容只有负责的领导能看到，且不会显示你是谁。")
    assert len(text.splitlines()) <= MAX_LINES


async def test_help_for_one_command(db) -> None:  # type: ignore[no-untyped-def]
    assert (await _ask(PEOPLE["worker"], "/帮助 补充")).startswith("/补充 <回执码> <内容>：")
    assert "没有" in await _ask(PEOPLE["worker"], "/帮助 状态")
