"""What a command handler gets: who asked, where, the arguments, and a way to answer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from nonebot.adapters import Bot
from nonebot.adapters.onebot.v11 import GroupMessageEvent, MessageEvent

from bot.commands import Command, Scene
from bot.org import Org, Role
from bot.platform import Part, Port, Target, Text, port_for


@dataclass
class MessageCtx:
    bot: Bot
    event: MessageEvent
    text: str
    org: Org

    @cached_property
    def user_id(self) -> int:
        return int(self.event.user_id)

    @cached_property
    def group_id(self) -> int | None:
        return int(self.event.group_id) if isinstance(self.event, GroupMessageEvent) else None

    @property
    def scene(self) -> Scene:
        return "private" if self.group_id is None else "group"

    @cached_property
    def roles(self) -> frozenset[Role]:
        return self.org.roles_of(self.user_id, self.group_id)

    @cached_property
    def port(self) -> Port:
        return port_for(self.bot)

    @property
    def message_id(self) -> int:
        return int(self.event.message_id)

    @property
    def reply_to(self) -> int | None:
        """The message this one quotes (reply-based commands like /谣言)."""
        reply = getattr(self.event, "reply", None)
        return int(reply.message_id) if reply is not None else None

    async def reply(self, *lines: str) -> None:
        await self.port.reply(self.event, [Text("\n".join(lines))])

    async def reply_parts(self, parts: list[Part]) -> None:
        await self.port.reply(self.event, parts)

    async def tell(self, user_id: int, *lines: str) -> None:
        """A private message to someone else, sent now (not a broadcast: no outbox)."""
        await self.port.send(Target.private(user_id), [Text("\n".join(lines))])


@dataclass
class Ctx(MessageCtx):
    command: Command | None = None
    args: str = ""
