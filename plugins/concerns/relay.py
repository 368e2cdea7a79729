"""Messages both ways between the submitter and the leaders.

To the submitter: sent at once through the sealed route (`relay`), never through the outbox.
To a leader: through the outbox, rendered from the concern when sent (`render_notice`): the
digest of what is new (concerns, the submitter's additions), an escalation step, or what
someone else did with a concern they own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, outbox, runtime
from bot.db import session
from bot.org import ROLE_NAMES, Role
from bot.platform import NotConnected, Part, SendFailed, SendUnknown, Target, Text, bots_on, port_by_id
from plugins.concerns import receipts
from plugins.concerns.core import dept_head_of, due_of, holder_title, hour, leader_view, when
from plugins.concerns.models import Concern, ConcernEvent, ConcernRoute
from plugins.concerns.texts import ACTION_VERBS, PHASES, addition, relayed

MAX_REFUSALS = 3  # definite refusals before a relay is given up ("failed"); not-connected never counts


# --- to the submitter ---------------------------------------------------------------------


async def relay(concern_id: int, event_id: int, message: str, *, invite_rating: bool = False) -> str:
    """Send to the submitter through the sealed route, now; the event row records the outcome.

    Direct rather than through the outbox: an outbox row would store the submitter's id next
    to the concern. Returns the event's relay state: sent; pending (not connected, or refused
    fewer than MAX_REFUSALS times: the tick tries again); unknown (no answer: it may have
    arrived, so it is never resent blindly); failed; sending (another process has it).
    """
    async with session() as s:
        # Claim the relay: of the handler and a retrying tick (in any process), one sends.
        claimed = await s.execute(
            update(ConcernEvent)
            .where(ConcernEvent.id == event_id, ConcernEvent.relay == "pending")
            .values(relay="sending", relay_at=hour(clock.utcnow()))
        )
        await s.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return "sending"
        route = await s.get(ConcernRoute, concern_id)
        refusals = await s.scalar(select(ConcernEvent.relay_attempts).where(ConcernEvent.id == event_id)) or 0
        if route is None:
            status = "failed"
        else:
            platform, bot_id, user_id, code = receipts.open_route(concern_id, route.sealed)
            status = await _send_private(platform, bot_id, user_id, relayed(code, message, invite_rating=invite_rating))
        if status == "refused":
            refusals += 1
            status = "failed" if refusals >= MAX_REFUSALS else "pending"
        await s.execute(update(ConcernEvent).where(ConcernEvent.id == event_id).values(relay=status, relay_attempts=refusals))
        await s.commit()
    return status


async def _send_private(platform: str, bot_id: str, user_id: str, text: str) -> str:
    """sent, unknown, refused (an account said no and none said yes), or pending (none connected).

    `user_id` is the submitter's account on `platform`: only that platform's bots can reach it."""
    candidates = [bot_id] + [b for b in bots_on(platform) if b != bot_id]
    refused = False
    for b in candidates:
        try:
            await port_by_id(b).send(Target.private(user_id), [Text(text)])
            return "sent"
        except NotConnected:
            continue
        except SendUnknown:
            return "unknown"
        except SendFailed:
            refused = True
    return "refused" if refused else "pending"


# --- to leaders ---------------------------------------------------------------------------


async def tell_owner(actor: str, owner: str, concern_id: int, event_id: int) -> str:
    """Someone else (a cadre, the department head, the head) acted on a concern: its owner is
    told, through the outbox. Returns what the actor is told about it."""
    if actor == owner:
        return ""
    await outbox.enqueue(
        "concern-action", str(event_id),
        [outbox.Item(Target.private(owner), outbox.Ref("concern", {"view": "action", "id": concern_id, "event": event_id}))],
    )
    return f"已通知负责的 {holder_title(owner)}。"


def _acting_title(actor: str, c: Concern) -> str:
    """Who acted on someone else's concern, named by the capacity in which it reached them."""
    org = runtime.org()
    roles = org.roles_of(actor)
    if actor == org.head:
        title = ROLE_NAMES[Role.head]
    elif actor == dept_head_of(c.leader):
        title = "部门负责人"
    elif Role.cadre in roles:
        title = ROLE_NAMES[Role.cadre]
    elif Role.superuser in roles:
        title = ROLE_NAMES[Role.superuser]
    else:
        return holder_title(actor)
    return f"{org.display_name(actor)}（{title}）"


async def _render_action(s: AsyncSession, data: dict[str, Any]) -> Sequence[Part] | None:
    c = await s.get(Concern, int(data["id"]))
    e = await s.get(ConcernEvent, int(data["event"]))
    if c is None or e is None or c.purged_at is not None or e.actor is None:
        return None
    verb = ACTION_VERBS.get(e.kind, "处理")
    lines = [f"【诉求动态】你负责的 #{c.id} 已由 {_acting_title(e.actor, c)}{verb}。"]
    if e.kind in ("reply", "closed") and e.text:
        lines.append(f"{verb}内容：{e.text}")
    if e.kind == "transferred":
        lines.append(f"现由 {holder_title(c.leader)}负责。")
    lines.append(leader_view(c))
    lines.append("发送 /待办 查看。" if c.status != "closed" else "这件诉求已办结。")
    return [Text("\n".join(lines))]


def _escalation_notice(c: Concern, data: dict[str, Any]) -> str:
    level, n = int(data["level"]), c.id
    status = str(data.get("status"))
    phase = PHASES.get(status, "办理")
    due = due_of(c)
    deadline = f"（{when(due)}）" if due is not None else ""
    if level == 1 and data.get("before"):
        head = f"【诉求提醒】#{n} 的{phase}期限是 {when(due)}，现在还没有{phase}，请抓紧处理。" if due else f"【诉求提醒】#{n} 即将到{phase}期限，请抓紧处理。"
    elif level == 1 or data.get("again"):
        head = f"【诉求提醒】#{n} 已超过{phase}期限{deadline}，请尽快处理。"
    else:
        # To a cadre, department head or head: who is late, and their own deadline.
        until = data.get("until")
        yours = f"请在 {when(datetime.fromisoformat(until))} 前督促办理，也可以直接处理。" if until else "请督促办理，也可以直接处理。"
        head = f"【诉求上报】#{n} 由 {holder_title(c.leader)}负责，已超过{phase}期限{deadline}还没有{phase}。{yours}"
    return f"{head}\n{leader_view(c)}\n处理：/受理 {n}　/回复 {n} 内容　/办结 {n} 内容"


async def render_notice(data: dict[str, Any]) -> Sequence[Part] | None:
    """A leader's notification, built from the concern when it is sent (outbox renderer
    "concern"); None when nothing of it is left to say (purged, closed)."""
    async with session() as s:
        if data.get("view") == "escalation":
            c = await s.get(Concern, int(data["id"]))
            # Acted on since (acknowledged, replied, closed): the step is moot.
            if c is None or c.purged_at is not None or c.status != str(data.get("status", c.status)):
                return None
            return [Text(_escalation_notice(c, data))]
        if data.get("view") == "action":
            return await _render_action(s, data)
        cids = [int(i) for i in data.get("concerns", [])]
        eids = [int(i) for i in data.get("events", [])]
        concerns = (await s.scalars(select(Concern).where(Concern.id.in_(cids)).order_by(Concern.id))).all() if cids else []
        events = (
            (await s.scalars(select(ConcernEvent).where(ConcernEvent.id.in_(eids)).order_by(ConcernEvent.id))).all() if eids else []
        )
    lines = ["新诉求 " + leader_view(c, limit=1000) for c in concerns if c.purged_at is None and c.status != "closed"]
    lines += [addition(e.concern_id, e.kind, e.text) for e in events if e.text is not None]
    if not lines:
        return None
    return [Text("【连心·诉求通知】\n\n" + "\n\n".join(lines) + "\n\n发送 /待办 查看并处理。")]


outbox.register_renderer("concern", render_notice)
