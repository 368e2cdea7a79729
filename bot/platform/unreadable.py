"""What every platform's "unreadable event" shares: an event no model could read.

Each ingress module defines its own `UnreadableEvent(Unreadable, <adapter's Event>)` with the
fields its platform can say (whom to answer, never what was said); this mixin makes sure no
message matcher sees it and NoneBot does not log it again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from nonebot.exception import NoLogException

from bot.platform import note_unreadable


class Unreadable:
    """Mixed in before the adapter's Event class (so these methods win)."""

    if TYPE_CHECKING:  # a field of the event model; not declared here, pydantic would take it
        kind: str

    def get_type(self) -> str:
        # Not "message": no message matcher or command rule must ever see it.
        return "notice"

    def get_event_name(self) -> str:
        return f"unreadable.{self.kind}"

    def get_log_string(self) -> str:
        raise NoLogException("unreadable")  # the ingress has already logged it, once, as a warning


def counted(data: dict[str, Any]) -> int:
    """Count an unreadable event for /状态; the size of its payload, which is all a log may say."""
    note_unreadable()
    return len(json.dumps(data, ensure_ascii=False, default=str))
