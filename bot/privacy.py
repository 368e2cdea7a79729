"""Privacy plumbing: log redaction, sealing of reply routes.

NoneBot logs every event (INFO: `get_event_description`, TRACE: `repr`), and the stock
OneBot v11 models describe themselves as `Message {id} from {user_id} "<text>"` or, for
notices, requests and unknown types, as their whole payload. For private chat that pairs a
person with what they told the bot in confidence (a typing notice or a recall names the user
right beside the message line). So every model the adapter builds is replaced by a subclass
whose log line and repr say the event type, its message id and a length, nothing more.
"""

from __future__ import annotations

import os
import re
from typing import Any

from nonebot.adapters.onebot.v11 import Adapter
from nonebot.adapters.onebot.v11 import Event as _Event
from nonebot.adapters.onebot.v11 import GroupMessageEvent as _Group
from nonebot.adapters.onebot.v11 import PrivateMessageEvent as _Private
from typing_extensions import override

_WORD = re.compile(r"[a-z_]{1,32}")


def safe_name(value: object) -> str:
    """A type name taken from a payload, if it looks like one (it goes into the log)."""
    return value if isinstance(value, str) and _WORD.fullmatch(value) else "?"


class _Redacted:
    """Mixin for the adapter's models: the log line and repr name the event, never its data."""

    def get_event_name(self) -> str:
        return ".".join(safe_name(part) for part in super().get_event_name().split("."))  # type: ignore[misc]

    def get_event_description(self) -> str:
        mid = getattr(self, "message_id", None)
        return "redacted" if mid is None else f"message {mid}, redacted"

    # NoneBot's TRACE line prints `event!r` (pydantic builds repr, str and rich output from this).
    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        mid = getattr(self, "message_id", None)
        return [("message_id", mid)] if mid is not None else []


class PrivateMessageEvent(_Redacted, _Private):
    @override
    def get_event_description(self) -> str:
        return f"Private message {self.message_id} ({len(self.raw_message)} chars, redacted)"

    def __repr__(self) -> str:
        return f"PrivateMessageEvent(message_id={self.message_id}, redacted)"

    __str__ = __repr__


class GroupMessageEvent(_Redacted, _Group):
    @override
    def get_event_description(self) -> str:
        return f"Message {self.message_id} in group {self.group_id} ({len(self.raw_message)} chars)"

    def __repr__(self) -> str:
        return f"GroupMessageEvent(message_id={self.message_id}, group_id={self.group_id}, redacted)"

    __str__ = __repr__


def _redacted(model: type[_Event]) -> type[_Event]:
    return type(model.__name__, (_Redacted, model), {"__module__": __name__, "__qualname__": model.__name__})


def install_log_redaction() -> None:
    """Register a redacted subclass for every model the adapter knows (once)."""
    models = Adapter.event_models.models
    if PrivateMessageEvent in models:
        return
    own: dict[type[_Event], type[_Event]] = {_Private: PrivateMessageEvent, _Group: GroupMessageEvent}
    redacted = [own.get(m) or _redacted(m) for m in list(models) if not issubclass(m, _Redacted)]
    Adapter.add_custom_model(*redacted)


class Sealer:
    """AES-GCM with a random nonce; associated data binds a sealed value to its row."""

    def __init__(self, key: bytes) -> None:
        # Imported with the first sealed route, not at start-up (~6 MB resident).
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes = b"") -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context)
