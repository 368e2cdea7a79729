"""The audit log: one entry per step taken on a case, what the platform actions did, and
whether a group was sent a post lately.

A decision's own entry is committed with the decision; the outcome of each platform action
(recall, clarification, mute, notice) is recorded afterwards, with the message snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from bot import clock
from bot.db import session
from plugins.moderation.config import MAX_SNAPSHOT, REPEAT_WINDOW
from plugins.moderation.models import ModerationAudit, ModerationCase

# What each action is called where people read the log (/案件, the console).
ACTION_NAMES = {
    "flag": "标记为谣言", "report": "收到举报", "screen": "自动发现", "confirm": "确认违规", "dismiss": "驳回",
    "overturn": "撤销处理", "uphold": "维持原处理", "recall": "撤回消息", "auto_recall": "按群规则自动撤回",
    "recall_failed": "撤回未成功", "clarify": "发布辟谣", "notice": "群内说明", "warn": "提醒发言人",
    "mute": "禁言", "mute_failed": "禁言未成功", "unmute": "解除禁言", "appeal": "发言人申诉",
    "fraud_reminder": "提醒全群防骗",
}


def entry(action: str, actor: str | None, case: ModerationCase, reason: str | None) -> dict[str, Any]:
    return {
        "at": clock.utcnow(), "actor_id": actor, "action": action, "case_id": case.id, "group_id": case.group_id,
        "subject_id": case.author_id, "reason": (reason or None) and reason[:MAX_SNAPSHOT], "snapshot": case.text,
    }


async def record(audits: Sequence[dict[str, Any]], *, recalled: int | None = None, clarification: tuple[int, str] | None = None) -> None:
    """Write what the platform actions did (one transaction after them)."""
    if not audits and recalled is None and clarification is None:
        return
    async with session() as s:
        for a in audits:
            s.add(ModerationAudit(**a))
        if recalled is not None:
            await s.execute(update(ModerationCase).where(ModerationCase.id == recalled).values(recalled=True))
        if clarification is not None:
            await s.execute(update(ModerationCase).where(ModerationCase.id == clarification[0]).values(clarification=clarification[1]))
        await s.commit()


async def posted_lately(group_id: str, action: str, text: str | None) -> bool:
    """Whether the group was sent this (the same clarification, or any anti-fraud reminder)
    within REPEAT_WINDOW: several copies of a rumour must not bring several identical posts."""
    where = [ModerationAudit.group_id == group_id, ModerationAudit.action == action, ModerationAudit.at >= clock.utcnow() - REPEAT_WINDOW]
    if text is not None:
        where.append(ModerationAudit.reason == text[:MAX_SNAPSHOT])
    async with session() as s:
        return (await s.execute(select(ModerationAudit.id).where(*where).limit(1))).scalar() is not None
