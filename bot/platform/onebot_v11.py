"""OneBot v11 (NapCat, Lagrange, LLOneBot…) implementation of the platform port.

User text is always sent as a text segment, never parsed as a CQ-code string: a relayed
"[CQ:at,qq=all]" must arrive as those characters, not as live markup. Messages in become
`Inbound` (see `inbound`); bot.platform.onebot_ingress reads and redacts the raw events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from nonebot import logger
from nonebot.adapters import Bot as BaseBot
from nonebot.adapters import Event
from nonebot.adapters.onebot.v11 import ActionFailed, Bot, Message, MessageEvent, MessageSegment, NetworkError
from nonebot.compat import type_validate_python
from nonebot.exception import ApiNotAvailable

from bot.platform import (
    Capabilities,
    capabilities_of,
    Forward,
    Image,
    Inbound,
    Mention,
    NotConnected,
    Part,
    Quote,
    Quoted,
    Recall,
    SendFailed,
    SendUnknown,
    Target,
    Text,
    display_name,
    pages,
    note_members,
    register,
    register_inbound,
    shared_group,
)
from bot.platform.onebot_ingress import Adapter, UnreadableEvent

__all__ = ["ADAPTER", "OneBotV11Port", "inbound"]

# The adapter class to register with the driver (the stock one, read leniently and redacted).
ADAPTER = Adapter

BOT_NAME = "连心"

# Actions that put something into a chat: a failure of these may still have been delivered.
SEND_APIS = frozenset({
    "send_msg", "send_group_msg", "send_private_msg", "send_group_forward_msg",
    "send_private_forward_msg", "upload_group_file", "upload_private_file",
})


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


def named(parts: Sequence[Part]) -> list[Part]:
    """Mentions written as "@name" (or left out when no name is known): NapCat drops an @ in a
    private chat silently, and an @ of an id it cannot resolve fails the whole send."""
    out: list[Part] = []
    for p in parts:
        if isinstance(p, Mention):
            name = p.name or display_name(p.user_id)
            if name:
                out.append(Text(f"@{name}"))
        else:
            out.append(p)
    return out


def _answer_text(info: Any) -> str:
    if not isinstance(info, dict):
        return ""
    return " ".join(str(info.get(k) or "") for k in ("message", "wording", "msg"))


def maybe_delivered(info: Any) -> bool:
    """NapCat's answers that do not mean "not sent": it gave up waiting for QQ (10 s,
    "Timeout: NTEvent…"), or a packet-mode forward swallowed the inner error."""
    text = _answer_text(info)
    return any(w.startswith("Timeout") for w in text.split()) or ("发送转发消息" in text and "失败" in text)


def _unknown_id(e: Exception) -> bool:
    return "Get Uid Error" in _answer_text(getattr(e.__cause__, "info", None))


# NapCat does all of these (recall only as admin, within QQ's time limit; see NAPCAT.md).
CAPABILITIES = Capabilities()


class OneBotV11Port:
    capabilities = CAPABILITIES
    platform = "qq"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.bot_id = bot.self_id
        self.capabilities = capabilities_of(bot)  # what was registered for this Bot class

    async def _guard(self, api: str, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except ActionFailed as e:
            what = f"{api}: {e.info.get('retcode')} {e.info.get('wording') or e.info.get('message') or e.info.get('msg')}"
            if api in SEND_APIS and maybe_delivered(e.info):
                raise SendUnknown(what) from e
            raise SendFailed(what) from e
        except NetworkError as e:
            raise SendUnknown(f"{api}: {e}") from e
        except ApiNotAvailable as e:
            raise NotConnected(self.bot_id) from e

    async def _call(self, api: str, **data: Any) -> Any:
        return await self._guard(api, self.bot.call_api(api, **data))

    async def _mentions_retried(
        self, api: str, parts: Sequence[Part], send: Callable[[Sequence[Part]], Awaitable[Any]]
    ) -> Any:
        """Send; when an @ names an id the platform cannot resolve (a typo in the org file),
        send once more with names instead, so the greeting or digest still arrives."""
        try:
            return await self._guard(api, send(parts))
        except SendFailed as e:
            if not (_unknown_id(e) and any(isinstance(p, Mention) for p in parts)):
                raise
            logger.warning(f"{api}: the platform does not know an @-mentioned id (check the org file); sent with names")
            return await self._guard(api, send(named(parts)))

    def _private(self, user_id: str) -> dict[str, int]:
        """The `group_id` NapCat needs to reach a non-friend (a group temporary chat); for a
        friend NapCat ignores it."""
        gid = shared_group(user_id)
        if gid is not None:
            return {"group_id": int(gid)}
        # No id here: the line may sit beside a relay or a notice to this person.
        logger.warning("private send to someone in no known group: it arrives only if they added the bot as a friend (see /状态)")
        return {}

    async def send(self, target: Target, parts: Sequence[Part], *, key: str | None = None) -> str | None:
        # `key` is ignored: OneBot v11 has no idempotent send.
        forwards = [p for p in parts if isinstance(p, Forward)]
        if len(forwards) == 1 and len(parts) == 1:
            if not self.capabilities.merged_forward:
                sent = None
                for page in pages(forwards[0]):
                    sent = await self.send(target, [Text(page)])
                return sent
            return await self._send_forward(target, forwards[0])
        if target.kind == "group":
            gid = int(target.id)

            def to_group(ps: Sequence[Part]) -> Awaitable[Any]:
                return self.bot.call_api("send_group_msg", group_id=gid, message=to_message(ps))

            result = await self._mentions_retried("send_group_msg", parts, to_group)
        else:
            extra = self._private(target.id)
            result = await self._call("send_private_msg", user_id=int(target.id), **extra, message=to_message(named(parts)))
        return _message_id(result)

    async def _send_forward(self, target: Target, forward: Forward) -> str | None:
        nodes = [
            {"type": "node", "data": {"name": BOT_NAME, "uin": self.bot_id, "content": [{"type": "text", "data": {"text": n}}]}}
            for n in forward.nodes
        ]
        if target.kind == "group":
            result = await self._call("send_group_forward_msg", group_id=int(target.id), messages=nodes)
        else:
            extra = self._private(target.id)
            result = await self._call("send_private_forward_msg", user_id=int(target.id), **extra, messages=nodes)
        return _message_id(result)

    async def reply(self, msg: Inbound, parts: Sequence[Part]) -> str | None:
        event = msg.raw
        if not isinstance(event, Event):  # not built here from an event: answer by its ids
            target = Target.private(msg.user_id) if msg.group_id is None else Target.group(msg.group_id)
            return await self.send(target, parts)
        extra: dict[str, int] = {}
        if msg.group_id is None:
            parts = named(parts)
            # A temporary-chat event carries its group; add one if it does not.
            if getattr(event, "group_id", None) is None and getattr(event, "sub_type", None) != "friend":
                gid = shared_group(msg.user_id)
                extra = {"group_id": int(gid)} if gid is not None else {}

        def answer(ps: Sequence[Part]) -> Awaitable[Any]:
            return self.bot.send(event, to_message(ps), **extra)  # type: ignore[arg-type]

        return _message_id(await self._mentions_retried("send_msg", parts, answer))

    async def recall(self, message_id: str, *, group_id: str | None = None, author_id: str | None = None) -> Recall:
        """`delete_msg`, classified from NapCat's answers (../shared/NAPCAT.md): an id no longer in
        its in-memory table (old, or NapCat restarted) fails with "Recall failed". QQ's
        confirmation is awaited 1 s only, and a recall QQ refuses (the bot is no admin, or the
        author is the owner or an admin) is answered the same way: so, given the group, a
        timeout is checked against the roles before it is called a refusal."""
        try:
            await self.bot.call_api("delete_msg", message_id=int(message_id))
        except ActionFailed as e:
            outcome = _recall_failure(f"{e.info.get('message') or ''} {e.info.get('wording') or ''} {e.info.get('msg') or ''}")
        except (NetworkError, ApiNotAvailable, ValueError):
            return Recall.UNKNOWN
        else:
            # NapCat answers ok once QQ reported the message recalled (recallTime set).
            return Recall.RECALLED
        if outcome is Recall.UNKNOWN and group_id is not None and not await self._may_recall(group_id, author_id):
            return Recall.NOT_PERMITTED
        return outcome

    async def _may_recall(self, group_id: str, author_id: str | None) -> bool:
        """Whether QQ lets the bot recall the author's message in the group (True when unsure)."""
        if author_id == self.bot_id:
            return True  # its own message: no role needed
        mine = await self._role(group_id, self.bot_id)
        if mine is None or mine == "owner":
            return True
        if mine != "admin":
            return False  # a member recalls only its own messages
        # An admin cannot recall the owner's or another admin's message.
        return author_id is None or await self._role(group_id, author_id) not in ("owner", "admin")

    async def _role(self, group_id: str, user_id: str) -> str | None:
        try:
            info = await self.bot.call_api("get_group_member_info", group_id=int(group_id), user_id=int(user_id), no_cache=True)
        except (ActionFailed, NetworkError, ApiNotAvailable, ValueError):
            return None
        role = info.get("role") if isinstance(info, dict) else None
        return role if isinstance(role, str) else None

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
            extra = self._private(target.id)
            await self._call("upload_private_file", user_id=int(target.id), **extra, file=file, name=name)

    async def members(self, group_id: str) -> list[str]:
        result = await self._call("get_group_member_list", group_id=int(group_id))
        ids = [str(m["user_id"]) for m in result or [] if isinstance(m, dict) and "user_id" in m]
        note_members(group_id, ids)
        return ids

    async def get_message(self, message_id: str) -> tuple[str, str] | None:
        """`get_msg`: the quoted message of a reply-based command. None when the
        implementation no longer has it (old, recalled) or answers something malformed."""
        try:
            result = await self._call("get_msg", message_id=int(message_id))
        except (SendFailed, SendUnknown, NotConnected, ValueError):
            return None
        if not isinstance(result, dict):
            return None
        sender = result.get("sender")
        user_id = (sender if isinstance(sender, dict) else {}).get("user_id", result.get("user_id"))
        try:
            author = int(user_id)  # type: ignore[arg-type]  # None and junk raise, caught below
            # "message" is a segment array or a CQ-code string, depending on the implementation.
            raw = result.get("message") or result.get("raw_message") or ""
            text = type_validate_python(Message, raw).extract_plain_text()
        except (TypeError, ValueError):  # pydantic's ValidationError is a ValueError
            return None
        return str(author), text


def _recall_failure(message: str) -> Recall:
    lowered = message.lower()
    if "timeout" in lowered:
        return Recall.UNKNOWN
    if "recall failed" in lowered or "not found" in lowered or "不存在" in message:
        return Recall.GONE
    return Recall.NOT_PERMITTED


def _message_id(result: Any) -> str | None:
    if isinstance(result, dict) and result.get("message_id") is not None:
        return str(result["message_id"])
    return None


# --- messages in ------------------------------------------------------------------------

# Segments that carry no content of their own (an emoji face is part of the text).
_PLAIN = frozenset({"text", "face", "at", "reply"})


def inbound(bot: BaseBot, event: Event) -> Inbound | None:
    """A v11 message event as an `Inbound`: one pass over its segments, nothing fetched.

    The adapter has already taken an @ of the bot off the start or end of `message` (and set
    `to_me`), and, when `get_msg` answered, the reply segment and the @ of the quoted author a
    QQ client puts after it (into `event.reply`). Mentions come from `original_message`, so an
    @ of the bot still counts, but without that automatic @ of the quoted author."""
    if not isinstance(event, MessageEvent):
        return None
    reply = event.reply
    author = reply.sender.user_id if reply is not None else None
    author_id = str(author) if author is not None else None
    mentions: list[str] = []
    reply_id: str | None = None
    attachments = False
    previous = ""
    for seg in event.original_message:
        kind = seg.type
        if kind == "at":
            qq = str(seg.data.get("qq") or "")
            if qq and not (previous == "reply" and qq == author_id):
                mentions.append(qq)
        elif kind == "reply":
            if reply_id is None:
                reply_id = str(seg.data.get("id") or "") or None
        elif kind not in _PLAIN:
            attachments = True
        previous = kind
    quoted: Quoted | None = None
    if reply is not None:
        quoted = Quoted(str(reply.message_id), author_id, reply.message.extract_plain_text())
    elif reply_id is not None:
        quoted = Quoted(reply_id)
    group_id = getattr(event, "group_id", None) if event.message_type == "group" else None
    return Inbound(
        platform="qq",
        bot_id=bot.self_id,
        user_id=str(event.user_id),
        group_id=str(group_id) if group_id is not None else None,
        message_id=str(event.message_id),
        text=event.get_plaintext().strip(),
        sender_name=_sender_name(event),
        mentions=tuple(mentions),
        quoted=quoted,
        attachments=attachments,
        to_me=event.to_me,
        raw=event,
    )


def _sender_name(event: MessageEvent) -> str | None:
    """The group card, else the nickname; None when neither says anything."""
    sender = event.sender
    for name in (getattr(sender, "card", None), getattr(sender, "nickname", None)):
        if isinstance(name, str) and (name := name.strip()):
            return name
    return None


def unreadable_sender(bot: BaseBot, event: Event) -> str | None:
    """Whom to ask again: the sender of a private message the adapter could not read."""
    if not isinstance(event, UnreadableEvent) or event.message_type != "private" or event.user_id is None:
        return None
    user_id = str(event.user_id)
    return None if user_id == bot.self_id else user_id


register(Bot, OneBotV11Port, CAPABILITIES, "QQ", platform="qq")  # type: ignore[arg-type]
register_inbound(Bot, inbound, unreadable_sender)
