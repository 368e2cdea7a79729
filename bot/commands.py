"""The command registry.

Plugins register their commands here instead of creating one NoneBot matcher each: NoneBot
checks every matcher's rule for every event, so 30 `on_command` matchers make each ordinary
group message pay 30 checks. One dispatcher matcher (bot/dispatch.py) looks the command up in a
dict instead, and runs the group-message hooks (screening) once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.org import ROLE_NAMES, Role

if TYPE_CHECKING:
    from bot.context import Ctx, MessageCtx

Scene = Literal["private", "group"]
Handler = Callable[["Ctx"], Awaitable[None]]
# A hook returns True when it consumed the message (e.g. a step of a guided flow).
Hook = Callable[["MessageCtx"], Awaitable[bool]]

PREFIXES = ("/", "／", "、")
# A Chinese keyboard types "、" for "/"; it may also start ordinary chat, so after it only a
# known command word standing alone counts ("、帮助", not "、学习很重要" nor "、二、三").
SOFT_PREFIXES = ("、",)
MAX_NAME = 8


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    summary: str
    usage: str
    roles: frozenset[Role] = frozenset()
    scenes: frozenset[Scene] = frozenset({"private", "group"})
    order: int = 100

    def allowed(self, roles: frozenset[Role]) -> bool:
        return not self.roles or Role.superuser in roles or bool(self.roles & roles)

    def role_names(self) -> str:
        return "、".join(ROLE_NAMES[r] for r in sorted(self.roles, key=list(Role).index))


@dataclass
class Registry:
    commands: dict[str, Command] = field(default_factory=dict)
    group_hooks: list[Hook] = field(default_factory=list)
    private_hooks: list[Hook] = field(default_factory=list)

    def add(self, cmd: Command) -> None:
        if cmd.name in self.commands:
            raise ValueError(f"command /{cmd.name} registered twice")
        self.commands[cmd.name] = cmd

    def parse(self, text: str) -> tuple[Command | None, str, str] | None:
        """(command or None, name typed, args) for a command-looking text, else None."""
        if not text or text[0] not in PREFIXES:
            return None
        if text[0] in SOFT_PREFIXES:
            return self.parse_bare(text[1:])
        return self._parse_body(text[1:].lstrip())

    def parse_bare(self, text: str) -> tuple[Command, str, str] | None:
        """A known command word without the slash ("积分", "诉求 食堂太贵"): for private chat,
        where nothing else is expected. The word must stand alone, so "建议你们……" stays text."""
        body = text.strip()
        head = body.split(maxsplit=1)[0] if body else ""
        cmd = self.commands.get(head)
        if cmd is None:
            return None
        return cmd, head, body[len(head):].strip()

    def _parse_body(self, body: str) -> tuple[Command | None, str, str] | None:
        head, _, rest = body.partition(" ")
        head = head.split("\n", 1)[0]
        if not head:
            return None
        if head in self.commands:
            return self.commands[head], head, body[len(head):].strip()
        # "/诉求食堂太贵" without a space: the longest registered name that prefixes it.
        for n in range(min(len(head), MAX_NAME), 0, -1):
            cmd = self.commands.get(head[:n])
            if cmd is not None:
                return cmd, head[:n], body[n:].strip()
        return None, head, rest.strip()

    def visible_to(self, roles: frozenset[Role]) -> list[Command]:
        return sorted((c for c in self.commands.values() if c.allowed(roles)), key=lambda c: (c.order, c.name))


registry = Registry()


def command(
    name: str,
    *,
    summary: str,
    usage: str | None = None,
    roles: Iterable[Role] = (),
    private: bool = True,
    group: bool = True,
    order: int = 100,
) -> Callable[[Handler], Handler]:
    """Register a handler for `/name`. `roles` empty means anyone may use it."""
    scenes: set[Scene] = set()
    if private:
        scenes.add("private")
    if group:
        scenes.add("group")

    def deco(fn: Handler) -> Handler:
        registry.add(
            Command(
                name=name,
                handler=fn,
                summary=summary,
                usage=usage or f"/{name}",
                roles=frozenset(roles),
                scenes=frozenset(scenes),
                order=order,
            )
        )
        return fn

    return deco


def on_group_message(fn: Hook) -> Hook:
    """Run for every ordinary (non-command) group message: keep it cheap."""
    registry.group_hooks.append(fn)
    return fn


def on_private_message(fn: Hook) -> Hook:
    """Run for private non-command messages, until one hook consumes the message."""
    registry.private_hooks.append(fn)
    return fn
