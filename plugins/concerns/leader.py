"""The leader's side: the queue (/待办) and the actions on a concern (acknowledge, reply,
close, hand over). Each action is recorded, relayed to the submitter at once, and told to the
concern's owner when someone else took it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, runtime
from bot import text as textutil
from bot.db import session
from plugins.concerns import texts
from plugins.concerns.core import (
    HOLDERS,
    ConcernError,
    can_act,
    check_text,
    day,
    due_of,
    holder_title,
    hour,
    leader_view,
    policy,
    remind_at,
    start_phase,
    when,
)
from plugins.concerns.models import Concern, ConcernEvent, ConcernRoute
from plugins.concerns.relay import relay, tell_owner


def _number(raw: str) -> int:
    n = textutil.parse_number(raw)
    if n is None:
        raise ConcernError("请写明诉求编号（阿拉伯数字），例如：/受理 3")
    return n


async def _for_actor(s: AsyncSession, actor: str, raw_number: str) -> Concern:
    n = _number(raw_number)
    c = await s.get(Concern, n)
    # Not yet visible (its batch slot has not come): as if it did not exist.
    if c is None or not c.visible or not can_act(actor, c):
        raise ConcernError(f"没有找到你负责的 #{n} 号诉求。发送 /待办 查看你负责的诉求。")
    if c.status == "closed":
        raise ConcernError(f"#{n} 号诉求已经办结。")
    return c


def in_queue(actor: str, c: Concern) -> bool:
    """An open concern in this person's queue: their own, or one escalated to them."""
    return can_act(actor, c) and (c.leader == actor or c.level >= 2)


def _relay_lines(events: Sequence[ConcernEvent]) -> list[str]:
    return [texts.relay_line(e.kind, day(e.at), e.relay) for e in events if e.relay in texts.RELAY_STATES]


async def todo(actor: str) -> str:
    recent = hour(clock.utcnow()) - timedelta(days=7)
    async with session() as s:
        rows = (await s.scalars(select(Concern).where(Concern.status != "closed", Concern.visible.is_(True)).order_by(Concern.id))).all()
        # Closed in the last week but the result not (yet) known to have reached the submitter.
        closed = (
            await s.scalars(
                select(Concern)
                .join(ConcernEvent, ConcernEvent.concern_id == Concern.id)
                .where(Concern.status == "closed", Concern.closed_at >= recent, ConcernEvent.relay.in_(texts.OPEN_RELAYS))
                .distinct()
                .order_by(Concern.id)
            )
        ).all()
        mine = [c for c in rows if in_queue(actor, c)]
        closed_mine = [c for c in closed if can_act(actor, c)]
        ids = [c.id for c in mine + closed_mine]
        relays = (
            await s.scalars(
                select(ConcernEvent)
                .where(ConcernEvent.concern_id.in_(ids), ConcernEvent.relay.in_(texts.OPEN_RELAYS))
                .order_by(ConcernEvent.id)
            )
        ).all()
    by_concern: dict[int, list[ConcernEvent]] = {}
    for e in relays:
        by_concern.setdefault(e.concern_id, []).append(e)
    if not mine and not closed_mine:
        return "你目前没有待办的诉求。"
    parts = [f"你有 {len(mine)} 件待办诉求：" if mine else "你目前没有待办的诉求。"]
    parts.extend("\n".join([leader_view(c, viewer=actor), *_relay_lines(by_concern.get(c.id, []))]) for c in mine)
    if closed_mine:
        parts.append(
            "已办结、但还没确认告知提交人的："
            + "".join(f"\n#{c.id} " + "；".join(_relay_lines(by_concern.get(c.id, []))) for c in closed_mine)
        )
    if mine:
        parts.append("处理：/受理 编号　/回复 编号 内容　/办结 编号 内容　/转办 编号 姓名、QQ号或类别")
    return "\n\n".join(parts)


async def _act(s: AsyncSession, event: ConcernEvent) -> tuple[int, int]:
    """Record the action; the relay goes out after the commit, so it is never for nothing."""
    s.add(event)
    await s.flush()
    ids = (event.concern_id, event.id)
    await s.commit()
    return ids


async def _relay(cid: int, eid: int, kind: str, text: str | None) -> str:
    message = texts.relay_message(kind, text)
    assert message is not None
    return await relay(cid, eid, message, invite_rating=kind == "closed")


async def acknowledge(actor: str, raw_number: str) -> str:
    async with session() as s:
        c = await _for_actor(s, actor, raw_number)
        if c.status != "new":
            raise ConcernError(f"#{c.id} 号诉求已经受理过了。")
        now = hour(clock.utcnow())
        c.status, c.acknowledged_at = "acknowledged", now
        due = start_phase(c, now)
        owner = c.leader
        cid, eid = await _act(s, ConcernEvent(concern_id=c.id, at=now, kind="acknowledged", actor=actor, relay="pending"))
    status = await _relay(cid, eid, "acknowledged", None)
    return f"已受理 #{cid}，请在 {when(due)} 前答复。{texts.relay_answer(status)}" + await tell_owner(actor, owner, cid, eid)


def check_answer(text: str, usage: str) -> str:
    """A leader's reply or result: cleaned; empty (or invisible only) is refused."""
    if not textutil.clean(text):
        raise ConcernError(f"内容是空的，没有发出。请写上要转达的话，例如：{usage}")
    try:
        return check_text(text)
    except ConcernError as e:
        raise ConcernError(str(e).replace("这次没有提交，一个字也没有删。", "这次没有发出，请精简后重新发送。").split("请先提交")[0]) from None


async def reply(actor: str, raw_number: str, text: str) -> str:
    async with session() as s:
        c = await _for_actor(s, actor, raw_number)
        text = check_answer(text, f"/回复 {c.id} 已向财务核实，下月补发")
        now = hour(clock.utcnow())
        if c.status == "new":
            c.acknowledged_at = now
        c.status, c.replied_at = "replied", now
        start_phase(c, now)
        owner = c.leader
        cid, eid = await _act(s, ConcernEvent(concern_id=c.id, at=now, kind="reply", actor=actor, text=text, relay="pending"))
    status = await _relay(cid, eid, "reply", text)
    return f"已答复 #{cid}，" + texts.relay_answer(status, reply=True) + await tell_owner(actor, owner, cid, eid)


async def close(actor: str, raw_number: str, text: str) -> str:
    async with session() as s:
        c = await _for_actor(s, actor, raw_number)
        text = check_answer(text, f"/办结 {c.id} 已补发到位")
        now = hour(clock.utcnow())
        c.acknowledged_at = c.acknowledged_at or now
        c.status, c.closed_at, c.next_step_at, c.due_at = "closed", now, None, None
        owner = c.leader
        route = await s.get(ConcernRoute, c.id)
        if route is not None:
            route.destroy_after = now + timedelta(days=policy().retention_days)
        cid, eid = await _act(s, ConcernEvent(concern_id=c.id, at=now, kind="closed", actor=actor, text=text, relay="pending"))
    status = await _relay(cid, eid, "closed", text)
    return f"已办结 #{cid}。{texts.relay_answer(status)}" + await tell_owner(actor, owner, cid, eid)


def _transfer_target(target: str) -> str:
    """The person a concern is handed to, by QQ number or name; refusals say why."""
    org = runtime.org()
    account = target.strip()
    if org.person(account) is not None:  # a QQ number or Feishu id of someone in the file
        matches = [org.person_of(account)]
    elif textutil.parse_int(account, max_digits=12) is not None:
        raise ConcernError(f"组织名单里没有 QQ 号 {account}。请核对，或写对方的姓名。")
    else:
        matches = [p.id for p in org.people.values() if p.name == target]
        if not matches:
            raise ConcernError("没有找到转办对象：请写领导的姓名或 QQ 号，或诉求类别名称（如 食堂后勤）。")
        if len(matches) > 1:
            raise ConcernError(f"名单里有 {len(matches)} 位“{target}”，请改写 QQ 号。")
    q = matches[0]
    if not any(r in org.roles_of(q) for r in HOLDERS):
        raise ConcernError(f"抱歉，{org.display_name(q)} 不负责办理诉求，不能转交给对方。可以转给分管领导、政工干部或主要负责人。")
    return q


async def transfer(actor: str, raw_number: str, target: str) -> str:
    org = runtime.org()
    target = textutil.clean(target)
    if not target:
        raise ConcernError("请写明转给谁：/转办 编号 姓名或QQ号，或 /转办 编号 类别名称")
    category = next((c for c in org.spec.categories if target in (c.id, c.name)), None)
    async with session() as s:
        c = await _for_actor(s, actor, raw_number)
        owner = c.leader
        if category is not None:
            c.category, c.leader = category.id, category.leader
            note = f"已转为“{category.name}”类，由负责该类的领导办理"
            answer = f"#{c.id} 已转为“{category.name}”类，交给 {holder_title(category.leader)}。"
        else:
            q = _transfer_target(target)
            if q == c.leader:
                raise ConcernError(f"#{c.id} 号诉求现在就由 {holder_title(q)} 负责。")
            c.leader = q
            note = "已转交另一位领导办理"
            answer = f"已转给 {holder_title(q)}。"
        c.notified = False  # the new owner hears of it in the next digest
        # The deadline stays the one the submitter was given; the new owner is reminded
        # before it (at once when it is near or past) and the ladder starts again.
        c.level = 0
        now = hour(clock.utcnow())
        due = due_of(c)
        c.next_step_at = remind_at(now, due) if due is not None else None
        event = ConcernEvent(concern_id=c.id, at=now, kind="transferred", actor=actor, text=note, relay="pending")
        cid, eid = await _act(s, event)
    await _relay(cid, eid, "transferred", note)
    return f"{answer}对方会在下一批通知中收到。" + await tell_owner(actor, owner, cid, eid)
