"""A short memory of recent group messages (id → author, text), filled by the screening hook.

Reply-based commands (/谣言, /举报) need the quoted message. OneBot gives only its id; the
adapter asks `get_msg`, which fails for messages the implementation has dropped, after a
restart of it, or on implementations without message storage. What this process saw itself is
kept here so the command still works. Memory only, per process, bounded.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from plugins.moderation.config import MAX_SNAPSHOT


@dataclass(frozen=True)
class Seen:
    group_id: str
    user_id: str
    name: str
    text: str


class Recent:
    def __init__(self, capacity: int = 5000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Seen] = OrderedDict()

    def remember(self, message_id: str, seen: Seen) -> None:
        if len(seen.text) > MAX_SNAPSHOT:
            seen = Seen(seen.group_id, seen.user_id, seen.name, seen.text[:MAX_SNAPSHOT])
        self._items[message_id] = seen
        self._items.move_to_end(message_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, message_id: str) -> Seen | None:
        return self._items.get(message_id)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


recent = Recent()
