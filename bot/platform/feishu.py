"""Feishu (飞书) implementation of the platform port, over the Open Platform's IM API.

Requests go out through the adapter's own token and URL (so `api_base` and Lark work), but the
answer is read here: the stock adapter turns every HTTP error into a NetworkError that hides
Feishu's error code, and the code is what says whether a message went out. A definite answer
(an error code) is SendFailed; no answer in time, a broken connection or a server error (5xx)
on a send is SendUnknown and never resent.

Text goes out as a rich-text (post) message whose text elements Feishu shows literally: in a
plain text message `<at user_id="all"></at>` typed by a worker and relayed would @ everyone.
An @ is a post `at` element in a group, the person's name in a private chat. A merged forward
becomes the shared paged text (Feishu has no merged message of new content). Feishu has no timed
mute of one member: `mute` says so (SendFailed); both are in the capabilities it registers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import quote

from nonebot import logger
from nonebot.adapters import Bot as BaseBot
from nonebot.adapters import Event
from nonebot.adapters.feishu import Adapter as FeishuAdapter
from nonebot.adapters.feishu import Bot
from nonebot.adapters.feishu.event import MessageEvent
from nonebot.adapters.feishu.utils import cache
from nonebot.drivers import Request

from bot.platform import (
    Capabilities,
    Forward,
    Image,
    Inbound,
    Mention,
    Part,
    Quote,
    Quoted,
    Recall,
    SendFailed,
    SendUnknown,
    Target,
    Text,
    display_name,
    note_members,
    pages,
    register,
    register_inbound,
)
from bot.platform.feishu_ingress import Adapter, UnreadableEvent

__all__ = ["ADAPTER", "FeishuPort", "inbound"]

# The adapter class to register with the driver (the stock one, signed, read leniently, redacted).
ADAPTER = Adapter

PLATFORM = "feishu"

# The Open Platform's limits (发送消息 / 上传图片): a post's content at most 30 KB; 5 messages a
# second to one chat, shared by the bots in it.
POST_BYTES = 28 * 1024
PAGE_GAP = 0.25  # seconds between the pages of one send
MEMBER_PAGES = 500  # 100 members a page

# Error codes (服务端错误码 and the IM API's own).
TOKEN_INVALID = frozenset({99991661, 99991663, 99991664, 99991668})
RECALLED = 230011  # the message was recalled: nothing can be done to it
NOT_IN_CHAT = 230002
RECALL_GONE = frozenset({230001, 230009, RECALLED})  # bad/unknown id, older than allowed, already recalled
RECALL_REFUSED = frozenset({NOT_IN_CHAT, 230026, 230027, 230050, 230054})


class FeishuError(Exception):
    def __init__(self, code: int, msg: str, status: int) -> None:
        super().__init__(f"{code} {msg} (HTTP {status})")
        self.code = code


class NoAnswer(Exception):
    """No answer Feishu gave (timeout, broken connection, 5xx, not JSON): it may have acted."""


# --- names the bot has seen (Feishu's message events carry none) -------------------------
_names: dict[str, str] = {}


def _remember_name(open_id: str, name: str | None) -> None:
    if open_id and name:
        _names[open_id] = name[:64]


# --- what comes in ---------------------------------------------------------------------------

# Post elements that are text (or as good as: a link's text, an emoji, a rule).
_TEXT_TAGS = frozenset({"text", "a", "at", "emotion", "hr", "code_block", "md"})


def _paragraphs(data: Any) -> tuple[str, list[Any]]:
    """(title, paragraphs) of a post as events and the message API give it; a sent post wraps
    the same in a language key (zh_cn)."""
    if isinstance(data, dict) and "content" not in data and len(data) == 1:
        data = next(iter(data.values()))
    if not isinstance(data, dict):
        return "", []
    content = data.get("content")
    return str(data.get("title") or ""), content if isinstance(content, list) else []


def content_text(msg_type: str, content: str, mention_keys: Sequence[str] = ()) -> tuple[str, bool]:
    """(plain text, has non-text content) of a message body. @s are left out of the text, as
    OneBot's plain text leaves them out."""
    try:
        data = json.loads(content)
    except (TypeError, ValueError):
        return "", True
    if msg_type == "text":
        text = str(data.get("text") or "") if isinstance(data, dict) else ""
        for key in sorted(mention_keys, key=len, reverse=True):  # @_user_10 before @_user_1
            text = text.replace(key, "")
        return text.strip(), False
    if msg_type != "post":
        return "", True
    title, paragraphs = _paragraphs(data)
    lines = [title] if title else []
    other = False
    for paragraph in paragraphs:
        line = []
        for element in paragraph if isinstance(paragraph, list) else []:
            tag = element.get("tag") if isinstance(element, dict) else None
            if tag in ("text", "a", "code_block", "md"):
                line.append(str(element.get("text") or ""))
            elif tag not in _TEXT_TAGS:
                other = True
        lines.append("".join(line))
    return "\n".join(lines).strip(), other


def inbound(bot: BaseBot, event: Event) -> Inbound | None:
    """A Feishu message event as the bot's neutral message; None for any other event."""
    if not isinstance(event, MessageEvent) or not isinstance(bot, Bot):
        return None
    message = event.event.message
    mine = bot.bot_info.open_id
    mentions: list[str] = []
    for m in message.mentions or []:
        _remember_name(m.id.open_id, m.name)
        mentions.append(bot.self_id if m.id.open_id == mine else m.id.open_id)
    text, attachments = content_text(message.message_type, message.content, [m.key for m in message.mentions or []])
    quoted = _quoted(event) if message.parent_id else None
    user_id = event.get_user_id()
    group = message.chat_type == "group"
    to_me = (
        not group or bool(event.to_me) or bot.self_id in mentions
        or (quoted is not None and quoted.author_id == bot.self_id)
    )
    return Inbound(
        platform=PLATFORM,
        bot_id=bot.self_id,
        user_id=user_id,
        group_id=message.chat_id if group else None,
        message_id=message.message_id,
        text=text,
        sender_name=_names.get(user_id),
        mentions=tuple(mentions),
        quoted=quoted,
        attachments=attachments,
        to_me=to_me,
        raw=event,
    )


def unreadable_sender(bot: BaseBot, event: Event) -> str | None:
    """Whom to ask again: the sender of a private message the adapter could not read."""
    if not isinstance(event, UnreadableEvent) or event.chat_type != "p2p":
        return None
    return event.sender


def _quoted(event: MessageEvent) -> Quoted:
    """The message replied to. The adapter fetched it (`event.reply`) before NoneBot saw the
    event; without it only the id is known."""
    parent = event.event.message.parent_id or ""
    reply = event.reply
    if reply is None or reply.message_id != parent:
        return Quoted(parent)
    text = None if reply.deleted else content_text(reply.msg_type, reply.body.content, [m.key for m in reply.mentions])[0]
    return Quoted(parent, reply.sender.id or None, text)


# --- what goes out ---------------------------------------------------------------------------


def _file_type(name: str) -> str:
    """The `file_type` 上传文件 asks for; anything it does not list is a plain stream."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {"pdf": "pdf", "doc": "doc", "docx": "doc", "xls": "xls", "xlsx": "xls", "ppt": "ppt", "pptx": "ppt"}.get(ext, "stream")


def _post(paragraphs: list[list[dict[str, Any]]]) -> str:
    return json.dumps({"zh_cn": {"title": "", "content": paragraphs}}, ensure_ascii=False)


def _size(paragraph: list[dict[str, Any]]) -> int:
    return len(json.dumps(paragraph, ensure_ascii=False).encode())


def _pages_of(paragraphs: list[list[dict[str, Any]]], limit: int = POST_BYTES) -> list[list[list[dict[str, Any]]]]:
    """Paragraphs cut into posts under Feishu's size limit (a paragraph too long on its own is
    cut by characters)."""
    pages: list[list[list[dict[str, Any]]]] = [[]]
    used = 0
    for paragraph in paragraphs:
        for piece in _split(paragraph, limit):
            size = _size(piece)
            if pages[-1] and used + size > limit:
                pages.append([])
                used = 0
            pages[-1].append(piece)
            used += size
    return pages


def _split(paragraph: list[dict[str, Any]], limit: int) -> list[list[dict[str, Any]]]:
    if _size(paragraph) <= limit:
        return [paragraph]
    out: list[list[dict[str, Any]]] = []
    for element in paragraph:
        text = element.get("text") if element.get("tag") == "text" else None
        if not isinstance(text, str):
            out.append([element])
            continue
        step = max(1, limit // 4)  # a CJK character is 3 bytes, escapes a little more
        out += [[{"tag": "text", "text": text[i : i + step]}] for i in range(0, len(text), step)]
    return out


# What the Open Platform lets a bot do. Every group message is seen only with the
# im:message.group_msg scope (LIANXIN_FEISHU_GROUP_MESSAGES=0 when it is not granted); a recall
# of others' messages needs the bot to be the group's owner or a manager; there is no timed mute
# of one member, and no merged message of new content.
def _capabilities() -> Capabilities:
    from bot import settings

    seen = (settings.env("LIANXIN_FEISHU_GROUP_MESSAGES") or "1").lower() not in ("0", "false", "no")
    return Capabilities(group_messages_visible=seen, mute=False, merged_forward=False)


CAPABILITIES = _capabilities()


def send_uuid(key: str, page: int) -> str:
    """The uuid of one page of a keyed send (Feishu allows 50 characters; the key itself,
    which may name a purpose or a person, does not leave the bot)."""
    return str(uuid.UUID(hashlib.sha256(f"{key}\n{page}".encode()).hexdigest()[:32]))


class FeishuPort:
    capabilities = CAPABILITIES
    platform = PLATFORM

    def __init__(self, bot: Bot, *, timeout: float | None = None) -> None:
        self.bot = bot
        self.bot_id = bot.self_id
        self.timeout = timeout if timeout is not None else (bot.adapter.config.api_timeout or 30.0)

    # --- one Open API call ---------------------------------------------------------------

    async def _api(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: dict[str, Any] | None = None,
        files: Any = None, data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`data` of Feishu's answer. FeishuError: Feishu said no (an error code). NoAnswer:
        nothing definite came back. A refused token is fetched anew and the call made once
        more: a call refused for its token did nothing."""
        adapter = cast(FeishuAdapter, self.bot.adapter)
        for attempt in (1, 2):
            try:
                token = await adapter.get_tenant_access_token(self.bot.bot_config)
            except Exception as e:  # noqa: BLE001 - no token, nothing was asked yet
                raise FeishuError(-1, f"no tenant_access_token ({type(e).__name__})", 0) from e
            request = Request(
                method, adapter.get_api_url(self.bot.bot_config, path), params=params, json=body, files=files, data=data,
                headers={"Authorization": f"Bearer {token}"}, timeout=self.timeout,
            )
            try:
                response = await asyncio.wait_for(adapter.driver.request(request), self.timeout + 1)  # type: ignore[attr-defined]
            except Exception as e:  # noqa: BLE001 - timeout, reset, refused: we cannot know
                raise NoAnswer(f"{method} {path}: {type(e).__name__}") from e
            try:
                answer = json.loads(response.content or b"")
                code = int(answer.get("code", -1))
            except (TypeError, ValueError, AttributeError):
                answer, code = None, None
            if (response.status_code >= 500 and code != 0) or (code is None and response.status_code < 400):
                # The Open Platform (or a gateway) failing mid-way: it may have acted.
                raise NoAnswer(f"{method} {path}: HTTP {response.status_code}")
            if code is None:  # a proxy's 4xx page: refused before it reached Feishu
                raise FeishuError(-1, "no answer from Feishu", response.status_code)
            if code == 0:
                result = answer.get("data")
                return result if isinstance(result, dict) else {}
            if code in TOKEN_INVALID and attempt == 1:
                await cache.delete(f"feishu_tenant_access_token_{self.bot.bot_config.app_id}")
                continue
            raise FeishuError(code, str(answer.get("msg") or ""), response.status_code)
        raise AssertionError("unreachable")

    async def _sent(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        """A call that puts something into a chat, with the port's exceptions."""
        try:
            return await self._api(method, path, **kw)
        except FeishuError as e:
            raise SendFailed(f"{path}: {e}") from e
        except NoAnswer as e:
            raise SendUnknown(str(e)) from e

    async def _read(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        """A call that changes nothing: no answer is a failure like any other."""
        try:
            return await self._api(method, path, **kw)
        except (FeishuError, NoAnswer) as e:
            raise SendFailed(f"{path}: {e}") from e

    # --- content ---------------------------------------------------------------------------

    async def _upload_image(self, data: bytes) -> str:
        # An upload puts nothing into a chat: whatever happens, nothing was sent yet.
        try:
            result = await self._api("POST", "im/v1/images", data={"image_type": "message"}, files=[("image", ("image.png", data, "application/octet-stream"))])
        except (FeishuError, NoAnswer) as e:
            raise SendFailed(f"image upload: {e}") from e
        key = result.get("image_key")
        if not isinstance(key, str):
            raise SendFailed("image upload: no image_key")
        return key

    async def _build(self, parts: Sequence[Part], *, group: bool) -> list[list[dict[str, Any]]]:
        paragraphs: list[list[dict[str, Any]]] = [[]]

        def add(text: str) -> None:
            first, *rest = text.split("\n")
            if first:
                paragraphs[-1].append({"tag": "text", "text": first})
            for line in rest:
                paragraphs.append([{"tag": "text", "text": line}] if line else [])

        for p in parts:
            match p:
                case Text(t):
                    add(t)
                case Mention(uid, name):
                    if group and uid.startswith("ou_"):
                        paragraphs[-1].append({"tag": "at", "user_id": uid})
                    elif shown := (name or display_name(uid) or _names.get(uid)):
                        add(f"@{shown}")
                case Image(data):
                    key = await self._upload_image(data)
                    if paragraphs[-1]:
                        paragraphs.append([])
                    paragraphs[-1].append({"tag": "img", "image_key": key})
                    paragraphs.append([])
                case Forward(nodes):
                    add("\n\n".join(nodes))
                case Quote():
                    pass
        while paragraphs and not paragraphs[-1]:
            paragraphs.pop()
        # An empty paragraph is dropped by Feishu: a blank line is an empty text element.
        return [p or [{"tag": "text", "text": ""}] for p in paragraphs]

    async def _contents(self, parts: Sequence[Part], *, group: bool) -> list[tuple[str, str]]:
        """(msg_type, content) of each message the parts become."""
        if len(parts) == 1 and isinstance(parts[0], Image):
            return [("image", json.dumps({"image_key": await self._upload_image(parts[0].data)}))]
        forwards = [p for p in parts if isinstance(p, Forward)]
        if len(forwards) == 1 and len(parts) == 1:
            # No merged messages on Feishu (capabilities): the shared paged text, a message a page.
            out: list[tuple[str, str]] = []
            for page in pages(forwards[0]):
                out += [("post", _post(p)) for p in _pages_of(await self._build([Text(page)], group=group))]
            return out
        paragraphs = await self._build(parts, group=group)
        if not paragraphs:
            raise SendFailed("nothing to send")
        return [("post", _post(page)) for page in _pages_of(paragraphs)]

    # --- the port ----------------------------------------------------------------------------

    async def send(self, target: Target, parts: Sequence[Part], *, key: str | None = None) -> str | None:
        """With a `key`, each page carries a uuid derived from it: Feishu sends a message with
        a uuid it saw within the hour only once, so a resend after SendUnknown repeats nothing."""
        quoted = next((p.message_id for p in parts if isinstance(p, Quote)), None)
        contents = await self._contents(parts, group=target.kind == "group")
        first: str | None = None
        for n, (msg_type, content) in enumerate(contents):
            if n:
                await asyncio.sleep(PAGE_GAP)  # 5 messages a second to one chat
            body = {"msg_type": msg_type, "content": content} | ({"uuid": send_uuid(key, n)} if key is not None else {})
            try:
                if quoted is not None:
                    result = await self._sent("POST", f"im/v1/messages/{quote(quoted, safe='')}/reply", body=body)
                else:
                    kind = "chat_id" if target.kind == "group" else "open_id"
                    result = await self._sent("POST", "im/v1/messages", params={"receive_id_type": kind}, body=body | {"receive_id": target.id})
            except SendFailed as e:
                if n:  # the first pages are out: sending all again would repeat them
                    raise SendUnknown(f"page {n + 1} of {len(contents)} not sent, the ones before were: {e}") from e
                raise
            mid = result.get("message_id")
            first = first or (mid if isinstance(mid, str) else None)
        return first

    async def reply(self, msg: Inbound, parts: Sequence[Part]) -> str | None:
        """Answer in the chat the message came from (not as a Feishu reply: the message may be
        recalled by then, e.g. a concern posted in a group)."""
        target = Target.group(msg.group_id) if msg.group_id is not None else Target.private(msg.user_id)
        return await self.send(target, parts)

    async def recall(self, message_id: str, *, group_id: str | None = None, author_id: str | None = None) -> Recall:
        """撤回消息. Feishu says why it refuses: only the bot's own messages (within the
        tenant's recall window, 24 h by default), or anyone's in a group where the bot is the
        owner or an admin (within a year)."""
        try:
            await self._api("DELETE", f"im/v1/messages/{quote(message_id, safe='')}")
        except NoAnswer:
            return Recall.UNKNOWN
        except FeishuError as e:
            if e.code in RECALL_GONE:
                return Recall.GONE
            if e.code not in RECALL_REFUSED:
                logger.warning(f"recall refused by Feishu: {e}")
            return Recall.NOT_PERMITTED
        return Recall.RECALLED

    async def mute(self, group_id: str, user_id: str, seconds: int) -> None:
        raise SendFailed("Feishu has no timed mute of one member")

    async def members(self, group_id: str) -> list[str]:
        """获取群成员列表, every page. Feishu leaves the bots out."""
        ids: list[str] = []
        token: str | None = None
        for _ in range(MEMBER_PAGES):
            params: dict[str, Any] = {"member_id_type": "open_id", "page_size": 100} | ({"page_token": token} if token else {})
            result = await self._read("GET", f"im/v1/chats/{quote(group_id, safe='')}/members", params=params)
            for item in result.get("items") or []:
                if isinstance(item, dict) and isinstance(item.get("member_id"), str):
                    ids.append(item["member_id"])
                    _remember_name(item["member_id"], item.get("name"))
            token = result.get("page_token")
            if not result.get("has_more") or not token:
                break
        note_members(group_id, ids)
        return ids

    async def get_message(self, message_id: str) -> tuple[str, str] | None:
        """获取指定消息的内容: (author id, plain text), None when recalled or unknown. The bot's
        own messages are authored by its app id, i.e. `bot_id`."""
        try:
            result = await self._read("GET", f"im/v1/messages/{quote(message_id, safe='')}")
        except SendFailed:
            return None
        items = result.get("items")
        item = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else None
        if item is None or item.get("deleted"):
            return None
        sender = item.get("sender") if isinstance(item.get("sender"), dict) else {}
        body = item.get("body") if isinstance(item.get("body"), dict) else {}
        mentions = [m.get("key", "") for m in item.get("mentions") or [] if isinstance(m, dict)]
        author = sender.get("id") if isinstance(sender, dict) else None
        if not isinstance(author, str) or not author:
            return None
        return author, content_text(str(item.get("msg_type")), str((body or {}).get("content") or ""), mentions)[0]

    async def send_file(self, target: Target, name: str, data: bytes) -> None:
        try:
            result = await self._api("POST", "im/v1/files", data={"file_type": _file_type(name), "file_name": name}, files=[("file", (name, data, "application/octet-stream"))])
        except (FeishuError, NoAnswer) as e:
            raise SendFailed(f"file upload: {e}") from e
        key = result.get("file_key")
        if not isinstance(key, str):
            raise SendFailed("file upload: no file_key")
        kind = "chat_id" if target.kind == "group" else "open_id"
        await self._sent("POST", "im/v1/messages", params={"receive_id_type": kind}, body={"receive_id": target.id, "msg_type": "file", "content": json.dumps({"file_key": key})})


register(Bot, FeishuPort, CAPABILITIES, "飞书", platform=PLATFORM)  # type: ignore[arg-type]
register_inbound(Bot, inbound, unreadable_sender)
