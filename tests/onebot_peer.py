"""An in-test OneBot v11 implementation (the role NapCat plays in production).

It speaks the real protocol over a real WebSocket, in either direction:

* reverse mode: the peer dials the bot (``connect_reverse``), as NapCat does
  with a "WebSocket client" network config;
* forward mode: the peer listens and the bot dials it (``serve_forward``),
  matching NoneBot's ``ONEBOT_WS_URLS``.

Every API call the bot makes is recorded in ``peer.calls`` and answered with
sensible defaults, which tests can override per action.

Sends are answered as NapCat answers them (../shared/NAPCAT.md): a private message reaches a
friend, or a non-friend through a group both are in (``group_id``), and is refused with retcode
1200 otherwise; an ``at`` of an id nobody knows fails the whole group send (``Get Uid Error``)
and is dropped in a private chat; an action in ``peer.slow`` is delivered but answered
``Timeout:`` (or, for a forward, ``发送转发消息（res_id：… 失败``), as when QQ is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.http11 import Request, Response

__all__ = [
    "Call",
    "HandshakeRefused",
    "OneBotPeer",
    "PeerFail",
    "Responder",
    "SEND_ACTIONS",
    "cq_to_segments",
    "segments_text",
]

Segment = dict[str, Any]
# Returns the answer data, or an awaitable of it.
Responder = Callable[[dict[str, Any]], Any]

# Actions that put a message into a chat; used by sent_texts() and get_msg.
SEND_ACTIONS: tuple[str, ...] = (
    "send_msg",
    "send_private_msg",
    "send_group_msg",
    "send_group_forward_msg",
    "send_private_forward_msg",
    "send_forward_msg",
)

# Known OneBot v11 (and common NapCat) actions that succeed with no data.
# Anything not known fails with retcode 1404, like a real implementation,
# so a typo in an action name shows up in tests instead of passing silently.
_NULL_ACTIONS: frozenset[str] = frozenset(
    {
        "send_like",
        "set_group_kick",
        "set_group_ban",
        "set_group_anonymous_ban",
        "set_group_whole_ban",
        "set_group_admin",
        "set_group_anonymous",
        "set_group_card",
        "set_group_name",
        "set_group_leave",
        "set_group_special_title",
        "set_friend_add_request",
        "set_group_add_request",
        "set_restart",
        "clean_cache",
        "set_essence_msg",
        "delete_essence_msg",
        "mark_msg_as_read",
        "mark_private_msg_as_read",
        "mark_group_msg_as_read",
        "set_msg_emoji_like",
        "group_poke",
        "friend_poke",
    }
)


class HandshakeRefused(Exception):
    """The bot answered the WebSocket upgrade with an HTTP error status."""

    def __init__(self, status: int, body: str = "") -> None:
        super().__init__(f"bot refused the WebSocket handshake: HTTP {status} {body}".strip())
        self.status = status
        self.body = body


class PeerFail(Exception):
    """Raise from a responder to answer ``{"status": "failed", "retcode": ...}``."""

    def __init__(self, retcode: int = 100, msg: str = "failed") -> None:
        super().__init__(f"retcode={retcode} {msg}")
        self.retcode = retcode
        self.msg = msg


# NapCat's answers (retcode 1200) for the send failures the bot must tell apart.
REFUSED_STRANGER = (
    "EventChecker Failed: NTEvent serviceAndMethod:NodeIKernelMsgService/sendMsg "
    "ListenerName:NodeIKernelMsgListener/onMsgInfoListUpdate EventRet: {\"result\":-1}"
)
TIMEOUT = (
    "Timeout: NTEvent serviceAndMethod:NodeIKernelMsgService/sendMsg "
    "ListenerName:NodeIKernelMsgListener/onMsgInfoListUpdate EventRet: {}"
)
GET_UID_ERROR = "Get Uid Error"
# NapCat's delete_msg: an id no longer in its short-id table (DeleteMsg.ts), and a recall QQ
# never confirms (refused: no admin rights; apis/msg.ts recallMsg waits 1 s for the update).
RECALL_FAILED = "Recall failed"
RECALL_TIMEOUT = (
    "Timeout: NTEvent serviceAndMethod:NodeIKernelMsgService/recallMsg "
    "ListenerName:NodeIKernelMsgListener/onMsgInfoListUpdate EventRet: {}"
)
MSG_NOT_FOUND = "消息不存在"  # GetMsg.ts, for an id no longer in the table
# Private actions that need the person to be reachable (friend, or group_id of a shared group).
PRIVATE_ACTIONS: tuple[str, ...] = ("send_private_msg", "send_private_forward_msg", "upload_private_file")


def forward_failed(res_id: str) -> str:
    return f"发送转发消息（res_id：{res_id} 失败"


def _failed(retcode: int, msg: str) -> dict[str, Any]:
    return {"status": "failed", "retcode": retcode, "data": None, "message": msg, "wording": msg}


# --- message helpers --------------------------------------------------------

_CQ_RE = re.compile(r"\[CQ:([A-Za-z0-9_.-]+)((?:,[^,\]]*)*)\]")


def _unescape(s: str) -> str:
    return s.replace("&#44;", ",").replace("&#91;", "[").replace("&#93;", "]").replace("&amp;", "&")


def _escape(s: str, *, comma: bool) -> str:
    s = s.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")
    return s.replace(",", "&#44;") if comma else s


def cq_to_segments(text: str) -> list[Segment]:
    """Parse a CQ-code string (OneBot's "string" message format) into segments."""
    out: list[Segment] = []
    pos = 0
    for m in _CQ_RE.finditer(text):
        if m.start() > pos:
            out.append({"type": "text", "data": {"text": _unescape(text[pos : m.start()])}})
        data: dict[str, str] = {}
        for kv in filter(None, m.group(2).split(",")):
            k, _, v = kv.partition("=")
            data[k] = _unescape(v)
        out.append({"type": m.group(1), "data": data})
        pos = m.end()
    if pos < len(text):
        out.append({"type": "text", "data": {"text": _unescape(text[pos:])}})
    return out


def segments_to_cq(segments: Iterable[Segment]) -> str:
    """Render segments as a CQ-code string, as OneBot's ``raw_message`` does."""
    parts = []
    for seg in segments:
        data = seg.get("data") or {}
        if seg.get("type") == "text":
            parts.append(_escape(str(data.get("text", "")), comma=False))
        else:
            args = "".join(
                f",{k}={_escape(str(v), comma=True)}" for k, v in data.items() if v is not None
            )
            parts.append(f"[CQ:{seg.get('type')}{args}]")
    return "".join(parts)


def normalize_message(message: Any, *, auto_escape: bool = False) -> list[Segment]:
    """Any OneBot message value (array, single segment, CQ string) as segments."""
    if message is None:
        return []
    if isinstance(message, str):
        if auto_escape:
            return [{"type": "text", "data": {"text": message}}]
        return cq_to_segments(message)
    if isinstance(message, dict):
        return [message]
    return [s for s in message if isinstance(s, dict)]


def segments_text(segments: Iterable[Segment]) -> str:
    """Plain text of a message; forward nodes contribute their content, one per line."""
    parts: list[str] = []
    nodes: list[str] = []
    for seg in segments:
        data = seg.get("data") or {}
        if seg.get("type") == "text":
            parts.append(str(data.get("text", "")))
        elif seg.get("type") == "node" and "content" in data:
            nodes.append(segments_text(normalize_message(data["content"])))
    return "".join(parts) + "\n".join(nodes)


# --- recorded calls ---------------------------------------------------------


@dataclass
class Call:
    """One API request the bot sent to the peer. ``time`` is ``time.monotonic()``."""

    action: str
    params: dict[str, Any]
    time: float
    echo: Any = None
    index: int = -1
    # The full answer frame sent back (None while pending, or forever if hung).
    response: dict[str, Any] | None = field(default=None, compare=False)
    _answered: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    async def answered(self, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the peer's answer to this call, e.g. to learn a sent message_id."""
        try:
            await asyncio.wait_for(self._answered.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.action} not answered within {timeout}s") from None
        assert self.response is not None
        return self.response

    @property
    def segments(self) -> list[Segment]:
        """The ``message`` param (or forward ``messages`` nodes) as a segment list."""
        msg = self.params.get("message", self.params.get("messages"))
        return normalize_message(msg, auto_escape=bool(self.params.get("auto_escape")))

    @property
    def text(self) -> str:
        return segments_text(self.segments)

    @property
    def target(self) -> tuple[str, int] | None:
        """(message_type, group or user id) for send actions, else None."""
        if self.action not in SEND_ACTIONS:
            return None
        p = self.params
        # A private send may carry a group_id: the group of a temporary chat.
        mtype = p.get("message_type") or (
            "private" if "private" in self.action
            else "group" if "group" in self.action or p.get("group_id") is not None
            else "private"
        )
        tid = p.get("group_id") if mtype == "group" else p.get("user_id")
        return str(mtype), int(tid) if tid is not None else 0


@dataclass
class _Link:
    """One live WebSocket and the task reading from it."""

    ws: Connection
    reader: asyncio.Task[None] | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class OneBotPeer:
    def __init__(self, self_id: int = 10000, *, nickname: str = "连心") -> None:
        self.self_id = self_id
        self.nickname = nickname
        self.calls: list[Call] = []
        self.responders: dict[str, Responder] = {}
        self.hang: dict[str, bool] = {}
        self.members: dict[int, list[int]] = {}
        # People who added the bot as a friend: the only ones reachable without a group_id.
        self.friends: set[int] = set()
        # Send actions QQ is slow for: delivered, but answered as NapCat does after 10 s.
        self.slow: set[str] = set()
        # Optional per-member details used by member-list answers and events.
        self.roles: dict[tuple[int, int], str] = {}
        self.nicknames: dict[int, str] = {}
        # message_id -> get_msg payload, for both peer-sent and bot-sent messages.
        self.messages: dict[int, dict[str, Any]] = {}
        # Frames from the bot that were not API calls, and responder crashes.
        self.junk: list[str] = []
        self.errors: list[BaseException] = []
        self._ids = itertools.count(1001)
        self._cond = asyncio.Condition()
        self._link: _Link | None = None
        self._connected = asyncio.Event()
        self._server: Server | None = None
        self._server_token: str | None = None
        self._reverse: tuple[str, str | None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- connection management --------------------------------------------

    @property
    def connected(self) -> bool:
        return self._link is not None

    async def connect_reverse(
        self, url: str, *, access_token: str | None = None, retry_for: float = 20.0
    ) -> None:
        """Dial the bot; retry refused/reset connections while it starts up.

        Raises HandshakeRefused straight away when the bot answers the upgrade
        with an HTTP error (bad token, duplicate X-Self-ID, ...).
        """
        self._reverse = (url, access_token)
        headers = {"X-Self-ID": str(self.self_id), "X-Client-Role": "Universal"}
        if access_token is not None:
            headers["Authorization"] = f"Bearer {access_token}"
        deadline = time.monotonic() + retry_for
        while True:
            try:
                # proxy=None: loopback only, never via an environment proxy.
                ws = await connect(
                    url, additional_headers=headers, proxy=None, open_timeout=5, max_size=None
                )
                break
            except InvalidStatus as e:
                body = e.response.body.decode("utf-8", "replace") if e.response.body else ""
                raise HandshakeRefused(e.response.status_code, body) from None
            except (OSError, InvalidHandshake, asyncio.TimeoutError):
                # Not listening yet, or the server hung up mid-handshake while starting.
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.2)
        link = _Link(ws)
        await self._open(link)
        link.reader = asyncio.create_task(self._read_loop(link))

    async def try_connect_reverse(
        self, url: str, *, access_token: str | None = None, retry_for: float = 20.0
    ) -> bool:
        """Like connect_reverse, but report a refused handshake as False."""
        try:
            await self.connect_reverse(url, access_token=access_token, retry_for=retry_for)
        except HandshakeRefused:
            return False
        return True

    async def reconnect(self, *, retry_for: float = 10.0) -> None:
        """Reverse mode: dial again with the last URL/token after drop()/close().

        Also retries refusals, since the bot answers 403 "Duplicate X-Self-ID"
        until it has noticed the previous connection is gone.
        """
        assert self._reverse is not None, "reconnect() needs an earlier connect_reverse()"
        url, token = self._reverse
        deadline = time.monotonic() + retry_for
        while True:
            try:
                left = max(0.0, deadline - time.monotonic())
                return await self.connect_reverse(url, access_token=token, retry_for=left)
            except HandshakeRefused:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.2)

    async def serve_forward(
        self, host: str = "127.0.0.1", port: int = 0, *, access_token: str | None = None
    ) -> int:
        """Listen for the bot's forward WebSocket; returns the bound port."""
        self._server_token = access_token
        self._server = await serve(
            self._serve_conn, host, port, process_request=self._check_auth, max_size=None
        )
        return int(self._server.sockets[0].getsockname()[1])

    def _check_auth(self, conn: ServerConnection, request: Request) -> Response | None:
        # OneBot v11: 401 when the token is missing, 403 when it is wrong.
        if self._server_token is None:
            return None
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if not auth:
            return conn.respond(HTTPStatus.UNAUTHORIZED, "missing access token\n")
        if scheme.lower() != "bearer" or token.strip() != self._server_token:
            return conn.respond(HTTPStatus.FORBIDDEN, "bad access token\n")
        return None

    async def _serve_conn(self, ws: ServerConnection) -> None:
        link = _Link(ws)
        if self._link is not None:
            # A newer bot connection replaces a stale one, as NapCat would.
            await self._shut(self._link, abort=True)
        await self._open(link)
        await self._read_loop(link)

    async def _open(self, link: _Link) -> None:
        self._link = link
        await self.send_event(self._meta("lifecycle", sub_type="connect"))
        self._connected.set()

    async def wait_connected(self, timeout: float = 20.0) -> None:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"bot did not connect within {timeout}s") from None

    async def wait_disconnected(self, timeout: float = 10.0) -> None:
        link = self._link
        if link is None:
            return
        try:
            await asyncio.wait_for(link.closed.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"connection still open after {timeout}s") from None

    async def _shut(self, link: _Link, *, abort: bool) -> None:
        if abort:
            # No close frame: the bot sees a dropped TCP connection.
            if link.ws.transport is not None:
                link.ws.transport.abort()
        else:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(link.ws.close(), 5)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(link.closed.wait(), 5)

    async def drop(self) -> None:
        """Abruptly drop the current connection (keeps a forward server listening)."""
        if self._link is not None:
            await self._shut(self._link, abort=True)

    async def close(self) -> None:
        """Close the connection gracefully and stop listening."""
        if self._link is not None:
            await self._shut(self._link, abort=False)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> OneBotPeer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- receiving API calls ----------------------------------------------

    async def _read_loop(self, link: _Link) -> None:
        try:
            async for raw in link.ws:
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                try:
                    data = json.loads(text)
                except ValueError:
                    data = None
                if not isinstance(data, dict) or not isinstance(data.get("action"), str):
                    self.junk.append(text)
                    continue
                params = data.get("params")
                async with self._cond:
                    call = Call(
                        action=data["action"],
                        params=params if isinstance(params, dict) else {},
                        time=time.monotonic(),
                        echo=data.get("echo"),
                        index=len(self.calls),
                    )
                    self.calls.append(call)
                    self._cond.notify_all()
                # Answer concurrently so a hung or slow responder blocks nothing else.
                task = asyncio.create_task(self._answer(link, call, "echo" in data))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except ConnectionClosed:
            pass
        finally:
            if self._link is link:
                self._link = None
                self._connected.clear()
            link.closed.set()

    async def _answer(self, link: _Link, call: Call, has_echo: bool) -> None:
        if self.hang.get(call.action):
            return
        reply: dict[str, Any]
        try:
            self._check_send(call)
            fn = self.responders.get(call.action) or self._default_responder(call.action)
            data = fn(call.params)
            if inspect.isawaitable(data):
                data = await data
            if call.action in SEND_ACTIONS and isinstance(data, dict) and "message_id" in data:
                self._remember_sent(call, int(data["message_id"]))
            if call.action in self.slow:
                # Delivered, but NapCat stopped waiting for QQ's confirmation.
                if "forward" in call.action:
                    raise PeerFail(1200, forward_failed(f"slow-{call.index}"))
                raise PeerFail(1200, TIMEOUT)
            reply = {"status": "ok", "retcode": 0, "data": data, "message": "", "wording": ""}
        except PeerFail as e:
            reply = _failed(e.retcode, e.msg)
        except Exception as e:  # a broken responder is a test bug: keep it visible
            self.errors.append(e)
            reply = _failed(103, repr(e))
        if has_echo:
            reply["echo"] = call.echo
        call.response = reply
        call._answered.set()
        with contextlib.suppress(ConnectionClosed):
            await link.ws.send(json.dumps(reply, ensure_ascii=False))

    def _default_responder(self, action: str) -> Responder:
        defaults: dict[str, Responder] = {
            **{a: self._send_default for a in SEND_ACTIONS},
            "get_login_info": lambda p: {"user_id": self.self_id, "nickname": self.nickname},
            "get_msg": self._get_msg,
            "delete_msg": self._delete_msg,
            "get_group_member_list": lambda p: [
                self._member(int(p["group_id"]), u)
                for u in self.members.get(int(p["group_id"]), [])
            ],
            "get_group_member_info": self._get_member_info,
            "get_group_list": lambda p: [
                self._group_info(g) for g in self.members
            ],
            "get_group_info": lambda p: self._group_info(int(p["group_id"])),
            "get_stranger_info": lambda p: self._user(int(p["user_id"])),
            "get_friend_list": lambda p: [self._user(u) for u in sorted(self.friends)],
            "get_version_info": lambda p: {
                "app_name": "lianxin-test-peer", "app_version": "0.1.0", "protocol_version": "v11",
            },
            "get_status": lambda p: {"online": True, "good": True},
            "can_send_image": lambda p: {"yes": True},
            "can_send_record": lambda p: {"yes": True},
        }
        if action in defaults:
            return defaults[action]
        if action in _NULL_ACTIONS:
            return lambda p: None

        def unsupported(p: dict[str, Any]) -> Any:
            raise PeerFail(1404, f"unsupported action {action}")

        return unsupported

    def _send_default(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_id": next(self._ids)}

    # --- NapCat's send-side rules ------------------------------------------

    def is_member(self, group_id: int, user_id: int) -> bool:
        """Whether the person is in the group, as far as the peer knows (member list or
        having spoken there)."""
        return user_id in self.members.get(group_id, []) or (group_id, user_id) in self.roles

    def known_user(self, user_id: int) -> bool:
        """An id NapCat can resolve to a QQ account (else ``Get Uid Error``)."""
        return (
            user_id == self.self_id
            or user_id in self.friends
            or any(user_id in m for m in self.members.values())
            or any(u == user_id for _, u in self.roles)
        )

    def _check_send(self, call: Call) -> None:
        """Refuse a send the way NapCat does (SendMsg.ts createContext, api/msg.ts converter)."""
        if call.action not in SEND_ACTIONS and call.action not in PRIVATE_ACTIONS:
            return
        p = call.params
        private = call.action in PRIVATE_ACTIONS or (
            call.action in ("send_msg", "send_forward_msg")
            and (p.get("message_type") == "private" or (p.get("message_type") is None and p.get("group_id") is None))
        )
        if private:
            uid = int(p.get("user_id") or 0)
            gid = p.get("group_id")
            # A friend is reached directly; anyone else only through a group both are in
            # (a temporary chat); without one QQ refuses the message as to a stranger.
            if uid not in self.friends and (gid is None or not self.is_member(int(gid), uid)):
                raise PeerFail(1200, REFUSED_STRANGER)
            return
        for seg in call.segments:
            if seg.get("type") == "at":
                qq = str((seg.get("data") or {}).get("qq", ""))
                if qq != "all" and not (qq.isdigit() and self.known_user(int(qq))):
                    raise PeerFail(1200, GET_UID_ERROR)

    def add_members(self, group_id: int, *user_ids: int) -> None:
        self.members.setdefault(group_id, [])
        self.members[group_id] += [u for u in user_ids if u not in self.members[group_id]]

    def members_from_org(self, path: Any) -> None:
        """Fill the member lists as the real groups of an org file would be: each group holds
        its department's people and its moderators."""
        import yaml  # type: ignore[import-untyped]

        with open(path, encoding="utf-8") as f:
            spec = yaml.safe_load(f)
        people = spec.get("people") or []
        for g in spec.get("groups") or []:
            dept = g.get("department")
            self.add_members(int(g["id"]), *[int(q) for q in g.get("moderators") or []])
            self.add_members(int(g["id"]), *[int(x["qq"]) for x in people if dept and x.get("department") == dept])

    def _remember_sent(self, call: Call, message_id: int) -> None:
        target = call.target
        segments = call.segments
        if target and target[0] == "private":
            # NapCat drops an at in a private chat without a word.
            segments = [s for s in segments if s.get("type") != "at"]
        entry: dict[str, Any] = {
            "time": int(time.time()),
            "message_type": target[0] if target else "private",
            "message_id": message_id,
            "real_id": message_id,
            "sender": {"user_id": self.self_id, "nickname": self.nickname},
            "message": segments,
            "raw_message": segments_to_cq(segments),
        }
        if target and target[0] == "group":
            entry["group_id"] = target[1]
        self._keep(message_id, entry)

    SHORT_IDS = 5000  # NapCat's message-unique.ts table size; the oldest id is forgotten first

    def _keep(self, message_id: int, entry: dict[str, Any]) -> None:
        self.messages[message_id] = entry
        while len(self.messages) > self.SHORT_IDS:
            del self.messages[next(iter(self.messages))]

    def _delete_msg(self, params: dict[str, Any]) -> None:
        # NapCat (DeleteMsg.ts) looks the short id up in its in-memory table; unknown: "Recall failed".
        try:
            mid = int(params["message_id"])
            entry = self.messages[mid]
        except (KeyError, ValueError, TypeError):
            raise PeerFail(1200, RECALL_FAILED) from None
        if not self.may_recall(entry):
            raise PeerFail(1200, RECALL_TIMEOUT)  # QQ refuses silently; the message stays
        del self.messages[mid]

    def may_recall(self, entry: dict[str, Any]) -> bool:
        """QQ's rule: anyone recalls their own message; in a group the owner recalls anyone's,
        an admin a member's; nobody recalls someone else's private message."""
        author = int((entry.get("sender") or {}).get("user_id", 0))
        if author == self.self_id:
            return True
        if "group_id" not in entry:
            return False
        gid = int(entry["group_id"])
        mine = self.roles.get((gid, self.self_id), "member")
        theirs = (entry.get("sender") or {}).get("role") or self.roles.get((gid, author), "member")
        return mine == "owner" or (mine == "admin" and theirs == "member")

    def restart_napcat(self) -> None:
        """NapCat restarted: its short-id table is gone, so old ids cannot be fetched or recalled."""
        self.messages.clear()

    def _get_msg(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.messages[int(params["message_id"])]
        except (KeyError, ValueError, TypeError):
            raise PeerFail(1200, MSG_NOT_FOUND) from None

    def _nick(self, user_id: int) -> str:
        return self.nicknames.get(user_id, f"user{user_id}")

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"user_id": user_id, "nickname": self._nick(user_id), "sex": "unknown", "age": 0}

    def _group_info(self, group_id: int) -> dict[str, Any]:
        return {
            "group_id": group_id,
            "group_name": f"group{group_id}",
            "member_count": len(self.members.get(group_id, [])),
            "max_member_count": 500,
        }

    def _member(self, group_id: int, user_id: int) -> dict[str, Any]:
        return {
            "group_id": group_id,
            "user_id": user_id,
            "nickname": self._nick(user_id),
            "card": "",
            "role": self.roles.get((group_id, user_id), "member"),
        }

    def _get_member_info(self, params: dict[str, Any]) -> dict[str, Any]:
        gid, uid = int(params["group_id"]), int(params["user_id"])
        # The bot is in every group it hears from (its role set in `roles`).
        if uid not in self.members.get(gid, []) and not (uid == self.self_id and (gid in self.members or (gid, uid) in self.roles)):
            raise PeerFail(100, "member not found")
        return self._member(gid, uid)

    # --- waiting on calls -------------------------------------------------

    def mark(self) -> int:
        """Index to pass as ``since=`` to only consider calls made from now on."""
        return len(self.calls)

    def _match(
        self, action: str | tuple[str, ...] | None, where: Callable[[Call], bool] | None, since: int
    ) -> list[Call]:
        wanted = (action,) if isinstance(action, str) else action
        return [
            c for c in self.calls[since:]
            if (wanted is None or c.action in wanted) and (where is None or where(c))
        ]

    async def wait_call(
        self,
        action: str | tuple[str, ...] | None = None,
        *,
        where: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
    ) -> Call:
        """First call at index >= since matching action and predicate."""
        try:
            async with self._cond:
                found = self._cond.wait_for(lambda: self._match(action, where, since))
                await asyncio.wait_for(found, timeout)
        except asyncio.TimeoutError:
            seen = [(c.action, c.params) for c in self.calls[since:]]
            raise AssertionError(
                f"no {action!r} call within {timeout}s; calls since {since}: {seen}"
            ) from None
        return self._match(action, where, since)[0]

    async def wait_no_call(
        self,
        action: str | tuple[str, ...] | None = None,
        *,
        where: Callable[[Call], bool] | None = None,
        for_: float = 1.0,
        since: int = 0,
    ) -> None:
        await asyncio.sleep(for_)
        if found := self._match(action, where, since):
            seen = [(c.action, c.params) for c in found]
            raise AssertionError(f"unexpected {action!r} call(s): {seen}")

    def sent_texts(self, since: int = 0) -> list[tuple[str, int, str]]:
        """(message_type, target id, plain text) for every send call at index >= since."""
        out = []
        for c in self.calls[since:]:
            if (target := c.target) is not None:
                out.append((target[0], target[1], c.text))
        return out

    # --- sending events ---------------------------------------------------

    async def send_event(self, event: dict[str, Any] | str) -> None:
        """Send any event; a str goes out verbatim (for malformed-frame tests)."""
        link = self._link
        if link is None:
            raise RuntimeError("OneBotPeer is not connected")
        frame = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        await link.ws.send(frame)

    def _base(self, post_type: str) -> dict[str, Any]:
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": post_type}

    def _meta(self, meta_type: str, **fields: Any) -> dict[str, Any]:
        return {**self._base("meta_event"), "meta_event_type": meta_type, **fields}

    async def heartbeat(self, interval: int = 30000) -> None:
        status = {"online": True, "good": True}
        await self.send_event(self._meta("heartbeat", status=status, interval=interval))

    async def notice(self, notice_type: str, **fields: Any) -> None:
        """Generic notice, e.g. ``notice("group_increase", sub_type="approve",
        group_id=..., user_id=..., operator_id=...)``."""
        await self.send_event({**self._base("notice"), "notice_type": notice_type, **fields})

    async def request(self, request_type: str, **fields: Any) -> None:
        await self.send_event({**self._base("request"), "request_type": request_type, **fields})

    @staticmethod
    def _segments(text: str | list[Segment]) -> list[Segment]:
        return [{"type": "text", "data": {"text": text}}] if isinstance(text, str) else list(text)

    async def _message(
        self, message_type: str, sub_type: str, user_id: int, segments: list[Segment],
        sender: dict[str, Any], message_id: int | None, extra: dict[str, Any],
    ) -> int:
        mid = next(self._ids) if message_id is None else message_id
        event = {
            **self._base("message"),
            "message_type": message_type,
            "sub_type": sub_type,
            "message_id": mid,
            "real_id": mid,
            "user_id": user_id,
            **extra,
            "message": segments,
            "raw_message": segments_to_cq(segments),
            "message_format": "array",
            "font": 14,
            "sender": sender,
        }
        # Remember it so the bot's get_msg (used to resolve replies) works.
        self._keep(mid, {
            k: event[k]
            for k in (
                "time", "message_type", "message_id", "real_id", "sender", "message", "raw_message"
            )
        } | extra)
        await self.send_event(event)
        return mid

    async def private_message(
        self,
        user_id: int,
        text: str | list[Segment],
        *,
        message_id: int | None = None,
        sub_type: str = "friend",
    ) -> int:
        """A private message; ``text`` may also be a ready segment list. Returns its message_id."""
        sender = {"user_id": user_id, "nickname": self._nick(user_id), "card": ""}
        segments = self._segments(text)
        if sub_type == "friend":  # NapCat reports friends' messages as "friend"
            self.friends.add(user_id)
        # NapCat adds target_id (the peer's uin) to every message not in a group.
        return await self._message(
            "private", sub_type, user_id, segments, sender, message_id, {"target_id": user_id}
        )

    # --- NapCat's other events around private chats -------------------------

    async def input_status(self, user_id: int, *, typing: bool = True) -> None:
        """NapCat's typing notice (OB11InputStatusEvent), sent while someone writes to the bot."""
        await self.notice(
            "notify", sub_type="input_status",
            status_text="对方正在输入..." if typing else "", event_type=1 if typing else 2,
            user_id=user_id, group_id=0,
        )

    async def friend_recall(self, user_id: int, message_id: int) -> None:
        """OB11FriendRecallNoticeEvent: a private message taken back."""
        await self.notice("friend_recall", user_id=user_id, message_id=message_id)

    async def message_sent(self, target_id: int, text: str | list[Segment]) -> int:
        """A report of the bot's own private message, as NapCat sends it when 上报自身消息 is on
        (post_type message_sent, user_id = the bot, target_id = the recipient)."""
        segments = self._segments(text)
        mid = next(self._ids)
        await self.send_event({
            **self._base("message_sent"),
            "user_id": self.self_id,
            "message_id": mid, "message_seq": mid, "real_id": mid, "real_seq": str(mid),
            "message_type": "private",
            "sender": {"user_id": self.self_id, "nickname": self.nickname, "card": ""},
            "raw_message": segments_to_cq(segments), "font": 14, "sub_type": "friend",
            "message": segments, "message_format": "array",
            "message_sent_type": "self", "target_id": target_id,
        })
        return mid

    async def malformed_private_message(
        self, user_id: int, text: str, *, without: Iterable[str] = (), **replace: Any
    ) -> dict[str, Any]:
        """A private message that NoneBot's OneBot model refuses: fields left out (``without=
        ("font",)``) or given odd values (``message_id="abc"``). Returns the payload sent."""
        segments = self._segments(text)
        mid = next(self._ids)
        event: dict[str, Any] = {
            **self._base("message"), "message_type": "private", "sub_type": "friend",
            "message_id": mid, "real_id": mid, "user_id": user_id, "target_id": user_id,
            "message": segments, "raw_message": segments_to_cq(segments),
            "message_format": "array", "font": 14,
            "sender": {"user_id": user_id, "nickname": self._nick(user_id), "card": ""},
        }
        event = {k: v for k, v in event.items() if k not in set(without)} | replace
        await self.send_event(event)
        return event

    async def raw_frame(self, frame: str | bytes) -> None:
        """A WebSocket frame exactly as given (not JSON, binary, truncated...)."""
        link = self._link
        if link is None:
            raise RuntimeError("OneBotPeer is not connected")
        await link.ws.send(frame)

    async def group_message(
        self,
        group_id: int,
        user_id: int,
        text: str | list[Segment],
        *,
        reply_to: int | None = None,
        at: int | bool | None = None,
        role: str = "member",
        message_id: int | None = None,
    ) -> int:
        """A group message. ``reply_to`` prepends a reply segment; ``at=True``
        (the bot) or ``at=<qq>`` prepends an @ segment. Returns its message_id."""
        segments = self._segments(text)
        if at is not None and at is not False:
            qq = self.self_id if at is True else int(at)
            segments = [{"type": "at", "data": {"qq": str(qq)}}, *self._segments(" "), *segments]
        if reply_to is not None:
            segments = [{"type": "reply", "data": {"id": str(reply_to)}}, *segments]
        self.roles[(group_id, user_id)] = role
        sender = {"user_id": user_id, "nickname": self._nick(user_id), "card": "", "role": role}
        return await self._message(
            "group", "normal", user_id, segments, sender, message_id,
            {"group_id": group_id, "anonymous": None},
        )
