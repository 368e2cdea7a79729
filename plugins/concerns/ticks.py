"""What the concerns plugin does on its own, every minute: deadline reminders and escalation,
the batched digest to leaders, retrying relays, and deleting what is past retention."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from nonebot import logger
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, outbox, runtime, workdays
from bot.db import session
from bot.org import Role
from bot.platform import Target
from plugins.concerns import texts
from plugins.concerns.core import dept_head_of, due_of, hour, policy, when
from plugins.concerns.models import Concern, ConcernCounter, ConcernDraft, ConcernEvent, ConcernRoute, ConcernState
from plugins.concerns.relay import relay

# --- escalation ---------------------------------------------------------------------------
#
# The ladder: a reminder to the leader the working day before the deadline; once it has
# passed, one step up at a time to people not yet told (the department head, the cadres, the
# head), each given a deadline of their own (next_step_at), so a step that would reach the
# same person again is skipped. When nobody above is left, the leader is reminded once more.


def _ladder(c: Concern) -> list[tuple[int, list[str]]]:
    """The steps above the leader, each with the people it reaches; a step that would reach
    nobody new (the leader is the department head, the only cadre, the head) is left out."""
    org = runtime.org()
    if c.leader == org.head:
        return []  # the head is the last step: nobody is above (a department head is not)
    told = {c.leader}
    steps: list[tuple[int, list[str]]] = []
    dept_head = dept_head_of(c.leader)
    if dept_head is not None:
        steps.append((2, [dept_head]))
        told.add(dept_head)
    cadres = [q for q in org.with_role(Role.cadre) if q not in told]
    if cadres:
        steps.append((3, cadres))
        told.update(cadres)
    if org.head not in told:
        steps.append((4, [org.head]))
    return steps


def _next_step(c: Concern, ceiling_passed: bool) -> tuple[int, list[str]]:
    """The next step above the current one ((4, []) when nobody above is left)."""
    for level, targets in _ladder(c):
        if level > c.level and (not ceiling_passed or level == 4):
            return level, targets
    return 4, []


async def escalation_tick() -> int:
    """Take every concern whose next step is due one step up; each step is recorded and told to
    the submitter, saying truthfully who now has it."""
    now = clock.utcnow()
    p = policy()
    async with session() as s:
        due = (
            await s.scalars(
                select(Concern).where(
                    Concern.status != "closed", Concern.visible.is_(True), Concern.next_step_at <= now, Concern.level < 4
                )
            )
        ).all()
    steps = 0
    for c in due:
        deadline = due_of(c)
        assert deadline is not None
        phase = texts.PHASES[c.status]
        again, until = False, now
        if c.level == 0:
            level, targets = 1, [c.leader]
            before = now < deadline
            # Reminded only after the deadline (a transfer, or the bot was down): the leader
            # still gets one step's time before it goes up.
            next_at: datetime | None = (
                deadline if before else hour(workdays.add_workdays(now.astimezone(clock.zone()), p.escalation_step_days))
            )
            said = f"将于 {when(deadline)} 到{phase}期限，已提醒分管领导抓紧办理" if before else f"超过{phase}期限，已提醒分管领导"
        else:
            ceiling_passed = c.status == "new" and now >= c.created_at + timedelta(days=p.ack_ceiling_days)
            level, targets = _next_step(c, ceiling_passed)
            before = False
            # The new holder's own deadline; the last step has no further step after it.
            until = hour(workdays.add_workdays(now.astimezone(clock.zone()), p.escalation_step_days))
            next_at = until if level < 4 else None
            if targets:
                said = f"超过{phase}期限，已上报{texts.LEVEL_HOLDERS[level]}督促办理"
            else:
                again, targets = True, [c.leader]
                said = f"超过{phase}期限，已再次催促负责的领导（没有更上一级可以上报）"
        async with session() as s:
            # Guarded on the old values: of several processes, exactly one takes this step.
            result = await s.execute(
                update(Concern)
                .where(Concern.id == c.id, Concern.level == c.level, Concern.status == c.status)
                .values(level=level, next_step_at=next_at)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                continue
            event = ConcernEvent(concern_id=c.id, at=hour(now), kind="escalated", actor=None, text=said, relay="pending")
            s.add(event)
            await s.flush()
            eid = event.id
            await s.commit()
        steps += 1
        # The notice is rendered when sent (relay.render_notice): the ledger keeps no copy of the text.
        data = {
            "view": "escalation", "id": c.id, "status": c.status, "level": level, "before": before, "again": again,
            "until": until.isoformat() if level >= 2 and not again else None,
        }
        await outbox.enqueue(
            "concern-escalation", f"{c.id}:{c.status}:{level}",
            [outbox.Item(Target.private(q), outbox.Ref("concern", data)) for q in targets],
        )
        message = texts.relay_message("escalated", said)
        assert message is not None
        await relay(c.id, eid, message)
    return steps


# --- batched leader notifications ---------------------------------------------------------


async def _claim_slot(s: AsyncSession, name: str, slot: int) -> bool:
    row = await s.get(ConcernState, name)
    if row is None:
        s.add(ConcernState(name=name, value=slot))
        try:
            await s.commit()
        except Exception:  # noqa: BLE001 - another process inserted it first
            await s.rollback()
            return False
        return True
    if row.value >= slot:
        return False
    result = await s.execute(update(ConcernState).where(ConcernState.name == name, ConcernState.value == row.value).values(value=slot))
    await s.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


async def digest_tick() -> int:
    """On fixed slots (every `digest_minutes`), tell each leader what is new: never at submission time.

    A new concern becomes visible (to /待办, /受理, reports) here, at the slot its leader is told.
    """
    minutes = policy().digest_minutes
    slot = math.floor(clock.utcnow().timestamp() / 60 / minutes)
    async with session() as s:
        if not await _claim_slot(s, "digest_slot", slot):
            return 0
        new = (await s.execute(select(Concern.id, Concern.leader).where(Concern.notified.is_(False), Concern.status != "closed"))).all()
        extra = (
            await s.execute(
                select(ConcernEvent.id, Concern.leader)
                .join(Concern, Concern.id == ConcernEvent.concern_id)
                .where(ConcernEvent.notified.is_(False), ConcernEvent.kind.in_(("supplement", "rated")))
            )
        ).all()
        if new:
            # Visible first: should the enqueue below fail, the next slot still tells the leader.
            await s.execute(update(Concern).where(Concern.id.in_([cid for cid, _ in new])).values(visible=True))
            await s.commit()
    by_leader: dict[str, tuple[list[int], list[int]]] = {}
    for cid, leader in new:
        by_leader.setdefault(leader, ([], []))[0].append(cid)
    for eid, leader in extra:
        by_leader.setdefault(leader, ([], []))[1].append(eid)
    items = [
        outbox.Item(Target.private(leader), outbox.Ref("concern", {"view": "digest", "concerns": cids, "events": eids}))
        for leader, (cids, eids) in by_leader.items()
    ]
    await outbox.enqueue("concern-digest", f"slot-{slot}", items)
    async with session() as s:
        if new:
            await s.execute(update(Concern).where(Concern.id.in_([cid for cid, _ in new])).values(notified=True))
        if extra:
            await s.execute(update(ConcernEvent).where(ConcernEvent.id.in_([eid for eid, _ in extra])).values(notified=True))
        await s.commit()
    return len(items)


# --- relays and retention -----------------------------------------------------------------


async def relay_retry_tick() -> None:
    """Retry pending relays; a relay left "sending" by a process that died may have arrived,
    so after an hour it becomes "unknown" (shown to the leader, never resent blindly)."""
    async with session() as s:
        await s.execute(
            update(ConcernEvent)
            .where(ConcernEvent.relay == "sending", ConcernEvent.relay_at < hour(clock.utcnow()) - timedelta(hours=1))
            .values(relay="unknown")
        )
        await s.commit()
        rows = (await s.execute(select(ConcernEvent).where(ConcernEvent.relay == "pending"))).scalars().all()
    for e in rows:
        message = texts.relay_message(e.kind, e.text)
        if message is not None:
            await relay(e.concern_id, e.id, message, invite_rating=e.kind == "closed")


async def retention_tick() -> None:
    """Past retention: the route is destroyed and the concern's words (text, disclosed name,
    replies, additions) are deleted. No other row holds a copy: notifications are rendered at
    send time, relays are sent directly, and drafts are deleted on submission."""
    now = clock.utcnow()
    cutoff = now - timedelta(days=policy().retention_days)
    async with session() as s:
        await s.execute(delete(ConcernRoute).where(ConcernRoute.destroy_after <= now))
        purge = select(Concern.id).where(Concern.status == "closed", Concern.closed_at <= cutoff, Concern.purged_at.is_(None))
        ids = list((await s.scalars(purge)).all())
        if ids:
            await s.execute(update(Concern).where(Concern.id.in_(ids)).values(text=None, disclosed=None, purged_at=hour(now)))
            await s.execute(update(ConcernEvent).where(ConcernEvent.concern_id.in_(ids)).values(text=None))
            # Nothing is left to relay, nor a route to relay it by.
            await s.execute(
                update(ConcernEvent).where(ConcernEvent.concern_id.in_(ids), ConcernEvent.relay == "pending").values(relay="failed")
            )
        await s.execute(delete(ConcernCounter).where(ConcernCounter.expires_at <= now))
        await s.execute(delete(ConcernDraft).where(ConcernDraft.updated_at <= now - timedelta(days=1)))
        await s.commit()
    if ids:
        logger.info(f"purged {len(ids)} closed concern(s) past retention")
