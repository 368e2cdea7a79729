"""Building OneBot v11 events as an implementation would send them."""

from __future__ import annotations

import itertools
import time
from datetime import datetime
from typing import Any

from nonebot.adapters.onebot.v11 import Adapter, Message, MessageEvent, MessageSegment

from bot import clock

# Monday 16 November 2026, 10:05: a workday morning, in office hours (the `monday` fixture).
MONDAY = datetime(2026, 11, 16, 10, 5, tzinfo=clock.zone())

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


class RecordingBot:
    """Builds a OneBot v11 Bot whose API calls are recorded and answered, without nonebug:
    for tests that drive the dispatcher directly over many inputs (fuzzing, role matrix)."""

    @staticmethod
    def make(self_id: str = "10000"):  # type: ignore[no-untyped-def]
        import nonebot
        from nonebot.adapters.onebot.v11 import Adapter, Bot

        class _Bot(Bot):
            def __init__(self) -> None:
                super().__init__(Adapter(nonebot.get_driver()), self_id)
                self.calls: list[tuple[str, dict[str, Any]]] = []

            async def call_api(self, api: str, **data: Any) -> Any:
                self.calls.append((api, data))
                if api == "get_msg":
                    return {"message_id": data.get("message_id"), "sender": {"user_id": 30001}, "message": [{"type": "text", "data": {"text": "被引用的消息"}}], "raw_message": "被引用的消息"}
                if api == "get_group_member_list":
                    return [{"user_id": 30001}, {"user_id": 30002}]
                return {"message_id": len(self.calls)}

            def sent_messages(self) -> list[Message]:
                out = []
                for api, data in self.calls:
                    if api.startswith("send_") and "message" in data:
                        out.append(Message(data["message"]))
                return out

        return _Bot()
