"""Anonymous concerns: intake, leader actions, relaying, escalation, batching, retention.

Plain async functions; the NoneBot handlers in __init__.py only parse and reply. Functions
that answer a person return the Chinese text to send; `ConcernError` carries a refusal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from nonebot import logger
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import calendar, clock, outbox, runtime
from bot import text as textutil
from bot.db import session
from bot.org import ROLE_NAMES, Role
from bot.platform import NotConnected, Part, SendFailed, SendUnknown, Target, Text, port_by_id
from plugins.concerns import receipts
from plugins.concerns.models import (
    Concern,
    ConcernCounter,
    ConcernDraft,
    ConcernEvent,
    ConcernRoute,
    ConcernState,
)

STATUS_NAMES = {"new": "待受理", "acknowledged": "已受理", "replied": "已答复", "closed": "已办结"}
LEVEL_NAMES = {1: "提醒分管领导", 2: "上报部门负责人", 3: "上报政工干部", 4: "上报单位主要负责人"}
# Who now also has it, as the submitter is told (the leader who owns it keeps it).
LEVEL_HOLDERS = {2: "部门负责人", 3: "政工干部", 4: "单位主要负责人"}
WEEKDAYS = "一二三四五六日"


class ConcernError(Exception):
    """A refusal to show the person as it is."""


@dataclass(frozen=True)
class Submitted:
    concern_id: int
    code: str
    category_name: str


def policy():  # type: ignore[no-untyped-def]
    return runtime.org().spec.concerns


def hour(t: datetime) -> datetime:
    """Every time stored about a concern: rounded down to the hour, to weaken any correlation
    with the platform's own message log."""
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _day(t: datetime | None) -> str:
    return t.astimezone(clock.zone()).strftime("%m-%d") if t else "—"


def _when(t: datetime) -> str:
    """A deadline as a person reads it on a phone: 11月18日（周三）10:00."""
    t = t.astimezone(clock.zone())
    return f"{t.month}月{t.day}日（周{WEEKDAYS[t.weekday()]}）{t:%H:%M}"


# --- intake ------------------------------------------------------------------------------


def check_text(text: str) -> str:
    text = textutil.clean(text)
    if not text:
        raise ConcernError("内容是空的。请在 /诉求 后面写下你想反映的事，例如：/诉求 食堂饭菜价格上涨太快")
    limit = policy().max_chars
    if len(text) > limit:
        raise ConcernError(
            f"内容共 {len(text)} 字，超过了 {limit} 字的上限，这次没有提交，一个字也没有删。"
            f"请先提交前 {limit} 字以内的主要部分，拿到回执码后用 /补充 分次补充其余内容。"
        )
    return text


def categorize(text: str) -> str:
    """The category whose keywords the text mentions most (bot.text.categorize); else other."""
    return textutil.categorize(text, runtime.org().spec.categories)


async def _take_quota(s: AsyncSession, user_id: int) -> None:
    now = clock.now()
    key = receipts.person_key("quota", user_id, now.date().isoformat())
    row = await s.get(ConcernCounter, key)
    if row is None:
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=clock.zone())
        s.add(ConcernCounter(key=key, count=1, expires_at=midnight))
        return
    if row.count >= policy().daily_limit:
        raise ConcernError(f"今天已经提交了 {row.count} 件诉求，达到每天 {policy().daily_limit} 件的上限。请明天再提交，或用 /补充 给已有的诉求追加内容。")
    row.count += 1


async def submit(
    *, user_id: int, bot_id: str, text: str, category: str | None = None, disclosed: str | None = None, platform: str = "onebot"
) -> Submitted:
    """Store a concern and its sealed route in one transaction; only then is a code returned."""
    text = check_text(text)
    org = runtime.org()
    category = category if category in org.categories else categorize(text)
    cat = org.categories[category]
    code = receipts.new_code()
    now = hour(clock.utcnow())
    async with session() as s:
        await _take_quota(s, user_id)
        concern = Concern(
            receipt_digest=receipts.digest(code),
            category=category,
            leader=cat.leader,
            text=text,
            disclosed=textutil.clean(disclosed or "")[:100] or None,
            status="new",
            created_at=now,
            level=0,
            notified=False,
            visible=False,
        )
        s.add(concern)
        await s.flush()
        _start_phase(concern, now)
        s.add(ConcernRoute(concern_id=concern.id, sealed=receipts.seal_route(concern.id, platform, bot_id, user_id, code)))
        s.add(ConcernEvent(concern_id=concern.id, at=now, kind="submitted", actor=None, text=None))
        concern_id = concern.id
        await s.commit()
    return Submitted(concern_id, code, cat.name)


# --- the submitter -----------------------------------------------------------------------


async def _by_code(s: AsyncSession, raw: str) -> Concern:
    code = receipts.parse_code(raw)
    if code is None:
        raise ConcernError("回执码格式不对。回执码是 12 位大写字母和数字，形如 ABCD-EFGH-JKLM。")
    concern = await s.scalar(select(Concern).where(Concern.receipt_digest == receipts.digest(code)))
    if concern is None:
        raise ConcernError("没有找到这个回执码对应的诉求，请核对后再试。")
    return concern


async def progress(raw_code: str) -> str:
    async with session() as s:
        c = await _by_code(s, raw_code)
        events = (await s.scalars(select(ConcernEvent).where(ConcernEvent.concern_id == c.id).order_by(ConcernEvent.id))).all()
    name = runtime.org().categories[c.category].name if c.category in runtime.org().categories else c.category
    lines = [f"诉求进度（{name}）：{STATUS_NAMES[c.status]}", f"提交：{_day(c.created_at)}　受理：{_day(c.acknowledged_at)}　办结：{_day(c.closed_at)}"]
    if (due := due_of(c)) is not None and not c.purged_at:
        lines.append(f"{PHASES[c.status]}期限：{_when(due)}")
    if c.purged_at:
        lines.append("办结已超过保存期限，内容和答复已按规定删除。")
        return "\n".join(lines)
    history = [_describe_event(e) for e in events if e.kind != "submitted"]
    if history:
        lines.append("进展：")
        lines.extend(history)
    if c.status == "closed" and c.rating is None:
        lines.append("已办结。" + rate_invitation(receipts.parse_code(raw_code) or "回执码"))
    elif c.rating is not None:
        lines.append(f"你的评价：{c.rating} 分。")
    return "\n".join(lines)


def _describe_event(e: ConcernEvent) -> str:
    when = _day(e.at)
    match e.kind:
        case "acknowledged":
            return f"{when} 领导已受理"
        case "reply":
            return f"{when} 领导答复：{e.text}"
        case "closed":
            return f"{when} 已办结：{e.text}"
        case "supplement":
            return f"{when} 你补充：{e.text}"
        case "transferred":
            return f"{when} {e.text}"
        case "escalated":
            return f"{when} {escalation_phrase(e.text)}"
        case "rated":
            return f"{when} 你评价了 {e.text} 分"
    return f"{when} {e.kind}"


async def supplement(raw_code: str, text: str) -> str:
    text = check_text(text)
    async with session() as s:
        c = await _by_code(s, raw_code)
        if c.status == "closed":
            raise ConcernError("这件诉求已经办结，不能再补充了。如有新的问题，请用 /诉求 重新提交。")
        s.add(ConcernEvent(concern_id=c.id, at=hour(clock.utcnow()), kind="supplement", actor=None, text=text))
        await s.commit()
    return "补充内容已收到，会在下一批通知中转给负责的领导。"


async def rate(raw_code: str, score_text: str) -> str:
    score = textutil.parse_int(score_text, max_digits=1)
    if score is None or not 1 <= score <= 5:
        raise ConcernError("评分请用 1 到 5 的整数，例如：/评价 ABCD-EFGH-JKLM 5")
    score_text = str(score)
    async with session() as s:
        c = await _by_code(s, raw_code)
        if c.status != "closed":
            raise ConcernError("这件诉求还没有办结，办结后才能评价。")
        if c.rating is not None:
            raise ConcernError(f"这件诉求已经评价过了（{c.rating} 分），谢谢你。")
        c.rating = score
        s.add(ConcernEvent(concern_id=c.id, at=hour(clock.utcnow()), kind="rated", actor=None, text=score_text))
        await s.commit()
    return f"谢谢你的评价（{score_text} 分）！"


# --- leaders -----------------------------------------------------------------------------


def _dept_head_of(leader: int) -> int | None:
    org = runtime.org()
    person = org.person(leader)
    dept = org.departments.get(person.department) if person and person.department else None
    return dept.head if dept and dept.head != leader else None


def can_act(actor: int, c: Concern) -> bool:
    org = runtime.org()
    roles = org.roles_of(actor)
    if Role.superuser in roles or c.leader == actor:
        return True
    return (
        (c.level >= 2 and _dept_head_of(c.leader) == actor)
        or (c.level >= 3 and Role.cadre in roles)
        or (c.level >= 4 and actor == org.head)
    )


def _number(raw: str) -> int:
    n = textutil.parse_int(raw.strip().lstrip("#＃"))
    if n is None:
        raise ConcernError("请写明诉求编号（阿拉伯数字），例如：/受理 3")
    return n


async def _for_actor(s: AsyncSession, actor: int, raw_number: str) -> Concern:
    n = _number(raw_number)
    c = await s.get(Concern, n)
    # Not yet visible (its batch slot has not come): as if it did not exist.
    if c is None or not c.visible or not can_act(actor, c):
        raise ConcernError(f"没有找到你负责的 #{n} 号诉求。发送 /待办 查看你负责的诉求。")
    if c.status == "closed":
        raise ConcernError(f"#{n} 号诉求已经办结。")
    return c


def leader_view(c: Concern, limit: int = 300, viewer: int | None = None) -> str:
    """What a leader sees of a concern. The deadline is the phase's, as first set: the same
    for everyone and at every escalation step. A viewer other than its owner sees who owns it."""
    org = runtime.org()
    name = org.categories[c.category].name if c.category in org.categories else c.category
    body = c.text or "（内容已按保存期限删除）"
    if len(body) > limit:
        body = body[:limit] + "……"
    lines = [f"#{c.id} {name}｜{STATUS_NAMES[c.status]}｜{_day(c.created_at)} 提交"]
    due = due_of(c)
    if due is not None and c.status != "closed":
        late = "，已超期" if clock.utcnow() >= due else ""
        lines.append(f"{PHASES[c.status]}期限：{_when(due)}{late}")
    if viewer is not None and viewer != c.leader:
        lines.append(f"负责：{holder_title(c.leader)}")
    if c.disclosed:
        lines.append(f"（提交人自愿留下：{c.disclosed}）")
    lines.append(body)
    return "\n".join(lines)


RELAY_STATES = {
    "pending": "还没发出，正在重试",
    "sending": "正在发送",
    "unknown": "不确定是否送达（可能已送达，为免重复不再自动重发）",
    "failed": "未能送达",
}
RELAY_KINDS = {"acknowledged": "受理通知", "reply": "答复", "closed": "办结结果", "transferred": "转办通知", "escalated": "超期通知"}
# What the leader is told right after acting, by the relay's outcome. "已告知" only when sent.
RELAY_ANSWERS = {
    "sent": "已告知提交人。",
    "pending": "暂时没能发给提交人，我会继续尝试，送达情况可在 /待办 查看。",
    "sending": "正在告知提交人，送达情况可在 /待办 查看。",
    "unknown": "告知提交人时没有收到 QQ 的确认，可能已送达；为免重复不会自动重发。提交人发送 /进度 可以看到。",
    "failed": "没能告知提交人（回复通道已不可用），提交人发送 /进度 可以看到。",
}
OPEN_RELAYS = ("pending", "sending", "unknown", "failed")


def _relay_lines(events: Sequence[ConcernEvent]) -> list[str]:
    return [
        f"转达提交人：{RELAY_KINDS.get(e.kind, e.kind)}（{_day(e.at)}）{RELAY_STATES[e.relay]}"
        for e in events
        if e.relay in RELAY_STATES
    ]


async def todo(actor: int) -> str:
    recent = hour(clock.utcnow()) - timedelta(days=7)
    async with session() as s:
        rows = (await s.scalars(select(Concern).where(Concern.status != "closed", Concern.visible.is_(True)).order_by(Concern.id))).all()
        # Closed in the last week but the result not (yet) known to have reached the submitter.
        closed = (
            await s.scalars(
                select(Concern)
                .join(ConcernEvent, ConcernEvent.concern_id == Concern.id)
                .where(Concern.status == "closed", Concern.closed_at >= recent, ConcernEvent.relay.in_(OPEN_RELAYS))
                .distinct()
                .order_by(Concern.id)
            )
        ).all()
        mine = [c for c in rows if can_act(actor, c) and (c.leader == actor or c.level >= 2)]
        closed_mine = [c for c in closed if can_act(actor, c)]
        ids = [c.id for c in mine + closed_mine]
        relays = (
            await s.scalars(
                select(ConcernEvent).where(ConcernEvent.concern_id.in_(ids), ConcernEvent.relay.in_(OPEN_RELAYS)).order_by(ConcernEvent.id)
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


async def _act(c: Concern, s: AsyncSession, event: ConcernEvent) -> tuple[int, int]:
    s.add(event)
    await s.flush()
    ids = (c.id, event.id)
    await s.commit()
    return ids


async def acknowledge(actor: int, raw_number: str) -> str:
    async with session() as s:
        c = await _for_actor(s, actor, raw_number)
        if c.status != "new":
            raise ConcernError(f"#{c.id} 号诉求已经受理过了。")
        now = hour(clock.utcnow())
        c.status, c.acknowledged_at = "acknowledged", now
        due = _start_phase(c, now)
        owner = c.leader
        cid, eid = await _act(c, s, ConcernEvent(concern_id=c.id, at=now, kind="acknowledged", actor=actor, relay="pending"))
    status = await relay(cid, eid, RELAY_MESSAGES["acknowledged"])
    return f"已受理 #{cid}，请在 {_when(due)} 前答复。{RELAY_ANSWERS[status]}" + await _tell_owner(actor, owner, cid, eid)


def check_answer(text: str, usage: str) -> str:
    """A leader's reply or result: cleaned; empty (or invisible only) is refused."""
    if not textutil.clean(text):
        raise ConcernError(f"内容是空的，没有发出。请写上要转达的话，例如：{usage}")
    try:
        return check_text(text)
    except ConcernError as e:
        raise ConcernError(str(e).replace("这次没有提交，一个字也没有删。", "这次没有发出，请精简后重新发送。").split("请先提交")[0]) from None


async def reply(actor: int, raw_number: str, text: str) -> str:
    async with session() as s:
        c = await _for_actor(s, actor, raw_number)
        text = check_answer(text, f"/回复 {c.id} 已向财务核实，下月补发")
        now = hour(clock.utcnow())
        if c.status == "new":
            c.acknowledged_at = now
        c.status, c.replied_at = "replied", now
        _start_phase(c, now)
        owner = c.leader
        cid, eid = await _act(c, s, ConcernEvent(concern_id=c.id, at=now, kind="reply", actor=actor, text=text, relay="pending"))
    status = await relay(cid, eid, RELAY_MESSAGES["reply"].format(text=text))
    return f"已答复 #{cid}，" + RELAY_ANSWERS[status].replace("已告知提交人", "已转达提交人") + await _tell_owner(actor, owner, cid, eid)


async def close(actor: int, raw_number: str, text: str) -> str:
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
        cid, eid = await _act(c, s, ConcernEvent(concern_id=c.id, at=now, kind="closed", actor=actor, text=text, relay="pending"))
    status = await relay(cid, eid, RELAY_MESSAGES["closed"].format(text=text), invite_rating=True)
    return f"已办结 #{cid}。{RELAY_ANSWERS[status]}" + await _tell_owner(actor, owner, cid, eid)


# Who may hold a concern: those who answer concerns. A worker or moderator never receives one.
HOLDERS = (Role.leader, Role.cadre, Role.head)


def holder_title(q: int) -> str:
    """How a concern's holder is named to a leader: 李四（工资福利分管领导）."""
    org = runtime.org()
    led = [c.name for c in org.spec.categories if c.leader == q]
    roles = org.roles_of(q)
    if led:
        title = "、".join(led) + ROLE_NAMES[Role.leader]
    else:
        title = next((ROLE_NAMES[r] for r in (Role.head, Role.cadre, Role.leader) if r in roles), "")
    return f"{org.display_name(q)}（{title}）" if title else org.display_name(q)


def _transfer_target(target: str) -> int:
    """The person a concern is handed to, by QQ number or name; refusals say why."""
    org = runtime.org()
    number = textutil.parse_int(target, max_digits=12)
    if number is not None:
        if number not in org.people and number != org.head:
            raise ConcernError(f"组织名单里没有 QQ 号 {number}。请核对，或写对方的姓名。")
        matches = [number]
    else:
        matches = [p.qq for p in org.people.values() if p.name == target]
        if not matches:
            raise ConcernError("没有找到转办对象：请写领导的姓名或 QQ 号，或诉求类别名称（如 食堂后勤）。")
        if len(matches) > 1:
            raise ConcernError(f"名单里有 {len(matches)} 位“{target}”，请改写 QQ 号。")
    q = matches[0]
    if not any(r in org.roles_of(q) for r in HOLDERS):
        raise ConcernError(f"抱歉，{org.display_name(q)} 不负责办理诉求，不能转交给对方。可以转给分管领导、政工干部或主要负责人。")
    return q


async def transfer(actor: int, raw_number: str, target: str) -> str:
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
        c.next_step_at = _remind_at(now, due) if due is not None else None
        event = ConcernEvent(concern_id=c.id, at=now, kind="transferred", actor=actor, text=note, relay="pending")
        cid, eid = await _act(c, s, event)
    await relay(cid, eid, RELAY_MESSAGES["transferred"].format(text=note))
    return f"{answer}对方会在下一批通知中收到。" + await _tell_owner(actor, owner, cid, eid)


# --- relaying to the submitter -----------------------------------------------------------

RELAY_MESSAGES = {
    "acknowledged": "你反映的诉求已由负责的领导受理，请耐心等待答复。",
    "reply": "你反映的诉求有了新答复：\n{text}",
    "closed": "你反映的诉求已办结：\n{text}",
    "transferred": "你反映的诉求{text}。",
    "escalated": "你反映的诉求{text}。",
}
MAX_REFUSALS = 3  # definite refusals before a relay is given up ("failed"); not-connected never counts


def rate_invitation(code: str) -> str:
    return f"欢迎为办理情况打分：发送“/评价 {code} 5”，1 分是很不满意，5 分是很满意。"


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
            _, bot_id, user_id, code = receipts.open_route(concern_id, route.sealed)
            text = f"【连心】回执码 {code}\n{message}\n" + (
                rate_invitation(code) if invite_rating else f"发送“/进度 {code}”可查看全部进展。"
            )
            status = await _send_private(bot_id, user_id, text)
        if status == "refused":
            refusals += 1
            status = "failed" if refusals >= MAX_REFUSALS else "pending"
        await s.execute(update(ConcernEvent).where(ConcernEvent.id == event_id).values(relay=status, relay_attempts=refusals))
        await s.commit()
    return status


async def _send_private(bot_id: str, user_id: int, text: str) -> str:
    """sent, unknown, refused (an account said no and none said yes), or pending (none connected)."""
    import nonebot

    candidates = [bot_id] + [b for b in nonebot.get_bots() if b != bot_id]
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



# --- deadlines and escalation ------------------------------------------------------------
#
# Each phase (to acknowledge, to reply, to close) has one deadline, set when the phase starts
# and stored (due_at): what the leader and the submitter are shown never moves. The ladder:
# a reminder to the leader the working day before the deadline; once it has passed, one step
# up at a time to people not yet told (the department head, the cadres, the head), each
# given a deadline of their own (next_step_at), so a step that would reach the same person
# again is skipped. When nobody above is left, the leader is reminded once more.


def _deadline_after_ack(acknowledged_at: datetime) -> datetime:
    return calendar.add_workdays(acknowledged_at.astimezone(clock.zone()), policy().reply_days)


def _deadline(c: Concern) -> datetime | None:
    p = policy()
    created = c.created_at.astimezone(clock.zone())
    if c.status == "new":
        return min(calendar.add_workdays(created, p.ack_days), created + timedelta(days=p.ack_ceiling_days))
    if c.status == "acknowledged" and c.acknowledged_at:
        return min(_deadline_after_ack(c.acknowledged_at), created + timedelta(days=p.feedback_ceiling_days))
    if c.status == "replied":
        return created + timedelta(days=p.feedback_ceiling_days)
    return None


def due_of(c: Concern) -> datetime | None:
    """The phase's deadline as stored; computed for rows from before it was stored."""
    if c.status == "closed":
        return None
    return c.due_at or _deadline(c)


REMIND_AT = time(9, 0)


def _remind_at(start: datetime, due: datetime) -> datetime:
    """09:00 of the last working day before the deadline's day; else of the day before; else
    halfway (a deadline less than a day away)."""
    local = due.astimezone(clock.zone())
    day = local.date() - timedelta(days=1)
    for _ in range(15):
        if calendar.is_workday(day):
            break
        day -= timedelta(days=1)
    for candidate in (day, local.date() - timedelta(days=1)):
        at = datetime.combine(candidate, REMIND_AT, clock.zone())
        if start < at < due:
            return hour(at)
    return hour(start + (due - start) / 2)


def _start_phase(c: Concern, now: datetime) -> datetime:
    """A new phase: its deadline is set (once), the ladder starts again from the reminder."""
    due = _deadline(c)
    assert due is not None
    c.due_at, c.level = hour(due), 0
    c.next_step_at = _remind_at(now, c.due_at)
    return c.due_at


def _ladder(c: Concern) -> list[tuple[int, list[int]]]:
    """The steps above the leader, each with the people it reaches; a step that would reach
    nobody new (the leader is the department head, the only cadre, the head) is left out."""
    org = runtime.org()
    if c.leader == org.head:
        return []  # the head is the last step: nobody is above (a department head is not)
    told = {c.leader}
    steps: list[tuple[int, list[int]]] = []
    dept_head = _dept_head_of(c.leader)
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


def _next_step(c: Concern, ceiling_passed: bool) -> tuple[int, list[int]]:
    """The next step above the current one ((4, []) when nobody above is left)."""
    for level, targets in _ladder(c):
        if level > c.level and (not ceiling_passed or level == 4):
            return level, targets
    return 4, []


def escalation_phrase(text: str | None) -> str:
    """What an escalation event says to the submitter; rows from before say only the step."""
    text = text or ""
    return text if text.startswith(("将于", "超过")) else f"超过期限，已{text}"


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
        phase = PHASES[c.status]
        again, until = False, now
        if c.level == 0:
            level, targets = 1, [c.leader]
            before = now < deadline
            # Reminded only after the deadline (a transfer, or the bot was down): the leader
            # still gets one step's time before it goes up.
            next_at: datetime | None = (
                deadline if before else hour(calendar.add_workdays(now.astimezone(clock.zone()), p.escalation_step_days))
            )
            said = f"将于 {_when(deadline)} 到{phase}期限，已提醒分管领导抓紧办理" if before else f"超过{phase}期限，已提醒分管领导"
        else:
            ceiling_passed = c.status == "new" and now >= c.created_at + timedelta(days=p.ack_ceiling_days)
            level, targets = _next_step(c, ceiling_passed)
            before = False
            # The new holder's own deadline; the last step has no further step after it.
            until = hour(calendar.add_workdays(now.astimezone(clock.zone()), p.escalation_step_days))
            next_at = until if level < 4 else None
            if targets:
                said = f"超过{phase}期限，已上报{LEVEL_HOLDERS[level]}督促办理"
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
        # The notice is rendered when sent (render_notice): the ledger keeps no copy of the text.
        data = {
            "view": "escalation", "id": c.id, "status": c.status, "level": level, "before": before, "again": again,
            "until": until.isoformat() if level >= 2 and not again else None,
        }
        await outbox.enqueue(
            "concern-escalation", f"{c.id}:{c.status}:{level}",
            [outbox.Item(Target.private(q), outbox.Ref("concern", data)) for q in targets],
        )
        await relay(c.id, eid, RELAY_MESSAGES["escalated"].format(text=said))
    return steps


PHASES = {"new": "受理", "acknowledged": "答复", "replied": "办结", "closed": "办结"}


# --- the owner hears what others did with their concern ----------------------------------

ACTION_VERBS = {"acknowledged": "受理", "reply": "答复", "closed": "办结", "transferred": "转办"}


async def _tell_owner(actor: int, owner: int, concern_id: int, event_id: int) -> str:
    """Someone else (a cadre, the department head, the head) acted on a concern: its owner is
    told, through the outbox. Returns what the actor is told about it."""
    if actor == owner:
        return ""
    await outbox.enqueue(
        "concern-action", str(event_id),
        [outbox.Item(Target.private(owner), outbox.Ref("concern", {"view": "action", "id": concern_id, "event": event_id}))],
    )
    return f"已通知负责的 {holder_title(owner)}。"


def _acting_title(actor: int, c: Concern) -> str:
    """Who acted on someone else's concern, named by the capacity in which it reached them."""
    org = runtime.org()
    roles = org.roles_of(actor)
    if actor == org.head:
        title = ROLE_NAMES[Role.head]
    elif actor == _dept_head_of(c.leader):
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
    deadline = f"（{_when(due)}）" if due is not None else ""
    if level == 1 and data.get("before"):
        head = f"【诉求提醒】#{n} 的{phase}期限是 {_when(due)}，现在还没有{phase}，请抓紧处理。" if due else f"【诉求提醒】#{n} 即将到{phase}期限，请抓紧处理。"
    elif level == 1 or data.get("again"):
        head = f"【诉求提醒】#{n} 已超过{phase}期限{deadline}，请尽快处理。"
    else:
        # To a cadre, department head or head: who is late, and their own deadline.
        until = data.get("until")
        yours = f"请在 {_when(datetime.fromisoformat(until))} 前督促办理，也可以直接处理。" if until else "请督促办理，也可以直接处理。"
        head = f"【诉求上报】#{n} 由 {holder_title(c.leader)}负责，已超过{phase}期限{deadline}还没有{phase}。{yours}"
    return f"{head}\n{leader_view(c)}\n处理：/受理 {n}　/回复 {n} 内容　/办结 {n} 内容"


# --- batched leader notifications --------------------------------------------------------


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
    by_leader: dict[int, tuple[list[int], list[int]]] = {}
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
    for e in events:
        if e.text is not None:
            lines.append(f"#{e.concern_id} 提交人补充：{e.text}" if e.kind == "supplement" else f"#{e.concern_id} 提交人评价：{e.text} 分")
    if not lines:
        return None
    return [Text("【连心·诉求通知】\n\n" + "\n\n".join(lines) + "\n\n发送 /待办 查看并处理。")]


outbox.register_renderer("concern", render_notice)


# --- retention and housekeeping ----------------------------------------------------------


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
        template = RELAY_MESSAGES.get(e.kind)
        if template is None or ("{text}" in template and e.text is None):
            continue
        text = escalation_phrase(e.text) if e.kind == "escalated" else e.text
        await relay(e.concern_id, e.id, template.format(text=text), invite_rating=e.kind == "closed")
