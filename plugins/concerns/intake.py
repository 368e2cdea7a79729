"""The submitter's side: a concern is submitted (routed to its category's leader, with a sealed
route back), followed by its receipt code (/进度), added to (/补充) and rated (/评价).

The guided /诉求 (drafts) is plugins.concerns.flow; it submits through `submit` here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, quota, runtime
from bot import text as textutil
from bot.db import session
from plugins.concerns import receipts
from plugins.concerns.core import ConcernError, category_name, check_text, day, due_of, hour, policy, start_phase, when
from plugins.concerns.models import Concern, ConcernCounter, ConcernEvent, ConcernRoute
from plugins.concerns.texts import DAILY_LIMIT_TEXT, PHASES, STATUS_NAMES, escalation_phrase, rate_invitation


@dataclass(frozen=True)
class Submitted:
    concern_id: int
    code: str
    category_name: str


def categorize(text: str) -> str:
    """The category whose keywords the text mentions most (bot.text.categorize); else other."""
    return textutil.categorize(text, runtime.org().spec.categories)


async def _take_quota(s: AsyncSession, user_id: str) -> None:
    start, midnight = quota.day_bounds()
    key = receipts.person_key("quota", user_id, start.date().isoformat())
    row = await s.get(ConcernCounter, key)
    if refusal := quota.DailyLimit(policy().daily_limit, DAILY_LIMIT_TEXT).refusal(row.count if row else 0):
        raise ConcernError(refusal)
    if row is None:
        s.add(ConcernCounter(key=key, count=1, expires_at=midnight))
    else:
        row.count += 1


async def submit(
    *, user_id: str, bot_id: str, text: str, category: str | None = None, disclosed: str | None = None,
    account: str | None = None, platform: str = "qq",
) -> Submitted:
    """Store a concern and its sealed route in one transaction; only then is a code returned.

    `user_id` is the person (their daily limit counts across platforms); `account` and
    `platform` are where they wrote from, the way back sealed in the route."""
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
        start_phase(concern, now)
        s.add(ConcernRoute(concern_id=concern.id, sealed=receipts.seal_route(concern.id, platform, bot_id, account or user_id, code)))
        s.add(ConcernEvent(concern_id=concern.id, at=now, kind="submitted", actor=None, text=None))
        concern_id = concern.id
        await s.commit()
    return Submitted(concern_id, code, cat.name)


# --- by receipt code ----------------------------------------------------------------------


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
    lines = [f"诉求进度（{category_name(c)}）：{STATUS_NAMES[c.status]}", f"提交：{day(c.created_at)}　受理：{day(c.acknowledged_at)}　办结：{day(c.closed_at)}"]
    if (due := due_of(c)) is not None and not c.purged_at:
        lines.append(f"{PHASES[c.status]}期限：{when(due)}")
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
    at = day(e.at)
    match e.kind:
        case "acknowledged":
            return f"{at} 领导已受理"
        case "reply":
            return f"{at} 领导答复：{e.text}"
        case "closed":
            return f"{at} 已办结：{e.text}"
        case "supplement":
            return f"{at} 你补充：{e.text}"
        case "transferred":
            return f"{at} {e.text}"
        case "escalated":
            return f"{at} {escalation_phrase(e.text)}"
        case "rated":
            return f"{at} 你评价了 {e.text} 分"
    return f"{at} {e.kind}"


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
