"""Privacy plumbing: log redaction, sealing of reply routes.

NoneBot logs every event (INFO: `get_event_description`, TRACE: `repr`), and adapters' stock
models describe themselves with the sender and the text, or, for notices and unknown types,
their whole payload. For private chat that pairs a person with what they told the bot in
confidence (a typing notice or a recall names the user right beside the message line). So each
platform module (bot/platform/) registers how to replace its adapter's models by subclasses
whose log line and repr say the event type, its message id and a length, nothing more; the
`Redacted` mixin here is the shared part.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

_WORD = re.compile(r"[a-z_]{1,32}")


def safe_name(value: object) -> str:
    """A type name taken from a payload, if it looks like one (it goes into the log)."""
    return value if isinstance(value, str) and _WORD.fullmatch(value) else "?"


class Redacted:
    """Mixin for an adapter's event models: the log line and repr name the event, never its data."""

    def get_event_name(self) -> str:
        return ".".join(safe_name(part) for part in super().get_event_name().split("."))  # type: ignore[misc]

    def get_event_description(self) -> str:
        mid = getattr(self, "message_id", None)
        return "redacted" if mid is None else f"message {mid}, redacted"

    # NoneBot's TRACE line prints `event!r` (pydantic builds repr, str and rich output from this).
    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        mid = getattr(self, "message_id", None)
        return [("message_id", mid)] if mid is not None else []


_installers: list[Callable[[], None]] = []


def register_redaction(install: Callable[[], None]) -> None:
    """A platform module's way of putting redacted models in its adapter (run once, at start-up)."""
    if install not in _installers:
        _installers.append(install)


def install_log_redaction() -> None:
    """Redact every registered adapter's models (each installer is safe to run twice)."""
    for install in _installers:
        install()


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
