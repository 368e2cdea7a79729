"""Living beside other NoneBot plugins: what their matchers claim, so dispatch stays quiet there.

Only read on rare paths (an unknown command, private text nothing of ours consumed): an ordinary
group message never comes here.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

from nonebot import get_driver, get_loaded_plugins, logger
from nonebot.adapters import Bot, Event
from nonebot.matcher import Matcher, matchers
from nonebot.rule import CommandRule, TrieRule
from nonebot.typing import T_State

_claimed: frozenset[str] = frozenset()
_key: tuple[int, int] | None = None


def _others() -> list[type[Matcher]]:
    return [m for ms in matchers.values() for m in ms if m.module_name != "bot.dispatch"]


def claimed_commands() -> frozenset[str]:
    """Command names other plugins' on_command (or command rules) claim, e.g. "天气", "天气.今天".
    Cached; found again when a plugin was loaded or a matcher added since."""
    global _claimed, _key
    key = (len(get_loaded_plugins()), sum(len(ms) for ms in matchers.values()))
    if key != _key:
        seps = tuple(get_driver().config.command_sep) or (".",)
        names: set[str] = set()
        for m in _others():
            for dep in m.rule.checkers:
                if isinstance(dep.call, CommandRule):
                    names.update(seps[0].join(cmd) for cmd in dep.call.cmds if cmd)
        _claimed, _key = frozenset(names), key
    return _claimed


def claims_command(name: str) -> bool:
    """Whether another plugin answers "/name" (NoneBot matches a command as a prefix, too)."""
    return any(name.startswith(c) for c in claimed_commands())


async def handled_elsewhere(bot: Bot, event: Event) -> bool:
    """Whether another plugin's matcher takes this event (its permission and rule accept it)."""
    others = [m for m in _others() if m.type in ("", "message")]
    if not others:
        return False
    state: T_State = {}
    TrieRule.get_value(bot, event, state)  # the command prefix NoneBot's rules read
    async with AsyncExitStack() as stack:
        for m in others:
            try:
                if await m.check_perm(bot, event, stack) and await m.check_rule(bot, event, dict(state), stack):
                    return True
            except Exception as e:  # noqa: BLE001 - a rule's own failure is not ours to answer
                logger.warning(f"checking {m.plugin_id}'s matcher failed: {type(e).__name__}")
    return False
