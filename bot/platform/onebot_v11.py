"""OneBot v11 (NapCat, Lagrange, LLOneBot…) implementation of the platform port.

User text is always sent as a text segment, never parsed as a CQ-code string: a relayed
"[CQ:at,qq=all]" must arrive as those characters, not as live markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nonebot.adapters import Event
from nonebot.compat import type_validate_python
from nonebot.adapters.onebot.v11 import ActionFailed, Bot, Message, MessageSegment, NetworkError
from nonebot.exception import ApiNotAvailable

from bot.platform import (
    Forward,
    Image,
    Mention,
    NotConnected,
    Part,
    Quote,
    SendFailed,
    SendUnknown,
    Target,
    Text,
    register,
)

BOT_NAME = "连心"


def to_message(parts: Sequence[Part]) -> Message:
    msg = Message()
    for p in parts:
        match p:
            case Text(t):
                msg.append(MessageSegment.text(t))
            case Image(data):
                msg.append(MessageSegment.image(data))
            case Mention(uid):
                msg.append(MessageSegment.at(uid))
            case Quote(mid):
                msg.append(MessageSegment.reply(int(mid)))
            case Forward(nodes):
                # Inline fallback when a forward part is mixed with others.
                msg.append(MessageSegment.text("\n\n".join(nodes)))
    return msg


class OneBotV11Port:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.bot_id = bot.self_id

    async def _call(self, api: str, **data: Any) -> Any:
        try:
            return await self.bot.call_api(api, **data)
        except ActionFailed as e:
            raise SendFailed(f"{api}: {e.info.get('retcode')} {e.info.get('wording') or e.info.get('msg')}") from e
        except NetworkError as e:
            raise SendUnknown(f"{api}: {e}") from e
        except ApiNotAvailable as e:
            raise NotConnected(self.bot_id) from e

    async def send(self, target: Target, parts: Sequence[Part]) -> str | None:
        forwards = [p for p in parts if isinstance(p, Forward)]
        if len(forwards) == 1 and len(parts) == 1:
            return await self._send_forward(target, forwards[0])
        message = to_message(parts)
        if target.kind == "group":
            result = await self._call("send_group_msg", group_id=int(target.id), message=message)
        else:
            result = await self._call("send_private_msg", user_id=int(target.id), message=message)
        return _message_id(result)

    async def _send_forward(self, target: Target, forward: Forward) -> str | None:
        nodes = [
            {"type": "node", "data": {"name": BOT_NAME, "uin": self.bot_id, "content": [{"type": "text", "data": {"text": n}}]}}
            for n in forward.nodes
        ]
        if target.kind == "group":
            result = await self._call("send_group_forward_msg", group_id=int(target.id), messages=nodes)
        else:
            result = await self._call("send_private_forward_msg", user_id=int(target.id), messages=nodes)
        return _message_id(result)

    async def reply(self, event: Event, parts: Sequence[Part]) -> str | None:
        try:
            result = await self.bot.send(event, to_message(parts))  # type: ignore[arg-type]
        except ActionFailed as e:
            raise SendFailed(str(e.info.get("retcode"))) from e
        except NetworkError as e:
            raise SendUnknown(str(e)) from e
        return _message_id(result)

    async def recall(self, message_id: str) -> bool:
        try:
            await self._call("delete_msg", message_id=int(message_id))
        except SendFailed:
            return False
        return True

    async def mute(self, group_id: str, user_id: str, seconds: int) -> None:
        await self._call("set_group_ban", group_id=int(group_id), user_id=int(user_id), duration=seconds)

    async def send_file(self, target: Target, name: str, data: bytes) -> None:
        """NapCat's upload_private_file / upload_group_file with the bytes inline as base64://
        (the bot and NapCat need not share a file system). Implementations without these
        actions answer "unsupported" (SendFailed), and callers fall back to text."""
        import base64

        file = "base64://" + base64.b64encode(data).decode()
        if target.kind == "group":
            await self._call("upload_group_file", group_id=int(target.id), file=file, name=name)
        else:
            await self._call("upload_private_file", user_id=int(target.id), file=file, name=name)

    async def members(self, group_id: str) -> list[str]:
        result = await self._call("get_group_member_list", group_id=int(group_id))
        return [str(m["user_id"]) for m in result or [] if isinstance(m, dict) and "user_id" in m]

    async def get_message(self, message_id: str) -> tuple[int, str] | None:
        """`get_msg`: the quoted message of a reply-based command. None when the
        implementation no longer has it (old, recalled) or answers something malformed."""
        try:
            result = await self._call("get_msg", message_id=int(message_id))
        except (SendFailed, SendUnknown, NotConnected, ValueError):
            return None
        if not isinstance(result, dict):
            return None
        sender = result.get("sender") if isinstance(result.get("sender"), dict) else {}
        user_id = sender.get("user_id", result.get("user_id"))
        try:
            author = int(user_id)
            # "message" is a segment array or a CQ-code string, depending on the implementation.
            raw = result.get("message") or result.get("raw_message") or ""
            text = type_validate_python(Message, raw).extract_plain_text()
        except (TypeError, ValueError):  # pydantic's ValidationError is a ValueError
            return None
        return author, text


def _message_id(result: Any) -> str | None:
    if isinstance(result, dict) and result.get("message_id") is not None:
        return str(result["message_id"])
    return None


register(Bot, OneBotV11Port)  # type: ignore[arg-type]
