"""Building OneBot v11 events as an implementation would send them."""

from __future__ import annotations

import itertools
import time
from typing import Any

from nonebot.adapters.onebot.v11 import Adapter, Message, MessageEvent, MessageSegment

_ids = itertools.count(1000)


def private_event(user_id: int, text: str, *, self_id: int = 10000) -> MessageEvent:
    return _parse(
        {
            "post_type": "message",
            "message_type": "private",
            "sub_type": "friend",
            "user_id": user_id,
            "sender": {"user_id": user_id, "nickname": f"用户{user_id}"},
            "message": [{"type": "text", "data": {"text": text}}],
            "raw_message": text,
        },
        self_id,
    )


def group_event(group_id: int, user_id: int, text: str, *, self_id: int = 10000, reply_to: int | None = None) -> MessageEvent:
    message: list[dict[str, Any]] = [{"type": "text", "data": {"text": text}}]
    if reply_to is not None:
        message.insert(0, {"type": "reply", "data": {"id": str(reply_to)}})
    return _parse(
        {
            "post_type": "message",
            "message_type": "group",
            "sub_type": "normal",
            "group_id": group_id,
            "user_id": user_id,
            "sender": {"user_id": user_id, "nickname": f"用户{user_id}", "role": "member"},
            "message": message,
            "raw_message": text,
        },
        self_id,
    )


def _parse(data: dict[str, Any], self_id: int) -> MessageEvent:
    data = {"time": int(time.time()), "self_id": self_id, "message_id": next(_ids), "font": 0} | data
    event = Adapter.json_to_event(data)
    assert isinstance(event, MessageEvent)
    return event


def text(s: str) -> Message:
    return Message(MessageSegment.text(s))
