"""An in-test Feishu Open Platform (the role open.feishu.cn plays in production), on loopback.

It serves the Open API paths the bot and nonebot-adapter-feishu call, answering with the shapes
and error codes of the Feishu documentation (服务端 API: 发送消息, 回复消息, 撤回消息, 获取指定消息
的内容, 获取群成员列表, 上传图片, 上传文件, 自建应用获取 tenant_access_token, 获取机器人信息),
records every call in ``peer.calls``, and posts event callbacks (``im.message.receive_v1``,
schema 2.0) to the bot's webhook, encrypted and signed like the real thing when an Encrypt
Key is set.

It is not kind. Like Feishu it:

* refuses a call without a valid tenant_access_token (99991661 / 99991663) and can revoke the
  tokens it issued (``revoke_tokens``), as when Feishu rotates them;
* sends to a group only when the bot is in it (230002), to a person only inside the app's
  availability (230013); refuses an unknown receive_id (230034), a bad body (230001), a post
  over 30 KB or a text over 150 KB (230025), and more than 5 messages a second to one chat
  (230020);
* answers HTTP 400 with the code in the JSON body for every refusal;
* lets the bot recall its own messages within the tenant's recall window (24 h by default;
  older: 230009) and someone else's only in a group where the bot is owner or manager, within a
  year (else 230026); a recalled message is gone for replies and recalls (230011), and is
  fetched as ``deleted: true``;
* lists a chat's members without its bots, 100 a page at most, with page tokens;
* reads an uploaded image's format from its bytes (234011 for something that is no image).

Fault injection: ``fail_next(route, code)`` answers a coming call with an error code;
``hang`` holds a route's calls unanswered (nothing done); ``slow`` does the work, then answers
after a delay longer than the bot waits (the message is out, the bot cannot know);
``server_error`` answers a 5xx after doing the work; ``proxy_refuses`` answers an HTML 4xx
without doing it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["Call", "Chat", "FeishuPeer", "Message", "Sent", "User"]

TENANT = "736588c9260f175e"
RECALL_OWN = 24 * 3600  # the tenant's default recall window for one's own messages
RECALL_OTHERS = 365 * 24 * 3600  # an owner's or manager's recall of others' messages
POST_LIMIT, TEXT_LIMIT = 30 * 1024, 150 * 1024
IMAGE_LIMIT, FILE_LIMIT = 10 * 1024 * 1024, 30 * 1024 * 1024
MSG_TYPES = {"text", "post", "image", "file", "audio", "media", "sticker", "interactive", "share_chat", "share_user"}
POST_TAGS = {"text", "a", "at", "img", "media", "emotion", "hr", "code_block", "md"}
FILE_TYPES = {"opus", "mp4", "pdf", "doc", "xls", "ppt", "stream"}
_AT = re.compile(r'<at\s+user_id="([^"]*)"\s*>([^<]*)</at>')

ERRORS: dict[int, str] = {
    10003: "invalid param",
    10014: "app secret invalid",
    99991661: "Missing access token for authorization. Please make a request with token attached.",
    99991663: "Invalid access token for authorization. Please make a request with token attached.",
    230001: "Your request contains an invalid request parameter.",
    230002: "The bot can not be outside the group.",
    230009: "Message can only be recalled within one days.",
    230011: "The message is recalled.",
    230013: "Bot has NO availability to this user.",
    230017: "Bot is NOT the owner of the resource.",
    230020: "This operation triggers the frequency limit.",
    230025: "The length of the message content reaches its limit.",
    230026: "No permission to recall this message.",
    230034: "The receive_id is invalid.",
    232006: "Your request specifies a chat_id that is invalid.",
    232011: "Operator can NOT be out of the chat.",
    234001: "Invalid request param.",
    234006: "The file size exceed the max value.",
    234011: "Can't recognize image format.",
}


class Refused(Exception):
    def __init__(self, code: int, status: int = 400) -> None:
        super().__init__(f"{code} {ERRORS.get(code, 'error')}")
        self.code = code
        self.status = status


@dataclass
class User:
    open_id: str
    name: str
    union_id: str = ""
    user_id: str = ""
    available: bool = True  # inside the app's availability range (可用范围)


@dataclass
class Chat:
    chat_id: str
    name: str
    owner: str = ""  # open_id of the owner (the bot's open_id when it owns the chat)
    managers: set[str] = field(default_factory=set)
    members: list[str] = field(default_factory=list)  # people; bots are not listed
    bot_in: bool = True
    chat_type: str = "group"


@dataclass
class Message:
    message_id: str
    chat_id: str
    chat_type: str  # "group" or "p2p"
    sender_id: str  # open_id of a person, app_id of an app
    sender_type: str  # "user" or "app"
    msg_type: str
    content: str
    create_time: float  # seconds
    mentions: list[dict[str, Any]] = field(default_factory=list)
    parent_id: str | None = None
    root_id: str | None = None
    deleted: bool = False


@dataclass
class Call:
    """One API request the bot made. ``answer`` is the JSON sent back (None while pending)."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    form: dict[str, Any]
    time: float
    index: int
    status: int | None = None
    answer: dict[str, Any] | None = None

    @property
    def route(self) -> str:
        return _route(self.method, self.path)


@dataclass(frozen=True)
class Sent:
    """A message the bot put into a chat. ``text`` shows an @ as "@name", as Feishu does."""

    kind: str  # "group" or "private"
    target: str  # chat_id, or the person's open_id
    msg_type: str
    text: str
    ats: tuple[str, ...]
    message_id: str
    images: tuple[str, ...] = ()
    reply_to: str | None = None


def _route(method: str, path: str) -> str:
    p = path.removeprefix("/open-apis/")
    if p == "auth/v3/tenant_access_token/internal":
        return "token"
    if p == "bot/v3/info":
        return "bot_info"
    if p == "im/v1/messages" and method == "POST":
        return "send"
    if re.fullmatch(r"im/v1/messages/[^/]+/reply", p):
        return "reply"
    if re.fullmatch(r"im/v1/messages/[^/]+", p):
        return {"DELETE": "delete", "GET": "get"}.get(method, "?")
    if re.fullmatch(r"im/v1/chats/[^/]+/members", p):
        return "members"
    if p == "im/v1/images":
        return "image"
    if p == "im/v1/files":
        return "file"
    return "?"


def _image_format(data: bytes) -> str | None:
    signatures = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg", b"GIF87a": "gif", b"GIF89a": "gif", b"BM": "bmp"}
    for magic, kind in signatures.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def encrypt(encrypt_key: str, plaintext: bytes) -> str:
    """What Feishu does to an event with an Encrypt Key: AES-256-CBC, key sha256(Encrypt Key),
    a random IV prepended, PKCS#7 padding, base64."""
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode()


def sign(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def _post_paragraphs(content: Any) -> tuple[str, list[Any]] | None:
    """(title, paragraphs) of a sent post, which wraps them in a language key."""
    if not isinstance(content, dict) or not content:
        return None
    for lang in ("zh_cn", "en_us", "ja_jp"):
        body = content.get(lang)
        if isinstance(body, dict) and isinstance(body.get("content"), list):
            return str(body.get("title") or ""), body["content"]
    return None


class FeishuPeer:
    def __init__(
        self,
        *,
        app_id: str = "cli_a5f0c2d1e3b4a697",
        app_secret: str = "peer-app-secret-0123456789",
        verification_token: str = "peer-verification-token",
        encrypt_key: str | None = None,
        bot_open_id: str = "ou_b0710000000000000000000000000001",
        app_name: str = "连心",
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.verification_token = verification_token
        self.encrypt_key = encrypt_key
        self.bot_open_id = bot_open_id
        self.app_name = app_name
        self.recall_own = RECALL_OWN
        self.users: dict[str, User] = {}
        self.chats: dict[str, Chat] = {}
        self.messages: dict[str, Message] = {}
        self.images: dict[str, bytes] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.calls: list[Call] = []
        self.webhook: str | None = None  # the bot's event callback URL
        self.hang: set[str] = set()
        self.slow: dict[str, float] = {}
        self.errors: list[BaseException] = []
        self._server_errors: dict[str, int] = {}
        self._refusals: dict[str, int] = {}
        self._fail: dict[str, list[int | None]] = {}
        self._tokens: set[str] = set()
        self._sends: dict[str, list[float]] = {}  # per receiving chat: times of recent sends
        self._uuids: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._held: list[asyncio.Future[None]] = []
        self.port: int | None = None

    # --- the server --------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.port is not None, "start() first"
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/open-apis/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        return self.url

    async def close(self) -> None:
        for held in self._held:
            if not held.done():
                held.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FeishuPeer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- the world ------------------------------------------------------------------------

    def add_user(self, open_id: str, name: str, *, available: bool = True) -> User:
        user = User(open_id, name, union_id="on_" + hashlib.md5(open_id.encode()).hexdigest(), available=available)
        self.users[open_id] = user
        return user

    def add_chat(self, chat_id: str, name: str = "", *, members: tuple[str, ...] = (), owner: str = "",
                 managers: tuple[str, ...] = (), bot_in: bool = True) -> Chat:
        chat = Chat(chat_id, name or chat_id, owner=owner or (members[0] if members else ""), managers=set(managers),
                    members=list(members), bot_in=bot_in)
        self.chats[chat_id] = chat
        for uid in members:
            self.users.setdefault(uid, User(uid, uid))
        return chat

    def make_bot_admin(self, chat_id: str, *, owner: bool = False) -> None:
        chat = self.chats[chat_id]
        if owner:
            chat.owner = self.bot_open_id
        else:
            chat.managers.add(self.bot_open_id)

    def revoke_tokens(self) -> None:
        """Every tenant_access_token issued so far stops working (Feishu rotated them)."""
        self._tokens.clear()

    def age(self, message_id: str, seconds: float) -> None:
        """Make a message older by ``seconds``."""
        self.messages[message_id].create_time -= seconds

    def fail_next(self, route: str, code: int, *, times: int = 1, after: int = 0) -> None:
        """Refuse the next ``times`` calls on ``route`` with ``code``, once ``after`` more have
        been carried out."""
        self._fail.setdefault(route, []).extend([None] * after + [code] * times)

    def server_error(self, route: str, status: int = 502) -> None:
        """The next call on ``route`` is carried out, then answered with an HTTP 5xx page."""
        self._server_errors[route] = status

    def proxy_refuses(self, route: str, status: int = 413) -> None:
        """The next call on ``route`` is refused by a proxy in front of Feishu (an HTML page):
        Feishu never sees it."""
        self._refusals[route] = status

    # --- requests ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body: Any = None
        form: dict[str, Any] = {}
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.name is None:
                    continue
                if part.filename is not None:  # type: ignore[union-attr]
                    form[part.name] = (part.filename, await part.read())  # type: ignore[union-attr]
                else:
                    form[part.name] = await part.text()  # type: ignore[union-attr]
        else:
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
        async with self._cond:
            call = Call(request.method, request.path, dict(request.query), body, form, time.monotonic(), len(self.calls))
            self.calls.append(call)
            self._cond.notify_all()
        route = call.route
        if (refused := self._refusals.pop(route, None)) is not None:
            call.status = refused
            return web.Response(status=refused, text=f"<html><body>{refused}</body></html>", content_type="text/html")
        if route in self.hang:
            held: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._held.append(held)
            with contextlib.suppress(asyncio.CancelledError):
                await held
            raise web.HTTPServiceUnavailable()
        status, answer = 200, {"code": 0, "msg": "success"}
        try:
            if self._fail.get(route) and (code := self._fail[route].pop(0)) is not None:
                raise Refused(code)
            data = self._dispatch(call, request)
            if route in ("token", "bot_info"):
                answer |= data
            else:
                answer["data"] = data
        except Refused as e:
            status, answer = e.status, {"code": e.code, "msg": ERRORS.get(e.code, "error")}
        except Exception as e:  # noqa: BLE001 - a bug here must show in the test, not hang it
            self.errors.append(e)
            status, answer = 500, {"code": 1, "msg": f"peer error {type(e).__name__}"}
        if (delay := self.slow.get(route)) is not None:
            await asyncio.sleep(delay)
        if (error := self._server_errors.pop(route, None)) is not None:
            call.status = error
            return web.Response(status=error, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        call.status, call.answer = status, answer
        return web.json_response(answer, status=status, headers={"X-Tt-Logid": secrets.token_hex(16)})

    def _dispatch(self, call: Call, request: web.Request) -> Any:
        route = call.route
        if route == "token":
            body = call.body if isinstance(call.body, dict) else {}
            if body.get("app_id") != self.app_id:
                raise Refused(10003)
            if body.get("app_secret") != self.app_secret:
                raise Refused(10014)
            token = "t-" + secrets.token_hex(20)
            self._tokens.add(token)
            return {"tenant_access_token": token, "expire": 7200}
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:]:
            raise Refused(99991661)
        if auth[7:] not in self._tokens:
            raise Refused(99991663)
        tail = call.path.removeprefix("/open-apis/")
        if route == "bot_info":
            return {"bot": {"activate_status": 2, "app_name": self.app_name, "avatar_url": "https://s1-imfile.feishucdn.com/avatar.png",
                            "ip_white_list": [], "open_id": self.bot_open_id}}
        if route == "send":
            return self._send(call)
        if route == "reply":
            return self._reply(call, tail.split("/")[3])
        if route == "delete":
            return self._delete(tail.split("/")[3])
        if route == "get":
            return {"items": [self._item(self._known(tail.split("/")[3], readable=True))]}
        if route == "members":
            return self._members(tail.split("/")[3], call.params)
        if route == "image":
            return self._upload_image(call.form)
        if route == "file":
            return self._upload_file(call.form)
        raise Refused(230001, status=404)

    # --- messages ------------------------------------------------------------------------------

    def _new_id(self) -> str:
        return "om_" + uuid.uuid4().hex

    def _check_content(self, msg_type: Any, content: Any) -> tuple[str, list[dict[str, Any]]]:
        """The body checks 发送消息 makes; returns (msg_type, mentions of the message)."""
        if msg_type not in MSG_TYPES or not isinstance(content, str):
            raise Refused(230001)
        try:
            data = json.loads(content)
        except ValueError:
            raise Refused(230001) from None
        size = len(content.encode())
        mentions: list[dict[str, Any]] = []
        if msg_type == "text":
            if size > TEXT_LIMIT:
                raise Refused(230025)
            if not isinstance(data, dict) or not isinstance(data.get("text"), str):
                raise Refused(230001)
            mentions = [{"id": uid, "name": name} for uid, name in _AT.findall(data["text"])]
        elif msg_type == "post":
            if size > POST_LIMIT:
                raise Refused(230025)
            post = _post_paragraphs(data)
            if post is None:
                raise Refused(230001)
            for paragraph in post[1]:
                if not isinstance(paragraph, list):
                    raise Refused(230001)
                for element in paragraph:
                    if not isinstance(element, dict) or element.get("tag") not in POST_TAGS:
                        raise Refused(230001)
                    if element["tag"] == "at":
                        mentions.append({"id": str(element.get("user_id")), "name": ""})
                    if element["tag"] == "img" and element.get("image_key") not in self.images:
                        raise Refused(230017)
        elif msg_type == "image":
            if not isinstance(data, dict) or data.get("image_key") not in self.images:
                raise Refused(230017)
        elif msg_type == "file":
            if not isinstance(data, dict) or data.get("file_key") not in self.files:
                raise Refused(230017)
        for m in mentions:
            if m["id"] != "all" and not m["id"].startswith("ou_"):
                raise Refused(230001)
        return msg_type, mentions

    def _rate(self, chat_id: str) -> None:
        now = time.monotonic()
        recent = [t for t in self._sends.get(chat_id, []) if now - t < 1.0]
        if len(recent) >= 5:
            raise Refused(230020)
        self._sends[chat_id] = recent + [now]

    def _p2p(self, open_id: str) -> str:
        return "oc_p2p" + hashlib.md5(open_id.encode()).hexdigest()[:26]

    def _send(self, call: Call) -> dict[str, Any]:
        body = call.body if isinstance(call.body, dict) else {}
        kind = call.params.get("receive_id_type")
        receive_id = body.get("receive_id")
        if kind not in ("open_id", "union_id", "user_id", "email", "chat_id") or not isinstance(receive_id, str) or not receive_id:
            raise Refused(230001)
        if (dup := self._repeat(body)) is not None:
            return dup
        msg_type, mentions = self._check_content(body.get("msg_type"), body.get("content"))
        if kind == "chat_id":
            chat = self.chats.get(receive_id)
            if chat is None:
                raise Refused(230034)
            if not chat.bot_in:
                raise Refused(230002)
            chat_id, chat_type = chat.chat_id, "group"
        elif kind == "open_id":
            user = self.users.get(receive_id)
            if user is None:
                raise Refused(230034)
            if not user.available:
                raise Refused(230013)
            chat_id, chat_type = self._p2p(receive_id), "p2p"
        else:
            raise Refused(230001)  # the bot only addresses chats and open_ids
        self._rate(chat_id)
        return self._item(self._keep_uuid(body, self._store(chat_id, chat_type, msg_type, body["content"], mentions)))

    def _repeat(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The first message sent with this body's uuid (the same uuid within the hour is sent
        once, by create and reply alike), or None."""
        dup = self._uuids.get(str(body.get("uuid")))
        return self._item(self.messages[dup]) if dup is not None else None

    def _keep_uuid(self, body: dict[str, Any], message: Message) -> Message:
        if isinstance(body.get("uuid"), str):
            self._uuids[body["uuid"]] = message.message_id
        return message

    def _store(self, chat_id: str, chat_type: str, msg_type: str, content: str, mentions: list[dict[str, Any]],
               parent: Message | None = None) -> Message:
        message = Message(
            self._new_id(), chat_id, chat_type, self.app_id, "app", msg_type, content, time.time(),
            mentions=[{"key": f"@_user_{n}", "id": m["id"], "id_type": "open_id",
                       "name": m["name"] or (self.users[m["id"]].name if m["id"] in self.users else ""),
                       "tenant_key": TENANT} for n, m in enumerate(mentions, 1)],
            parent_id=parent.message_id if parent else None,
            root_id=(parent.root_id or parent.message_id) if parent else None,
        )
        self.messages[message.message_id] = message
        return message

    def _known(self, message_id: str, *, readable: bool = False) -> Message:
        message = self.messages.get(message_id)
        if message is None:
            raise Refused(230001)
        chat = self.chats.get(message.chat_id)
        if chat is not None and not chat.bot_in:
            raise Refused(230002)
        if message.deleted and not readable:
            raise Refused(230011)
        return message

    def _reply(self, call: Call, message_id: str) -> dict[str, Any]:
        body = call.body if isinstance(call.body, dict) else {}
        parent = self._known(message_id)
        if (dup := self._repeat(body)) is not None:
            return dup
        msg_type, mentions = self._check_content(body.get("msg_type"), body.get("content"))
        self._rate(parent.chat_id)
        message = self._store(parent.chat_id, parent.chat_type, msg_type, body["content"], mentions, parent)
        return self._item(self._keep_uuid(body, message))

    def _delete(self, message_id: str) -> dict[str, Any]:
        message = self._known(message_id)
        age = time.time() - message.create_time
        if message.sender_type == "app" and message.sender_id == self.app_id:
            if age > self.recall_own:
                raise Refused(230009)
        else:
            chat = self.chats.get(message.chat_id)
            admin = chat is not None and (chat.owner == self.bot_open_id or self.bot_open_id in chat.managers)
            if message.chat_type != "group" or not admin or age > RECALL_OTHERS:
                raise Refused(230026)
        message.deleted = True
        return {}

    def _item(self, message: Message) -> dict[str, Any]:
        content = message.content
        if message.deleted:
            content = json.dumps({"text": "This message was recalled"})
        item: dict[str, Any] = {
            "message_id": message.message_id,
            "msg_type": message.msg_type,
            "create_time": str(int(message.create_time * 1000)),
            "update_time": str(int(message.create_time * 1000)),
            "deleted": message.deleted,
            "updated": False,
            "chat_id": message.chat_id,
            "sender": {"id": message.sender_id, "id_type": "app_id" if message.sender_type == "app" else "open_id",
                       "sender_type": message.sender_type, "tenant_key": TENANT},
            "body": {"content": content},
            "mentions": [{k: v for k, v in m.items()} for m in message.mentions],
        }
        if message.parent_id:
            item |= {"parent_id": message.parent_id, "root_id": message.root_id}
        return item

    # --- chats and uploads ------------------------------------------------------------------------

    def _members(self, chat_id: str, params: dict[str, str]) -> dict[str, Any]:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise Refused(232006)
        if not chat.bot_in:
            raise Refused(232011)
        try:
            size = int(params.get("page_size", "20"))
            start = int(params.get("page_token") or "0")
        except ValueError:
            raise Refused(230001) from None
        if not 1 <= size <= 100 or params.get("member_id_type", "open_id") != "open_id":
            raise Refused(230001)
        page = chat.members[start : start + size]
        more = start + size < len(chat.members)
        return {
            "items": [{"member_id_type": "open_id", "member_id": uid, "name": self.users[uid].name if uid in self.users else uid,
                       "tenant_key": TENANT} for uid in page],
            "page_token": str(start + size) if more else "",
            "has_more": more,
            "member_total": len(chat.members),
        }

    def _upload_image(self, form: dict[str, Any]) -> dict[str, Any]:
        image = form.get("image")
        if form.get("image_type") not in ("message", "avatar") or not isinstance(image, tuple) or not image[1]:
            raise Refused(234001)
        data = image[1]
        if len(data) > IMAGE_LIMIT:
            raise Refused(234006)
        if _image_format(data) is None:
            raise Refused(234011)
        key = f"img_v3_{next(self._ids):04x}_{uuid.uuid4().hex[:12]}"
        self.images[key] = data
        return {"image_key": key}

    def _upload_file(self, form: dict[str, Any]) -> dict[str, Any]:
        file = form.get("file")
        if form.get("file_type") not in FILE_TYPES or not form.get("file_name") or not isinstance(file, tuple) or not file[1]:
            raise Refused(234001)
        if len(file[1]) > FILE_LIMIT:
            raise Refused(234006)
        key = f"file_v3_{next(self._ids):04x}_{uuid.uuid4().hex[:12]}"
        self.files[key] = (str(form["file_name"]), file[1])
        return {"file_key": key}

    # --- what the bot sent -------------------------------------------------------------------------

    def mark(self) -> int:
        return len(self.calls)

    def _match(self, route: str | None, since: int, ok: bool) -> list[Call]:
        return [c for c in self.calls[since:] if (route is None or c.route == route) and (not ok or c.status == 200)]

    async def wait_call(self, route: str | None = None, *, since: int = 0, timeout: float = 10.0, ok: bool = False) -> Call:
        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(lambda: self._match(route, since, ok)), timeout)
        except asyncio.TimeoutError:
            seen = [(c.method, c.path) for c in self.calls[since:]]
            raise AssertionError(f"no {route!r} call within {timeout}s; calls since {since}: {seen}") from None
        return self._match(route, since, ok)[0]

    def sent(self, since: int = 0) -> list[Sent]:
        """Every message the bot put into a chat (calls Feishu accepted), in order; a call that
        repeated a uuid put nothing new there."""
        out = []
        seen: set[str] = set()
        for c in self.calls[since:]:
            if c.route not in ("send", "reply") or c.status != 200 or not c.answer:
                continue
            message = self.messages[c.answer["data"]["message_id"]]
            if message.message_id in seen:
                continue
            seen.add(message.message_id)
            chat = self.chats.get(message.chat_id)
            if chat is not None:
                kind, target = "group", chat.chat_id
            else:
                kind = "private"
                target = next((uid for uid in self.users if self._p2p(uid) == message.chat_id), message.chat_id)
            out.append(Sent(kind, target, message.msg_type, self.render(message), tuple(m["id"] for m in message.mentions),
                            message.message_id, self._images(message), message.parent_id))
        return out

    def sent_texts(self, since: int = 0) -> list[tuple[str, str, str]]:
        return [(s.kind, s.target, s.text) for s in self.sent(since)]

    def render(self, message: Message) -> str:
        """A message's text as a reader sees it: an @ as "@name", an image as "[图片]"."""
        data = json.loads(message.content)
        if message.msg_type == "text":
            return _AT.sub(lambda m: "@" + (self.users[m.group(1)].name if m.group(1) in self.users else "所有人" if m.group(1) == "all" else m.group(2)), data["text"])
        if message.msg_type == "image":
            return "[图片]"
        if message.msg_type == "file":
            return f"[文件] {self.files[data['file_key']][0]}"
        post = _post_paragraphs(data)
        if post is None:
            return ""
        lines = [post[0]] if post[0] else []
        for paragraph in post[1]:
            line = ""
            for e in paragraph:
                if e["tag"] in ("text", "a", "code_block", "md"):
                    line += str(e.get("text") or "")
                elif e["tag"] == "at":
                    uid = str(e.get("user_id"))
                    line += "@" + (self.users[uid].name if uid in self.users else "所有人" if uid == "all" else uid)
                elif e["tag"] == "img":
                    line += "[图片]"
            lines.append(line)
        return "\n".join(lines)

    def _images(self, message: Message) -> tuple[str, ...]:
        data = json.loads(message.content)
        if message.msg_type == "image":
            return (data["image_key"],)
        post = _post_paragraphs(data) if message.msg_type == "post" else None
        return tuple(e["image_key"] for p in (post[1] if post else []) for e in p if e.get("tag") == "img")

    # --- events --------------------------------------------------------------------------------------

    def _sender(self, open_id: str) -> dict[str, Any]:
        user = self.users.get(open_id) or self.add_user(open_id, open_id)
        ids = {"union_id": user.union_id, "open_id": user.open_id}
        if user.user_id:  # only with the employee-id scope
            ids["user_id"] = user.user_id
        return {"sender_id": ids, "sender_type": "user", "tenant_key": TENANT}

    def _mention(self, n: int, open_id: str) -> dict[str, Any]:
        if open_id == self.bot_open_id:
            ids: dict[str, str] = {"union_id": "on_bot" + self.app_id[4:], "open_id": open_id}
            name = self.app_name
        else:
            user = self.users.get(open_id) or self.add_user(open_id, open_id)
            ids = {"union_id": user.union_id, "open_id": open_id} | ({"user_id": user.user_id} if user.user_id else {})
            name = user.name
        return {"key": f"@_user_{n}", "id": ids, "name": name, "tenant_key": TENANT}

    def message_event(
        self, user: str, text: str = "", *, chat_id: str | None = None, at: tuple[str, ...] = (), at_bot: bool = False,
        parent_id: str | None = None, msg_type: str = "text", content: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], Message]:
        """An im.message.receive_v1 payload (schema 2.0) and the message it carries. ``at`` puts
        @s before the text, ``at_bot`` the bot's first; ``content`` replaces the text body."""
        targets = ((self.bot_open_id,) if at_bot else ()) + tuple(at)
        mentions = [self._mention(n, uid) for n, uid in enumerate(targets, 1)]
        if content is None:
            content = {"text": " ".join([m["key"] for m in mentions] + ([text] if text else []))}
        group = chat_id is not None
        chat = chat_id if group else self._p2p(user)
        parent = self.messages.get(parent_id) if parent_id else None
        message = Message(self._new_id(), chat, "group" if group else "p2p", user, "user", msg_type,
                          json.dumps(content, ensure_ascii=False), time.time(),
                          mentions=[{"key": m["key"], "id": m["id"]["open_id"], "id_type": "open_id", "name": m["name"],
                                     "tenant_key": TENANT} for m in mentions],
                          parent_id=parent_id, root_id=(parent.root_id or parent.message_id) if parent else parent_id)
        self.messages[message.message_id] = message
        event_message: dict[str, Any] = {
            "message_id": message.message_id,
            "create_time": str(int(message.create_time * 1000)),
            "update_time": str(int(message.create_time * 1000)),
            "chat_id": chat,
            "chat_type": message.chat_type,
            "message_type": msg_type,
            "content": message.content,
        }
        if mentions:
            event_message["mentions"] = mentions
        if parent_id:
            event_message |= {"parent_id": parent_id, "root_id": message.root_id}
        payload = {
            "schema": "2.0",
            "header": {"event_id": uuid.uuid4().hex, "event_type": "im.message.receive_v1",
                       "create_time": str(int(time.time() * 1000)), "token": self.verification_token,
                       "app_id": self.app_id, "tenant_key": TENANT},
            "event": {"sender": self._sender(user), "message": event_message},
        }
        return payload, message

    async def deliver(self, payload: dict[str, Any], *, sign_with: str | None = None, timeout: float = 10.0) -> int:
        """POST an event to the bot's webhook as Feishu does; returns the HTTP status."""
        assert self.webhook is not None, "set peer.webhook to the bot's /feishu/<app_id> URL"
        raw = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.encrypt_key:
            raw = json.dumps({"encrypt": encrypt(self.encrypt_key, raw)}).encode()
            timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
            headers |= {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
                        "X-Lark-Signature": sign(timestamp, nonce, sign_with or self.encrypt_key, raw)}
        async with ClientSession(timeout=ClientTimeout(total=timeout)) as session:
            async with session.post(self.webhook, data=raw, headers=headers) as response:
                await response.read()
                return response.status

    async def deliver_until_accepted(self, payload: dict[str, Any], *, within: float = 20.0) -> int:
        """Feishu delivers again while the bot answers anything but 200 (e.g. starting up)."""
        deadline = time.monotonic() + within
        while True:
            try:
                status = await self.deliver(payload)
            except OSError:
                status = 0
            if status == 200 or time.monotonic() >= deadline:
                return status
            await asyncio.sleep(0.3)

    async def group_message(self, chat_id: str, user: str, text: str, **kw: Any) -> str:
        """A person's message in a group, delivered; returns its message_id."""
        return await self.private_message(user, text, chat_id=chat_id, **kw)

    async def private_message(self, user: str, text: str, **kw: Any) -> str:
        """A person's message to the bot (or, with ``chat_id``, in a group), delivered."""
        payload, message = self.message_event(user, text, **kw)
        status = await self.deliver(payload)
        assert status == 200, f"the bot answered the callback with HTTP {status}"
        return message.message_id
