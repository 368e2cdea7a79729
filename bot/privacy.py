"""Privacy plumbing: log redaction, sealing of reply routes.

NoneBot logs every event as `Message {id} from {user_id} "<text>"`. For private chat that pairs
a person with what they told the bot in confidence, so the OneBot v11 message events are
replaced by subclasses whose log line and repr carry no text and, in private chat, no user.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nonebot.adapters.onebot.v11 import Adapter
from nonebot.adapters.onebot.v11 import GroupMessageEvent as _Group
from nonebot.adapters.onebot.v11 import PrivateMessageEvent as _Private
from typing_extensions import override


class PrivateMessageEvent(_Private):
    @override
    def get_event_description(self) -> str:
        return f"Private message {self.message_id} ({len(self.raw_message)} chars, redacted)"

    # NoneBot's TRACE line prints `event!r`: keep the text and the sender out of it too.
    def __repr__(self) -> str:
        return f"PrivateMessageEvent(message_id={self.message_id}, redacted)"

    __str__ = __repr__


class GroupMessageEvent(_Group):
    @override
    def get_event_description(self) -> str:
        return f"Message {self.message_id} in group {self.group_id} ({len(self.raw_message)} chars)"

    def __repr__(self) -> str:
        return f"GroupMessageEvent(message_id={self.message_id}, group_id={self.group_id}, redacted)"

    __str__ = __repr__


def install_log_redaction() -> None:
    Adapter.add_custom_model(PrivateMessageEvent, GroupMessageEvent)


class Sealer:
    """AES-GCM with a random nonce; associated data binds a sealed value to its row."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes = b"") -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context)
