"""A moderator's decision on a case: /确认 (a violation: recall, clarify, warn or mute),
/驳回 (not one), and /防骗 (remind the whole group instead of blaming the author).

A decision is committed (case, corpus, audit) before anything is done on the platform or anyone
is told, so a crash between the two leaves a recorded decision, not a lost one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from bot import clock
from bot.db import session
from bot.org import Org, Role
from bot.platform import Port, Target, Text
from plugins.moderation import audit, corpus, enforce, notify, texts
from plugins.moderation.appeals import appeal_hint, appeal_waiting
from plugins.moderation.cases import get_case
from plugins.moderation.config import LADDER_WINDOW, MAX_MUTE_SECONDS, NO_CLARIFICATION, label, ladder_of, mute_minutes
from plugins.moderation.models import CONFIRMED, DISMISSED, INNOCENT, OPEN, RUMOUR, ModerationAudit, ModerationCase


async def decide_confirm(port: Port, org: Org, case_id: int, actor: str, note: str | None) -> list[str]:
    """/确认 (and /谣言): confirm an open or dismissed case. On an appealed case it changes
    nothing and names /撤销 and /维持."""
    case = await get_case(case_id)
    if case is None:
        return [texts.NO_CASE.format(id=case_id)]
    moderator = org.is_moderator_of(actor, case.group_id)
    cadre = org.has_role(actor, (Role.cadre,))
    if case.status == CONFIRMED:
        if appeal_waiting(case):
            return [appeal_hint(case, moderator, cadre)]
        return [texts.ALREADY_CONFIRMED.format(id=case_id) if moderator or cadre else texts.NOT_MODERATOR.format(id=case_id)]
    if not moderator:
        return [texts.NOT_MODERATOR.format(id=case_id)]
    if case.status == DISMISSED and case.appeal_result == "overturned":
        # Cadres granted the author's appeal; a moderator does not reverse that.
        return [texts.ALREADY_DISMISSED.format(id=case_id)]
    return await _confirm(port, org, case, actor, note)


async def decide_dismiss(port: Port, org: Org, case_id: int, actor: str, note: str | None) -> list[str]:
    """/驳回: an open case is not a violation. A confirmed case is revoked with /撤销 only: on
    an appeal, "驳回" reads as "reject the appeal" as well as "reject the penalty"."""
    case = await get_case(case_id)
    if case is None:
        return [texts.NO_CASE.format(id=case_id)]
    moderator = org.is_moderator_of(actor, case.group_id)
    cadre = org.has_role(actor, (Role.cadre,))
    if case.status == OPEN and moderator:
        return await _dismiss(port, org, case, actor, note)
    if case.status == CONFIRMED and (moderator or cadre):
        return [appeal_hint(case, moderator, cadre) if appeal_waiting(case) else texts.USE_REVOKE.format(id=case_id)]
    if case.status == DISMISSED and (moderator or cadre):
        return [texts.ALREADY_DISMISSED.format(id=case_id)]
    return [texts.NOT_MODERATOR.format(id=case_id)]


async def fraud_reminder(port: Port, org: Org, case_id: int, actor: str) -> list[str]:
    """/防骗: a fraud phrase is often a worker asking "is this a scam?". Remind the whole
    group instead of blaming the author: the case closes as no violation."""
    case = await get_case(case_id)
    if case is None:
        return [texts.NO_CASE.format(id=case_id)]
    if not org.is_moderator_of(actor, case.group_id):
        return [texts.NOT_MODERATOR.format(id=case_id)]
    if case.category != "fraud":
        return [texts.FRAUD_NOT_FRAUD.format(id=case_id)]
    if case.status == CONFIRMED:
        return [texts.FRAUD_CONFIRMED.format(id=case_id)]
    closing = case.status == OPEN
    more: list[str] = []
    if closing:
        lines = await _dismiss(port, org, case, actor, None, why="提醒全群防骗，不计违规")
        if lines == [texts.ALREADY_DISMISSED.format(id=case.id)]:  # decided a moment ago
            return lines
        more = lines[1:]  # e.g. it was recalled by the group's policy
    if await audit.posted_lately(case.group_id, "fraud_reminder", None):
        return [(texts.FRAUD_RECENT if closing else texts.FRAUD_RECENT_AGAIN).format(id=case_id), *more]
    if not await notify.send(port, Target.group(case.group_id), [Text(texts.FRAUD_REMINDER)]):
        return [(texts.FRAUD_FAILED if closing else texts.FRAUD_FAILED_AGAIN).format(id=case_id), *more]
    await audit.record([audit.entry("fraud_reminder", actor, case, texts.FRAUD_REMINDER)])
    return [(texts.FRAUD_DONE if closing else texts.FRAUD_AGAIN).format(id=case_id), *more]


async def _confirm(port: Port, org: Org, case: ModerationCase, actor: str, note: str | None) -> list[str]:
    now = clock.utcnow()
    learned: list[tuple[int, str]] = []
    forgotten: list[int] = []
    in_corpus = False
    async with session() as s:
        won = await s.execute(
            update(ModerationCase)
            .where(ModerationCase.id == case.id, ModerationCase.status.in_([OPEN, DISMISSED]))
            .values(status=CONFIRMED, decided_at=now, decided_by=actor, note=note or case.note, appeal=None, appealed_at=None, appeal_result=None)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return [texts.ALREADY_CONFIRMED.format(id=case.id)]
        step = (
            await s.execute(
                select(func.count()).select_from(ModerationCase).where(
                    ModerationCase.author_id == case.author_id,
                    ModerationCase.status == CONFIRMED,
                    ModerationCase.decided_at >= now - LADDER_WINDOW,
                )
            )
        ).scalar_one()
        minutes = mute_minutes(ladder_of(org, case.group_id), step)
        seconds = min(minutes * 60, MAX_MUTE_SECONDS)
        await s.execute(update(ModerationCase).where(ModerationCase.id == case.id).values(ladder_step=step, mute_seconds=seconds))
        forgotten = await corpus.deactivate(s, INNOCENT, case.text)
        if case.category not in NO_CLARIFICATION:
            learned, in_corpus = await corpus.add(s, RUMOUR, case, actor, now)
        s.add(ModerationAudit(**audit.entry("confirm", actor, case, note or "")))
        await s.commit()
    corpus.apply(forgotten, learned, RUMOUR, case.id)

    lines = [f"已确认案件 #{case.id}（{label(case.category)}）。"]
    audits: list[dict[str, Any]] = []
    recalled = case.recalled
    if recalled:
        lines.append("· 消息此前已撤回")
    elif outcome := await enforce.recall(port, case.message_id, case.group_id, case.author_id):
        recalled = True
        lines.append("· 消息已撤回")
        audits.append(audit.entry("recall", actor, case, "管理员确认"))
    else:
        lines.append(f"· {texts.recall_failed(outcome)}")
        audits.append(audit.entry("recall_failed", actor, case, texts.recall_failed(outcome)))
    clarification = None
    if case.category not in NO_CLARIFICATION:
        clarification = notify.clarification(note, case.text)
        # Posted for this case already (auto-recall), or the same official text lately; the
        # generic one is about "the message just now", so a new message gets it anew.
        if case.clarification == clarification or (
            clarification != texts.CLARIFY_GENERIC and await audit.posted_lately(case.group_id, "clarify", clarification)
        ):
            lines.append("· 群里不久前已发过同样的辟谣，这次没有重复发")
        elif await notify.send(port, Target.group(case.group_id), [Text(clarification)]):
            lines.append("· 已在群里发布辟谣")
            audits.append(audit.entry("clarify", actor, case, clarification))
        else:
            clarification = None
            lines.append("· 辟谣未能发出，请稍后在群里说明")
        if in_corpus:
            lines.append("· 已加入谣言库，相似的转发会被自动发现")
    who = texts.person(case.author_name, case.author_id)
    if seconds > 0:
        dur = texts.duration(seconds // 60)
        if await enforce.mute(port, case.group_id, case.author_id, seconds):
            lines.append(f"· {who} 近半年第 {step} 次违规：已禁言 {dur}")
            audits.append(audit.entry("mute", actor, case, f"第 {step} 次违规，禁言 {dur}"))
            await notify.send(port, Target.group(case.group_id), [Text(texts.MUTE.format(name=case.author_name, label=label(case.category), duration=dur))])
            await notify.tell_author(port, org, case, f"已禁言 {dur}")
        else:
            why = texts.NOT_ADMIN if enforce.can_mute(port) else texts.MUTE_UNSUPPORTED
            lines.append(f"· {who} 近半年第 {step} 次违规：禁言 {dur} 未成功（{why}），请手动处理")
            audits.append(audit.entry("mute_failed", actor, case, f"第 {step} 次违规，禁言 {dur} 未成功"))
    else:
        next_minutes = mute_minutes(ladder_of(org, case.group_id), step + 1)
        following = texts.WARN_NEXT.format(duration=texts.duration(next_minutes)) if next_minutes else ""
        warn = texts.WARN.format(name=case.author_name, label=label(case.category), next=following)
        await notify.send(port, Target.group(case.group_id), [Text(warn)])
        await notify.tell_author(port, org, case, "已在群里提醒")
        lines.append(f"· {who} 近半年第 {step} 次违规：已在群里提醒")
        audits.append(audit.entry("warn", actor, case, f"第 {step} 次违规，提醒"))
    await audit.record(audits, recalled=case.id if recalled and not case.recalled else None, clarification=(case.id, clarification) if clarification else None)
    if case.status == OPEN:  # the first decision; a change of mind later is not re-announced
        await notify.tell_reporters(port, org, case, texts.REPORT_CONFIRMED)
    return lines


async def _dismiss(port: Port, org: Org, case: ModerationCase, actor: str, note: str | None, *, why: str | None = None) -> list[str]:
    now = clock.utcnow()
    async with session() as s:
        won = await s.execute(
            update(ModerationCase)
            .where(ModerationCase.id == case.id, ModerationCase.status == OPEN)
            .values(status=DISMISSED, decided_at=now, decided_by=actor, note=note)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return [texts.ALREADY_DISMISSED.format(id=case.id)]
        forgotten = await corpus.deactivate(s, RUMOUR, case.text)
        learned, _ = await corpus.add(s, INNOCENT, case, actor, now)
        s.add(ModerationAudit(**audit.entry("dismiss", actor, case, why or note or "")))
        await s.commit()
    corpus.apply(forgotten, learned, INNOCENT, case.id)
    await notify.tell_reporters(port, org, case, texts.REPORT_DISMISSED)
    lines = [f"已驳回案件 #{case.id}：不属于违规。相同的内容今后不会再被自动标记。"]
    if case.recalled:
        lines.append("该消息此前已按本群规则自动撤回，如有需要请告知发言人重新发送。")
    return lines
