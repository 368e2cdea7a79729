"""What a command handler gets: who asked, where, the arguments, and a way to answer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from nonebot.adapters import Bot

from bot.commands import Command, Scene
from bot.org import Org, Role
from bot.platform import Inbound, Part, Port, Text, port_for, send_private


@dataclass
class MessageCtx:
    bot: Bot
    msg: Inbound
    text: str
    org: Org

    @cached_property
    def user_id(self) -> str:
        """The sender's person id (their QQ number, or Feishu id if they have no QQ): the same
        whichever platform they write from. `msg.user_id` is the account on this platform."""
        return self.org.person_of(self.msg.user_id)

    @property
    def group_id(self) -> str | None:
        return self.msg.group_id

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
    def message_id(self) -> str:
        return self.msg.message_id

    @property
    def reply_to(self) -> str | None:
        """The message this one quotes (reply-based commands like /谣言)."""
        quoted = self.msg.quoted
        return quoted.message_id if quoted is not None and quoted.message_id else None

    async def reply(self, *lines: str) -> None:
        await self.port.reply(self.msg, [Text("\n".join(lines))])

    async def reply_parts(self, parts: list[Part]) -> None:
        await self.port.reply(self.msg, parts)

    async def tell(self, user_id: str, *lines: str) -> None:
        """A private message to someone else, sent now (not a broadcast: no outbox): on this
        platform if they are on it, else on theirs."""
        await send_private(user_id, [Text("\n".join(lines))], via=self.port)


@dataclass
class Ctx(MessageCtx):
    command: Command | None = None
    args: str = ""
