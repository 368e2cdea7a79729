"""Moderation cases in the console: the same decisions as in chat, through the same functions.

Decisions act on the platform (recall, mute, posts), so they need a connected account; without
one the page says so and nothing is decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import nonebot
from sqlalchemy import select

from bot import clock, runtime
from bot.db import session
from bot.org import Role
from bot.platform import NotConnected, Port, port_for
from plugins.moderation import appeals, decisions, texts
from plugins.moderation.audit import ACTION_NAMES
from plugins.moderation.config import label
from plugins.moderation.cases import open_cases, waiting_appeals
from plugins.moderation.models import ModerationAudit, ModerationCase
from plugins.moderation.views import may_review

LIST_LIMIT = 100  # a page shows more than a chat message
DECISIONS = {"confirm": "确认违规", "dismiss": "驳回", "fraud": "提醒全群防骗", "revoke": "撤销处理", "uphold": "维持原处理"}


@dataclass(frozen=True)
class CaseRow:
    number: int
    group: str
    author: str
    category: str
    category_name: str
    source: str
    status: str
    text: str
    appeal: str | None
    when: str


def _row(c: ModerationCase) -> CaseRow:
    return CaseRow(
        number=c.id, group=texts.group_short(runtime.org(), c.group_id), author=c.author_name, category=c.category,
        category_name=label(c.category), source=texts.SOURCE_NAMES.get(c.source, c.source),
        status=texts.STATUS_NAMES.get(c.status, c.status), text=c.text, appeal=c.appeal,
        when=f"{c.opened_at.astimezone(clock.zone()):%m-%d %H:%M}",
    )


def may_see(user_id: str) -> bool:
    return may_review(runtime.org(), user_id) != []


async def lists(user_id: str) -> tuple[list[CaseRow], list[CaseRow]]:
    """Open cases of the groups this person moderates (all for cadres), and, for cadres, the
    appeals waiting for a decision."""
    org = runtime.org()
    cases, _ = await open_cases(may_review(org, user_id), LIST_LIMIT)
    appeals = await waiting_appeals(LIST_LIMIT) if org.has_role(user_id, (Role.cadre,)) else []
    return [_row(c) for c in cases], [_row(c) for c in appeals]


@dataclass(frozen=True)
class AuditRow:
    when: str
    group: str
    case: int | None
    who: str
    action: str
    reason: str


async def audit_log(user_id: str, *, action: str = "", days: int = 30) -> list[AuditRow]:
    org = runtime.org()
    groups = may_review(org, user_id)
    since = clock.utcnow() - timedelta(days=days)
    async with session() as s:
        q = select(ModerationAudit).where(ModerationAudit.at >= since)
        if groups is not None:
            q = q.where(ModerationAudit.group_id.in_(groups))
        if action:
            q = q.where(ModerationAudit.action == action)
        rows = (await s.scalars(q.order_by(ModerationAudit.id.desc()).limit(200))).all()
    out = []
    for a in rows:
        g = org.groups.get(a.group_id) if a.group_id is not None else None
        # Reporters are not named, not even to moderators (as in /案件).
        who = "" if a.actor_id is None or a.action == "report" else org.display_name(a.actor_id)
        reason = a.reason if a.action in ("overturn", "uphold", "confirm", "dismiss") and a.reason else ""
        out.append(AuditRow(
            when=f"{a.at.astimezone(clock.zone()):%m-%d %H:%M}", group=g.name if g else "", case=a.case_id, who=who,
            action=ACTION_NAMES.get(a.action, a.action), reason=reason,
        ))
    return out


def _port() -> Port:
    for bot in nonebot.get_bots().values():
        try:
            return port_for(bot)
        except NotConnected:
            continue
    raise NotConnected("no account")


async def decide(user_id: str, number: int, decision: str, note: str) -> list[str]:
    """What the moderator would read in chat after the same command."""
    org = runtime.org()
    port = _port()
    note_or_none = note.strip() or None
    if decision == "confirm":
        return await decisions.decide_confirm(port, org, number, user_id, note_or_none)
    if decision == "dismiss":
        return await decisions.decide_dismiss(port, org, number, user_id, note_or_none)
    if decision == "fraud":
        return await decisions.fraud_reminder(port, org, number, user_id)
    if decision == "revoke":
        return await appeals.decide_revoke(port, org, number, user_id, note_or_none)
    if decision == "uphold":
        return await appeals.decide_uphold(port, org, number, user_id, note_or_none)
    raise ValueError(decision)
