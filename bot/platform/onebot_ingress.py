"""What comes in over OneBot v11 before NoneBot sees it: parsing, odd frames, the HTTP door,
and what NoneBot may log about an event.

The stock adapter logs an event it cannot parse whole (user id, nickname, full text) and drops
the connection on one frame that is not JSON. Here an unreadable event becomes a small
`UnreadableEvent` (type, id, length; never the payload), counted for /状态 and answered where
the sender is known; NapCat's reports of the bot's own messages (`message_sent`) are dropped
quietly; a non-JSON frame is skipped with a one-line warning and the connection stays.
Every model the adapter builds is replaced by a redacted subclass (bot.privacy): the stock
ones describe a message as `Message {id} from {user_id} "<text>"`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any, Literal

from nonebot.adapters.onebot.v11 import Adapter as _Adapter
from nonebot.adapters.onebot.v11 import Event, MessageEvent
from nonebot.adapters.onebot.v11 import GroupMessageEvent as _Group
from nonebot.adapters.onebot.v11 import PrivateMessageEvent as _Private
from nonebot.adapters.onebot.v11.utils import log
from nonebot.compat import type_validate_python
from nonebot.drivers import Request, Response, WebSocket
from typing_extensions import override

from bot.platform.unreadable import Unreadable, counted
from bot.privacy import Redacted, register_redaction, safe_name

# NapCat's reports of the bot's own messages since start-up.
self_reports = 0


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


class UnreadableEvent(Unreadable, Event):
    """An event no model could read. Carries who to answer, never what was said."""

    post_type: str
    kind: str
    size: int
    message_type: Literal["private", "group"] | None = None
    user_id: int | None = None
    group_id: int | None = None
    message_id: int | None = None

    @override
    def get_event_description(self) -> str:
        return f"id {self.message_id if self.message_id is not None else '?'}, {self.size} chars"

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        return [("kind", self.kind), ("message_id", self.message_id), ("size", self.size)]


def _unreadable(data: dict[str, Any]) -> UnreadableEvent:
    size = counted(data)
    post_type = safe_name(data.get("post_type"))
    sub = next((data[k] for k in ("message_type", "notice_type", "request_type", "meta_event_type") if k in data), None)
    kind = post_type if sub is None else f"{post_type}.{safe_name(sub)}"
    message_type = data.get("message_type") if post_type == "message" else None
    event = UnreadableEvent(
        time=_int(data.get("time")) or 0,
        self_id=_int(data.get("self_id")) or 0,
        post_type=post_type,
        kind=kind,
        size=size,
        message_type=message_type if message_type in ("private", "group") else None,
        user_id=_int(data.get("user_id")),
        group_id=_int(data.get("group_id")),
        message_id=_int(data.get("message_id")),
    )
    log("WARNING", f"Unreadable {kind} event ({event.get_event_description()}): not handled")
    return event


def parse_event(data: dict[str, Any]) -> Event | None:
    """The adapter's json_to_event for a payload with a post_type, minus its logging of raw data."""
    global self_reports
    if data.get("post_type") == "message_sent":
        # NapCat's "上报自身消息": the bot's own sends, carrying the recipient (target_id) and
        # the text. Never a user's message, never logged.
        if self_reports == 0:
            log("INFO", "NapCat reports the bot's own messages (message_sent); they are ignored. "
                        "Turning off 上报自身消息 in NapCat saves the work.")
        self_reports += 1
        return None
    try:
        models = list(_Adapter.get_event_model(data))
    except ValueError:  # two type keys at once (e.g. message_type and notice_type)
        models = []
    for model in models:
        try:
            event = type_validate_python(model, data)
        except ValueError:  # pydantic's ValidationError; its text quotes the payload
            continue
        if data.get("post_type") == "message" and not isinstance(event, MessageEvent):
            break  # only the catch-all model took it: a message the bot cannot read
        return event
    return _unreadable(data)


class _JsonFrames:
    """A WebSocket whose receive() skips frames that are not JSON, instead of letting the
    adapter's read loop die on them (and log a traceback)."""

    def __init__(self, ws: WebSocket) -> None:
        self._ws = ws

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    async def receive(self) -> str | bytes:
        while True:
            frame = await self._ws.receive()
            try:
                json.loads(frame)
            except ValueError:  # includes UnicodeDecodeError
                unit = "bytes" if isinstance(frame, bytes) else "chars"
                log("WARNING", f"Ignored a WebSocket frame that is not JSON ({len(frame)} {unit})")
                continue
            return frame


class Adapter(_Adapter):
    """The OneBot v11 adapter with the parsing above and a token check on HTTP event posts."""

    @classmethod
    @override
    def json_to_event(cls, json_data: Any) -> Event | None:
        if not isinstance(json_data, dict):
            return None
        if "post_type" not in json_data:
            cls._result_store.add_result(json_data)
            return None
        return parse_event(json_data)

    @override
    async def _handle_ws(self, websocket: WebSocket) -> None:
        await super()._handle_ws(_JsonFrames(websocket))  # type: ignore[arg-type]

    @override
    @asynccontextmanager
    async def websocket(self, setup: Request) -> AsyncGenerator[WebSocket, None]:
        async with super().websocket(setup) as ws:
            yield _JsonFrames(ws)  # type: ignore[misc]

    @override
    async def _handle_http(self, request: Request) -> Response:
        # The stock adapter checks only ONEBOT_SECRET's signature on posted events: with just a
        # token set, anyone reaching the port could post a message "from" any account and have
        # the connected bot act on it. The bot takes events over WebSocket; hold HTTP to the token.
        if (refused := self._check_access_token(request)) is not None:
            return refused
        return await super()._handle_http(request)


# --- log redaction --------------------------------------------------------------------


class PrivateMessageEvent(Redacted, _Private):
    @override
    def get_event_description(self) -> str:
        return f"Private message {self.message_id} ({len(self.raw_message)} chars, redacted)"

    def __repr__(self) -> str:
        return f"PrivateMessageEvent(message_id={self.message_id}, redacted)"

    __str__ = __repr__


class GroupMessageEvent(Redacted, _Group):
    @override
    def get_event_description(self) -> str:
        return f"Message {self.message_id} in group {self.group_id} ({len(self.raw_message)} chars)"

    def __repr__(self) -> str:
        return f"GroupMessageEvent(message_id={self.message_id}, group_id={self.group_id}, redacted)"

    __str__ = __repr__


def _redacted(model: type[Event]) -> type[Event]:
    return type(model.__name__, (Redacted, model), {"__module__": __name__, "__qualname__": model.__name__})


def install_log_redaction() -> None:
    """Register a redacted subclass for every model the adapter knows (once)."""
    models = _Adapter.event_models.models
    if PrivateMessageEvent in models:
        return
    own: dict[type[Event], type[Event]] = {_Private: PrivateMessageEvent, _Group: GroupMessageEvent}
    redacted = [own.get(m) or _redacted(m) for m in list(models) if not issubclass(m, Redacted)]
    _Adapter.add_custom_model(*redacted)


register_redaction(install_log_redaction)
