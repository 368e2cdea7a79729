"""What comes in over Feishu (飞书) before NoneBot sees it: signed callbacks, parsing, quiet logs.

nonebot-adapter-feishu 2.7 as shipped checks only the verification token of a webhook call,
logs an event it cannot parse with its whole payload (who said what), describes a message event
in the log by its text, hands an event Feishu delivers twice to the bot twice, and registers a
bot only if the Open Platform answers at start-up: one network error there stops NoneBot, QQ
included. The adapter here:

* with an Encrypt Key set, refuses a callback whose X-Lark-Signature does not match
  (sha256 of timestamp + nonce + key + body, as the Open Platform signs it);
* handles an event id once (Feishu re-delivers an event it thinks was not received);
* reads message events whose sender ids lack `user_id` (sent only with the
  contact:user.employee_id:readonly scope, which the bot does not need); a message event no
  model reads is logged by type and size, never by content, counted for /状态, and becomes an
  `UnreadableEvent` naming only whom to ask again;
* describes every event in the log by type and message id only;
* connects its bots in the background, retrying, so start-up never waits on Feishu.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections import OrderedDict
from typing import Any, ClassVar

from nonebot.adapters.feishu import Adapter as _Adapter
from nonebot.adapters.feishu import Bot
from nonebot.adapters.feishu.config import BotConfig
from nonebot.adapters.feishu.event import Event, GroupMessageEvent, PrivateMessageEvent
from nonebot.adapters.feishu.utils import AESCipher, log
from nonebot.adapters.feishu.ws import WsClient
from nonebot.compat import type_validate_python
from nonebot.drivers import URL, HTTPServerSetup, Request, Response, WebSocketClientMixin
from nonebot.utils import escape_tag
from typing_extensions import override

from bot.platform.unreadable import Unreadable, counted
from bot.privacy import Redacted, register_redaction

# Since start-up: events Feishu delivered again and were not handled twice.
duplicates = 0

SEEN_EVENTS = 4096  # event ids remembered for de-duplication (Feishu retries within hours)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
RETRY_FIRST, RETRY_MAX = 5.0, 300.0  # seconds between attempts to reach the Open Platform


class _Redacted(Redacted):
    """The shared redaction, for Feishu's models: the message id sits in `event.message`."""

    def get_event_description(self) -> str:
        message = getattr(getattr(self, "event", None), "message", None)
        mid = getattr(message, "message_id", None)
        if mid is None:
            return "redacted"
        size = len(getattr(message, "content", "") or "")
        return f"message {mid} ({size} chars, redacted)"

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        message = getattr(getattr(self, "event", None), "message", None)
        mid = getattr(message, "message_id", None)
        return [("message_id", mid)] if mid is not None else []


def _redacted(model: type[Event]) -> type[Event]:
    return type(model.__name__, (_Redacted, model), {"__module__": __name__, "__qualname__": model.__name__})


def install_log_redaction() -> None:
    """Replace every model the adapter knows by a redacted subclass (once)."""
    models = dict(_Adapter.event_models.items())
    if any(issubclass(m, Redacted) for m in models.values()):
        return
    for key, model in models.items():
        _Adapter.event_models[key] = _redacted(model)


register_redaction(install_log_redaction)


class UnreadableEvent(Unreadable, Event):
    """A message event no model could read. Carries whom to answer, never what was said."""

    kind: str
    size: int
    chat_type: str | None = None
    sender: str | None = None  # the sender's open_id, where the payload says it

    @override
    def get_event_description(self) -> str:
        return f"{self.size} chars"

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        return [("kind", self.kind), ("size", self.size)]


def _unreadable(json_data: dict[str, Any], event_type: str, body: Any, message: dict[str, Any]) -> Event | None:
    size = counted(json_data)
    kind = ".".join(p if _NAME.fullmatch(p) else "?" for p in event_type.split("."))
    log("WARNING", f"Unreadable {kind} event ({size} chars): not handled")
    sender = body.get("sender") if isinstance(body, dict) else None
    ids = sender.get("sender_id") if isinstance(sender, dict) else None
    open_id = ids.get("open_id") if isinstance(ids, dict) else None
    chat_type = message.get("chat_type")
    try:
        return type_validate_python(UnreadableEvent, {
            "schema": "2.0", "header": json_data["header"], "event": None, "kind": kind, "size": size,
            "chat_type": chat_type if isinstance(chat_type, str) else None,
            "sender": open_id if isinstance(open_id, str) and open_id.startswith("ou_") else None,
        })
    except (KeyError, ValueError):  # no readable header either
        return None


def _fill_ids(value: Any) -> None:
    """The adapter's id model wants union_id, user_id and open_id; Feishu sends user_id only
    to apps with the employee-id scope. An absent one becomes "" (nothing reads it)."""
    if isinstance(value, dict):
        if "open_id" in value:
            for key in ("union_id", "user_id"):
                value.setdefault(key, "")
        for item in value.values():
            _fill_ids(item)
    elif isinstance(value, list):
        for item in value:
            _fill_ids(item)


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """X-Lark-Signature: sha256 (hex) of timestamp + nonce + Encrypt Key, then the raw body."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


class Adapter(_Adapter):
    _seen: ClassVar[OrderedDict[str, None]] = OrderedDict()

    @classmethod
    @override
    def json_to_event(cls, json_data: Any) -> Event | None:
        global duplicates
        if not isinstance(json_data, dict) or json_data.get("type") == "url_verification":
            return None
        header = json_data.get("header")
        if not isinstance(header, dict):
            return None
        event_id = str(header.get("event_id") or "")
        if event_id:
            if event_id in cls._seen:
                duplicates += 1
                return None
            cls._seen[event_id] = None
            while len(cls._seen) > SEEN_EVENTS:
                cls._seen.popitem(last=False)
        event_type = str(header.get("event_type") or "")
        body = json_data.get("event")
        message = body.get("message") if isinstance(body, dict) else None
        if isinstance(message, dict):
            event_type += f".{message.get('chat_type')}"
        _fill_ids(body)
        for model in cls.get_event_model(event_type):
            try:
                event = type_validate_python(model, json_data)
            except ValueError:  # pydantic's ValidationError; its text quotes the payload
                continue
            # The catch-all MessageEvent takes any `message` (typed Any): not a message we can read.
            if isinstance(message, dict) and not isinstance(event, (GroupMessageEvent, PrivateMessageEvent)):
                break
            return event
        if isinstance(message, dict):
            return _unreadable(json_data, event_type, body, message)
        try:
            return type_validate_python(Event, json_data)
        except ValueError:
            return None

    @override
    async def _handle_http(self, request: Request) -> Response:
        bot_config = self.bot_apps.get(request.url.parts[-1])
        if bot_config is not None and bot_config.encrypt_key and not self._signed(request, bot_config.encrypt_key):
            log("WARNING", "Refused a Feishu callback with a missing or wrong signature")
            return Response(401, content="signature check failed")
        return await super()._handle_http(request)

    @staticmethod
    def _signed(request: Request, encrypt_key: str) -> bool:
        body = request.content or b""
        if isinstance(body, str):
            body = body.encode()
        headers = {k.lower(): v for k, v in request.headers.items()}
        given = headers.get("x-lark-signature")
        if given is None:
            # The address check when the callback URL is saved carries no signature; it is
            # answered (the challenge) only after the token inside the encrypted body matched.
            return _is_url_check(body, encrypt_key)
        expected = signature(headers.get("x-lark-request-timestamp", ""), headers.get("x-lark-request-nonce", ""), encrypt_key, body)
        return hmac.compare_digest(given, expected)

    @override
    async def startup(self) -> None:
        for bot_config in self.feishu_config.feishu_bots:
            self.bot_apps[bot_config.app_id] = bot_config
            if bot_config.protocol == "http":
                # The route exists from the start: a callback before the bot is connected gets
                # an error, and Feishu delivers it again later.
                self.setup_http_server(HTTPServerSetup(URL(f"/feishu/{bot_config.app_id}"), "POST", self.get_name(), self._handle_http))
            task = asyncio.create_task(self._connect(bot_config))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)

    async def _connect(self, bot_config: BotConfig) -> None:
        wait = RETRY_FIRST
        while True:
            try:
                result = await self.get_bot_info(bot_config)
            except Exception as e:  # noqa: BLE001 - network, bad answer: try again later
                reason = type(e).__name__
            else:
                if result.code == 0:
                    break
                reason = f"code {result.code}"
            log("WARNING", f"Feishu bot {escape_tag(bot_config.app_id)} not connected ({reason}); retrying in {wait:.0f}s")
            await asyncio.sleep(wait)
            wait = min(wait * 2, RETRY_MAX)
        if self.bots.get(bot_config.app_id):
            return
        bot = Bot(self, bot_config.app_id, bot_config=bot_config, bot_info=result.bot)
        self.bot_connect(bot)
        log("INFO", f"<y>Bot {escape_tag(bot_config.app_id)}</y> connected")
        if bot_config.protocol == "ws":
            if not isinstance(self.driver, WebSocketClientMixin):
                log("WARNING", f"The driver has no WebSocket client: no events for Feishu bot {escape_tag(bot_config.app_id)}")
                return
            await self._run_ws(WsClient(self, bot, bot_config), bot_config)


def _is_url_check(body: bytes, encrypt_key: str) -> bool:
    try:
        encrypted = json.loads(body).get("encrypt")
        data = json.loads(AESCipher(encrypt_key).decrypt_string(encrypted))
    except Exception:  # noqa: BLE001 - not JSON, not encrypted, wrong key: not a URL check
        return False
    return isinstance(data, dict) and data.get("type") == "url_verification"
