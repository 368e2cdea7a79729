"""What in-process tests share instead of a copy each: a recording platform port and the
outbox as a test reads it. End-to-end tests use the peers (tests/onebot_peer.py,
tests/feishu_peer.py) instead, which behave like the real platforms."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.platform import Recall, SendFailed, Target, Text


class RecordingPort:
    """A platform port that records what the bot asked for and answers as told.

    `calls` holds ("send", kind, target id, text), ("recall", message id) and
    ("mute", group id, user id, seconds), ids as the text the port was given. `log` holds
    (bot id, target id, text) per send and may be shared by the ports of several accounts;
    `keys` (when given) collects (target id, idempotency key) per send."""

    def __init__(
        self,
        bot_id: str = "10000",
        *,
        log: list[tuple[str, str, str]] | None = None,
        keys: list[tuple[str, str | None]] | None = None,
        send_error: Exception | None = None,
        recall_ok: bool | Recall = True,
        mute_ok: bool = True,
        pause: float = 0.0,
    ) -> None:
        self.bot_id = bot_id
        self.calls: list[tuple[Any, ...]] = []
        self.log = log if log is not None else []
        self.keys = keys
        self.send_error = send_error
        self.recall_ok = recall_ok
        self.mute_ok = mute_ok
        self.pause = pause

    async def send(self, target: Target, parts: Any, *, key: str | None = None) -> str | None:
        if self.pause:
            await asyncio.sleep(self.pause)  # lets other workers interleave
        text = "".join(p.text for p in parts if isinstance(p, Text))
        self.calls.append(("send", target.kind, target.id, text))
        if self.send_error is not None:
            raise self.send_error
        if self.keys is not None:
            self.keys.append((target.id, key))
        self.log.append((self.bot_id, target.id, text))
        return str(len(self.log))

    async def reply(self, event: Any, parts: Any) -> str | None:
        return "1"

    async def recall(self, message_id: str, *, group_id: str | None = None, author_id: str | None = None) -> Recall:
        self.calls.append(("recall", message_id))
        if isinstance(self.recall_ok, Recall):
            return self.recall_ok
        return Recall.RECALLED if self.recall_ok else Recall.NOT_PERMITTED

    async def mute(self, group_id: str, user_id: str, seconds: int) -> None:
        self.calls.append(("mute", group_id, user_id, seconds))
        if not self.mute_ok:
            raise SendFailed("set_group_ban: 102")

    async def members(self, group_id: str) -> list[str]:
        return []

    async def get_message(self, message_id: str) -> tuple[str, str] | None:
        return None  # forgotten, as NapCat forgets message ids

    def sent(self, kind: str | None = None) -> list[tuple[Any, ...]]:
        """The sends, of one target kind ("group", "private") if given."""
        return [c for c in self.calls if c[0] == "send" and (kind is None or c[1] == kind)]

    def texts(self) -> list[str]:
        return [c[3] for c in self.sent()]


async def queued(db: Any, purpose: str | None = None) -> list[Any]:
    """The outbox rows, oldest first (of one purpose if given): what the bot has promised to send."""
    from sqlalchemy import select

    from bot.models import Outbox

    query = select(Outbox).order_by(Outbox.id)
    if purpose is not None:
        query = query.where(Outbox.purpose == purpose)
    async with db() as s:
        return list((await s.scalars(query)).all())


def fields(rows: list[Any], *names: str) -> list[tuple[Any, ...]]:
    """Those columns of each row, for comparing with a literal list."""
    return [tuple(getattr(r, n) for n in names) for r in rows]
