"""What a command handler gets: who asked, where, the arguments, and a way to answer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from nonebot.adapters import Bot

from bot.commands import Command, Scene
from bot.org import Org, Role
from bot.platform import Inbound, Part, Port, Target, Text, port_for


@dataclass
class MessageCtx:
    bot: Bot
    msg: Inbound
    text: str
    org: Org

    # ids helper turns these into str
    @cached_property
    def user_id(self) -> int:
        return int(self.msg.user_id)

    @cached_property
    def group_id(self) -> int | None:
        return int(self.msg.group_id) if self.msg.group_id is not None else None

    @property
    def scene(self) -> Scene:
        return "private" if self.msg.group_id is None else "group"

    @cached_property
    def roles(self) -> frozenset[Role]:
        return self.org.roles_of(self.user_id, self.group_id)

    @cached_property
    def port(self) -> Port:
        return port_for(self.bot)

    @cached_property
    def sender_name(self) -> str | None:
        """The org file's name, else the name the person goes by on the platform."""
        return self.org.name_of(self.user_id, self.msg.sender_name)

    @property
    def message_id(self) -> int:
        return int(self.msg.message_id)

    @property
    def reply_to(self) -> int | None:
        """The message this one quotes (reply-based commands like /谣言)."""
        quoted = self.msg.quoted
        if quoted is None or not (quoted.message_id.isascii() and quoted.message_id.isdigit()):
            return None  # a platform's id that is no number: none for now (ids helper)
        return int(quoted.message_id)

    async def reply(self, *lines: str) -> None:
        await self.port.reply(self.msg, [Text("\n".join(lines))])

    async def reply_parts(self, parts: list[Part]) -> None:
        await self.port.reply(self.msg, parts)

    async def tell(self, user_id: int, *lines: str) -> None:
        """A private message to someone else, sent now (not a broadcast: no outbox)."""
        await self.port.send(Target.private(user_id), [Text("\n".join(lines))])


@dataclass
class Ctx(MessageCtx):
    command: Command | None = None
    args: str = ""
