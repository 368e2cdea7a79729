"""What moderation does, as plain async functions over the database and the platform port.

Handlers in __init__.py parse and reply; everything here is testable without NoneBot events.
Conventions:
- a decision is committed (case, corpus, audit) before anything is done on the platform or
  anyone is told, so a crash between the two leaves a recorded decision, not a lost one;
- the outcome of each platform action (recall, clarification, mute, notice) is written to the
  audit log afterwards, with the message snapshot;
- user text is only ever sent as a Text part, and never written to the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nonebot import logger
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.context import MessageCtx
from bot.db import insert_ignore, session
from bot.org import Org, Role
from bot.platform import Part, Port, Recall, SendUnknown, Target, Text
from plugins.moderation import texts
from plugins.moderation.config import (
    LADDER_WINDOW,
    MAX_MUTE_SECONDS,
    MAX_GROUP_POST,
    MAX_SNAPSHOT,
    NO_CLARIFICATION,
    REPEAT_WINDOW,
    REPORTS_PER_HOUR,
    best_clarification,
    dedupe_sentences,
    fit,
    label,
    ladder_of,
    load_clarifications,
    mute_minutes,
    policy_of,
)
from plugins.moderation.index import index
from plugins.moderation.models import (
    CONFIRMED,
    DISMISSED,
    FLAG,
    INNOCENT,
    OPEN,
    REPORT,
    RUMOUR,
    SCREEN,
    ModerationAudit,
    ModerationCase,
    ModerationCorpus,
    ModerationReport,
)
from plugins.moderation.normalise import normalise
from plugins.moderation.recent import Seen, recent
from plugins.moderation.screening import Hit

# People whose messages are not screened: they are the ones who act on what screening finds.
TRUSTED = frozenset({Role.moderator, Role.cadre, Role.head, Role.superuser})


@dataclass(frozen=True)
class Quoted:
    message_id: int
    author_id: int
    author_name: str
    text: str


# --- the quoted message ---------------------------------------------------------


def quoted_id(ctx: MessageCtx) -> int | None:
    """The id of the message a command replies to.

    `ctx.reply_to` is set when the adapter could fetch the quoted message; when it could not,
    the reply segment is still in the message and the id is read from it."""
    if ctx.reply_to is not None:
        return ctx.reply_to
    for message in (getattr(ctx.event, "original_message", None), ctx.event.message):
        for seg in message or []:
            if seg.type == "reply":
                try:
                    return int(seg.data.get("id"))  # type: ignore[arg-type]  # None raises, caught
                except (TypeError, ValueError):
                    return None
    return None


async def quoted_message(ctx: MessageCtx, message_id: int) -> Quoted | None:
    """Author and text of the quoted message: from the adapter's reply, this process's memory
    of recent messages, or `get_msg` (in that order: the cheapest that knows it)."""
    reply = getattr(ctx.event, "reply", None)
    if reply is not None and getattr(reply.sender, "user_id", None) is not None:
        uid = int(reply.sender.user_id)
        shown = reply.sender.card or reply.sender.nickname
        return Quoted(message_id, uid, _name(ctx.org, uid, shown), reply.message.extract_plain_text())
    seen = recent.get(message_id)
    if seen is not None and seen.group_id == ctx.group_id:
        return Quoted(message_id, seen.user_id, seen.name, seen.text)
    fetched = await ctx.port.get_message(str(message_id))
    if fetched is None:
        return None
    uid, text = fetched
    return Quoted(message_id, uid, _name(ctx.org, uid, None), text)


def _name(org: Org, user_id: int, shown: str | None) -> str:
    person = org.person(user_id)
    if person is not None:
        return person.name
    return (shown or "").strip()[:64] or str(user_id)


# --- screening (the per-message hook) ---------------------------------------------


async def screen_message(ctx: MessageCtx) -> None:
    """Remember the message, then screen it. Never raises: chat must go on."""
    try:
        group_id = ctx.group_id
        if group_id is None:
            return
        sender = ctx.event.sender
        recent.remember(ctx.message_id, Seen(group_id, ctx.user_id, _name(ctx.org, ctx.user_id, sender.card or sender.nickname), ctx.text))
        if len(ctx.text) < 2 or group_id not in ctx.org.groups or ctx.roles & TRUSTED:
            return
        screener = await index.get()
        if screener is None:
            return
        hit = screener.screen(ctx.text, group_id)
        if hit is not None:
            await on_hit(ctx.port, ctx.org, group_id, ctx.message_id, ctx.user_id, recent.get(ctx.message_id), hit)
    except Exception as e:  # noqa: BLE001
        logger.error(f"moderation: screening failed: {type(e).__name__}")


async def on_hit(port: Port, org: Org, group_id: int, message_id: int, author_id: int, seen: Seen | None, hit: Hit) -> int | None:
    """Open a case for a screened message, apply the group's policy, tell the moderators."""
    text = seen.text if seen else ""
    name = seen.name if seen else str(author_id)
    policy = policy_of(org, group_id).policy
    match_case = index.case_of.get(hit.key) if hit.key is not None else None
    why = texts.why_rumour(match_case) if hit.kind == "rumour" else texts.why_phrase(hit.category, hit.detail)
    case, created = await _open_case(
        group_id, Quoted(message_id, author_id, name, text), source=SCREEN, category=hit.category,
        opened_by=None, reason=why, match_case_id=match_case,
    )
    if not created:
        return None
    action = "仅通知管理员，未撤回"
    audits: list[dict[str, Any]] = []
    recalled = False
    clarified = None
    if policy == "recall":
        outcome = await _recall(port, message_id, group_id, author_id)
        if outcome:
            recalled = True
            action = "已按本群规则撤回"
            audits.append(_entry("auto_recall", None, case, "本群规则：撤回并通知"))
            notice = await _auto_notice(hit, match_case)
            if hit.kind == "rumour" and await _posted_lately(group_id, "clarify", notice):
                action = "已按本群规则撤回（群里不久前发过同样的辟谣，没有重复发）"
            elif await _send(port, Target.group(group_id), [Text(notice)]):
                audits.append(_entry("clarify" if hit.kind == "rumour" else "notice", None, case, notice))
                clarified = notice if hit.kind == "rumour" else None
        else:
            action = f"按本群规则应撤回，但未成功：{recall_failed(outcome)}"
            audits.append(_entry("recall_failed", None, case, "自动撤回未成功"))
    await _record(audits, recalled=case.id if recalled else None, clarification=(case.id, clarified) if clarified else None)
    notice = texts.screen_notice(
        case.id, _group(org, group_id), texts.person(name, author_id), text, why, action, fraud=hit.kind == "phrase" and hit.category == "fraud",
    )
    await _tell_moderators(port, org, group_id, author_id, notice)
    return case.id


async def _auto_notice(hit: Hit, match_case: int | None) -> str:
    if hit.kind == "phrase":
        return texts.AUTO_RECALLED_PHRASE.format(label=label(hit.category))
    if match_case is not None:
        async with session() as s:
            earlier = await s.get(ModerationCase, match_case)
        if earlier is not None and earlier.clarification:
            return earlier.clarification
    return texts.CLARIFY_GENERIC


# --- reply-based commands -----------------------------------------------------------


async def flag(port: Port, org: Org, group_id: int, moderator_id: int, quoted: Quoted, note: str | None) -> list[str]:
    """/谣言: open (or find) the case and confirm it at once."""
    case, _ = await _open_case(group_id, quoted, source=FLAG, category="rumour", opened_by=moderator_id, reason=note)
    return await decide_confirm(port, org, case.id, moderator_id, note)


async def report(port: Port, org: Org, group_id: int, reporter_id: int, quoted: Quoted, reason: str | None) -> str:
    """/举报: queue a case for the group's moderators; the reporter is never named to anyone."""
    if quoted.author_id == reporter_id:
        return texts.REPORT_OWN
    now = clock.utcnow()
    async with session() as s:
        recent_reports = (
            await s.execute(
                select(func.count()).select_from(ModerationReport).where(
                    ModerationReport.reporter_id == reporter_id, ModerationReport.at >= now - timedelta(hours=1)
                )
            )
        ).scalar_one()
    if recent_reports >= REPORTS_PER_HOUR:
        return texts.REPORT_LIMIT
    case, created = await _open_case(group_id, quoted, source=REPORT, category="rumour", opened_by=reporter_id, reason=reason)
    async with session() as s:
        case = await s.get(ModerationCase, case.id)  # type: ignore[assignment]  # checked below
        assert case is not None
        # Detached: commit would expire it, and the notice below still reads it.
        s.expunge(case)
        if case.status != OPEN:
            return texts.REPORT_DECIDED.format(id=case.id, status=texts.STATUS_NAMES[case.status])
        added = await s.execute(
            insert_ignore(s, ModerationReport.__table__, [{"case_id": case.id, "reporter_id": reporter_id, "reason": reason, "at": now}], ("case_id", "reporter_id"))
        )
        if not added.rowcount:  # type: ignore[attr-defined]
            return texts.REPORT_AGAIN.format(id=case.id)
        await s.execute(update(ModerationCase).where(ModerationCase.id == case.id).values(reports=ModerationCase.reports + 1))
        first = case.reports == 0  # the first person to report it (screening may have opened it)
        s.add(ModerationAudit(**_entry("report", reporter_id, case, reason or "")))
        await s.commit()
    if not first:
        return texts.REPORT_JOINED.format(id=case.id)
    earlier = None if created else texts.SOURCE_NAMES.get(case.source)
    notice = texts.report_notice(case.id, _group(org, group_id), texts.person(case.author_name, case.author_id), case.text, reason, earlier=earlier)
    await _tell_moderators(port, org, group_id, case.author_id, notice)
    return texts.REPORT_THANKS.format(id=case.id)


# --- decisions ----------------------------------------------------------------------


async def decide_confirm(port: Port, org: Org, case_id: int, actor: int, note: str | None) -> list[str]:
    """/确认 (and /谣言): confirm an open or dismissed case. On an appealed case it changes
    nothing and names /撤销 and /维持."""
    case = await _case(case_id)
    if case is None:
        return [texts.NO_CASE.format(id=case_id)]
    moderator = org.is_moderator_of(actor, case.group_id)
    cadre = org.has_role(actor, (Role.cadre,))
    if case.status == CONFIRMED:
        if _appeal_waiting(case):
            return [_appeal_hint(case, moderator, cadre)]
        return [texts.ALREADY_CONFIRMED.format(id=case_id) if moderator or cadre else texts.NOT_MODERATOR.format(id=case_id)]
    if not moderator:
        return [texts.NOT_MODERATOR.format(id=case_id)]
    if case.status == DISMISSED and case.appeal_result == "overturned":
        # Cadres granted the author's appeal; a moderator does not reverse that.
        return [texts.ALREADY_DISMISSED.format(id=case_id)]
    return await _confirm(port, org, case, actor, note)


async def decide_dismiss(port: Port, org: Org, case_id: int, actor: int, note: str | None) -> list[str]:
    """/驳回: an open case is not a violation. A confirmed case is revoked with /撤销 only: on
    an appeal, "驳回" reads as "reject the appeal" as well as "reject the penalty"."""
    case = await _case(case_id)
    if case is None:
        return [texts.NO_CASE.format(id=case_id)]
    moderator = org.is_moderator_of(actor, case.group_id)
    cadre = org.has_role(actor, (Role.cadre,))
    if case.status == OPEN and moderator:
        return await _dismiss(port, org, case, actor, note)
    if case.status == CONFIRMED and (moderator or cadre):
        return [_appeal_hint(case, moderator, cadre) if _appeal_waiting(case) else texts.USE_REVOKE.format(id=case_id)]
    if case.status == DISMISSED and (moderator or cadre):
        return [texts.ALREADY_DISMISSED.format(id=case_id)]
    return [texts.NOT_MODERATOR.format(id=case_id)]


async def decide_revoke(port: Port, org: Org, case_id: int, actor: int, note: str | None) -> list[str]:
    """/撤销: take back a confirmed decision (a cadre granting an appeal, or the group's
    moderator or a cadre changing their mind); the note goes to the author."""
    case = await _case(case_id)
    if case is None:
        return [texts.NO_CASE.format(id=case_id)]
    moderator = org.is_moderator_of(actor, case.group_id)
    cadre = org.has_role(actor, (Role.cadre,))
    if not (moderator or cadre):
        return [texts.NOT_MODERATOR.format(id=case_id)]
    if case.status == OPEN:
        return [texts.STILL_OPEN.format(id=case_id)]
    if case.status == DISMISSED:
        return [texts.NOT_CONFIRMED.format(id=case_id)]
    if _appeal_waiting(case) and not cadre:
        return [texts.APPEAL_FOR_CADRES.format(id=case_id)]
    return await _overturn(port, org, case, actor, note)


async def decide_uphold(port: Port, org: Org, case_id: int, actor: int, note: str | None) -> list[str]:
    """/维持: a cadre keeps the decision an author appealed; the note goes to the author."""
    case = await _case(case_id)
    if case is None:
        return [texts.NO_CASE.format(id=case_id)]
    moderator = org.is_moderator_of(actor, case.group_id)
    cadre = org.has_role(actor, (Role.cadre,))
    if not (moderator or cadre):
        return [texts.NOT_MODERATOR.format(id=case_id)]
    if case.appeal_result:
        return [texts.APPEAL_REVIEWED.format(id=case_id, result=texts.APPEAL_RESULTS.get(case.appeal_result, case.appeal_result))]
    if not _appeal_waiting(case):
        return [texts.NO_APPEAL.format(id=case_id)]
    if not cadre:
        return [texts.APPEAL_FOR_CADRES.format(id=case_id)]
    return await _uphold(port, case, actor, note)


def _appeal_waiting(case: ModerationCase) -> bool:
    return case.status == CONFIRMED and bool(case.appeal) and not case.appeal_result


def _appeal_hint(case: ModerationCase, moderator: bool, cadre: bool) -> str:
    if cadre:
        return texts.USE_APPEAL_VERBS.format(id=case.id)
    return texts.APPEAL_FOR_CADRES.format(id=case.id) if moderator else texts.NOT_MODERATOR.format(id=case.id)


async def _confirm(port: Port, org: Org, case: ModerationCase, actor: int, note: str | None) -> list[str]:
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
        forgotten = await _deactivate(s, INNOCENT, case.text)
        if case.category not in NO_CLARIFICATION:
            learned, in_corpus = await _add_corpus(s, RUMOUR, case, actor, now)
        s.add(ModerationAudit(**_entry("confirm", actor, case, note or "")))
        await s.commit()
    for cid in forgotten:
        index.forget(cid)
    for cid, text in learned:
        index.learn(cid, text, RUMOUR, case.id)

    lines = [f"已确认案件 #{case.id}（{label(case.category)}）。"]
    audits: list[dict[str, Any]] = []
    recalled = case.recalled
    if recalled:
        lines.append("· 消息此前已撤回")
    elif outcome := await _recall(port, case.message_id, case.group_id, case.author_id):
        recalled = True
        lines.append("· 消息已撤回")
        audits.append(_entry("recall", actor, case, "管理员确认"))
    else:
        lines.append(f"· {recall_failed(outcome)}")
        audits.append(_entry("recall_failed", actor, case, recall_failed(outcome)))
    clarification = None
    if case.category not in NO_CLARIFICATION:
        clarification = _clarification(note, case.text)
        # Posted for this case already (auto-recall), or the same official text lately; the
        # generic one is about "the message just now", so a new message gets it anew.
        if case.clarification == clarification or (
            clarification != texts.CLARIFY_GENERIC and await _posted_lately(case.group_id, "clarify", clarification)
        ):
            lines.append("· 群里不久前已发过同样的辟谣，这次没有重复发")
        elif await _send(port, Target.group(case.group_id), [Text(clarification)]):
            lines.append("· 已在群里发布辟谣")
            audits.append(_entry("clarify", actor, case, clarification))
        else:
            clarification = None
            lines.append("· 辟谣未能发出，请稍后在群里说明")
        if in_corpus:
            lines.append("· 已加入谣言库，相似的转发会被自动发现")
    who = texts.person(case.author_name, case.author_id)
    if seconds > 0:
        dur = texts.duration(seconds // 60)
        if await _mute(port, case.group_id, case.author_id, seconds):
            lines.append(f"· {who} 近半年第 {step} 次违规：已禁言 {dur}")
            audits.append(_entry("mute", actor, case, f"第 {step} 次违规，禁言 {dur}"))
            await _send(port, Target.group(case.group_id), [Text(texts.MUTE.format(name=case.author_name, label=label(case.category), duration=dur))])
            await _tell_author(port, org, case, f"已禁言 {dur}")
        else:
            lines.append(f"· {who} 近半年第 {step} 次违规：禁言 {dur} 未成功（{texts.NOT_ADMIN}），请手动处理")
            audits.append(_entry("mute_failed", actor, case, f"第 {step} 次违规，禁言 {dur} 未成功"))
    else:
        next_minutes = mute_minutes(ladder_of(org, case.group_id), step + 1)
        following = texts.WARN_NEXT.format(duration=texts.duration(next_minutes)) if next_minutes else ""
        warn = texts.WARN.format(name=case.author_name, label=label(case.category), next=following)
        await _send(port, Target.group(case.group_id), [Text(warn)])
        await _tell_author(port, org, case, "已在群里提醒")
        lines.append(f"· {who} 近半年第 {step} 次违规：已在群里提醒")
        audits.append(_entry("warn", actor, case, f"第 {step} 次违规，提醒"))
    await _record(audits, recalled=case.id if recalled and not case.recalled else None, clarification=(case.id, clarification) if clarification else None)
    if case.status == OPEN:  # the first decision; a change of mind later is not re-announced
        await _tell_reporters(port, org, case, texts.REPORT_CONFIRMED)
    return lines


async def _dismiss(port: Port, org: Org, case: ModerationCase, actor: int, note: str | None, *, why: str | None = None) -> list[str]:
    now = clock.utcnow()
    async with session() as s:
        won = await s.execute(
            update(ModerationCase)
            .where(ModerationCase.id == case.id, ModerationCase.status == OPEN)
            .values(status=DISMISSED, decided_at=now, decided_by=actor, note=note)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return [texts.ALREADY_DISMISSED.format(id=case.id)]
        forgotten = await _deactivate(s, RUMOUR, case.text)
        learned, _ = await _add_corpus(s, INNOCENT, case, actor, now)
        s.add(ModerationAudit(**_entry("dismiss", actor, case, why or note or "")))
        await s.commit()
    for cid in forgotten:
        index.forget(cid)
    for cid, text in learned:
        index.learn(cid, text, INNOCENT, case.id)
    await _tell_reporters(port, org, case, texts.REPORT_DISMISSED)
    lines = [f"已驳回案件 #{case.id}：不属于违规。相同的内容今后不会再被自动标记。"]
    if case.recalled:
        lines.append("该消息此前已按本群规则自动撤回，如有需要请告知发言人重新发送。")
    return lines


async def _overturn(port: Port, org: Org, case: ModerationCase, actor: int, note: str | None) -> list[str]:
    now = clock.utcnow()
    appealed = bool(case.appeal) and not case.appeal_result
    async with session() as s:
        won = await s.execute(
            update(ModerationCase)
            .where(ModerationCase.id == case.id, ModerationCase.status == CONFIRMED)
            .values(status=DISMISSED, decided_at=now, decided_by=actor, note=note or case.note, appeal_result="overturned" if appealed else case.appeal_result)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return [texts.ALREADY_DISMISSED.format(id=case.id)]
        rows = (
            await s.execute(
                select(ModerationCorpus.id).where(
                    ModerationCorpus.kind == RUMOUR, ModerationCorpus.active.is_(True),
                    or_(ModerationCorpus.case_id == case.id, ModerationCorpus.norm_hash == _hash(normalise(case.text))),
                )
            )
        ).scalars().all()
        forgotten = list(rows)
        if forgotten:
            await s.execute(update(ModerationCorpus).where(ModerationCorpus.id.in_(forgotten)).values(active=False))
        learned, _ = await _add_corpus(s, INNOCENT, case, actor, now)
        s.add(ModerationAudit(**_entry("overturn", actor, case, note or ("申诉成立" if appealed else ""))))
        await s.commit()
    for cid in forgotten:
        index.forget(cid)
    for cid, text in learned:
        index.learn(cid, text, INNOCENT, case.id)
    audits: list[dict[str, Any]] = []
    if case.mute_seconds and case.decided_at and case.decided_at + timedelta(seconds=case.mute_seconds) > now:
        if await _mute(port, case.group_id, case.author_id, 0):
            audits.append(_entry("unmute", actor, case, "撤销处理，解除禁言"))
    await _send(port, Target.group(case.group_id), [Text(texts.OVERTURNED_IN_GROUP.format(name=case.author_name))])
    audits.append(_entry("notice", actor, case, "撤销处理，已在群里告知"))
    # The author privately, with the reviewer's words: the group hears only that it is revoked.
    told = texts.APPEAL_OVERTURNED_TO_AUTHOR.format(id=case.id) if appealed else texts.OVERTURNED_TO_AUTHOR.format(group=_group_short(org, case.group_id), id=case.id)
    sent = await _send(port, Target.private(case.author_id), [Text(told + (texts.REVIEW_NOTE.format(note=note) if note else ""))])
    await _record(audits)
    lines = [texts.OVERTURNED.format(id=case.id)]
    if sent:
        lines.append(texts.OVERTURNED_TOLD_NOTE if note else texts.OVERTURNED_TOLD)
    return ["".join(lines)]


async def _uphold(port: Port, case: ModerationCase, actor: int, note: str | None) -> list[str]:
    async with session() as s:
        won = await s.execute(
            update(ModerationCase)
            .where(ModerationCase.id == case.id, ModerationCase.appeal_result.is_(None))
            .values(appeal_result="upheld")
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return [texts.ALREADY_CONFIRMED.format(id=case.id)]
        s.add(ModerationAudit(**_entry("uphold", actor, case, note or "申诉不成立，维持原处理")))
        await s.commit()
    told = texts.APPEAL_UPHELD_TO_AUTHOR.format(id=case.id) + (texts.REVIEW_NOTE.format(note=note) if note else "")
    await _send(port, Target.private(case.author_id), [Text(told)])
    return [(texts.UPHELD_WITH_NOTE if note else texts.UPHELD).format(id=case.id)]


# --- anti-fraud reminder --------------------------------------------------------------


async def fraud_reminder(port: Port, org: Org, case_id: int, actor: int) -> list[str]:
    """/防骗: a fraud phrase is often a worker asking "is this a scam?". Remind the whole
    group instead of blaming the author: the case closes as no violation."""
    case = await _case(case_id)
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
    if await _posted_lately(case.group_id, "fraud_reminder", None):
        return [(texts.FRAUD_RECENT if closing else texts.FRAUD_RECENT_AGAIN).format(id=case_id), *more]
    if not await _send(port, Target.group(case.group_id), [Text(texts.FRAUD_REMINDER)]):
        return [(texts.FRAUD_FAILED if closing else texts.FRAUD_FAILED_AGAIN).format(id=case_id), *more]
    await _record([_entry("fraud_reminder", actor, case, texts.FRAUD_REMINDER)])
    return [(texts.FRAUD_DONE if closing else texts.FRAUD_AGAIN).format(id=case_id), *more]


# --- appeals and overview -------------------------------------------------------------


async def appeal(port: Port, org: Org, actor: int, case_id: int, reason: str) -> str:
    case = await _case(case_id)
    if case is None:
        return texts.NO_CASE.format(id=case_id)
    if case.author_id != actor:
        return texts.APPEAL_NOT_AUTHOR.format(id=case_id)
    if case.status == OPEN:
        return texts.APPEAL_NOT_DECIDED.format(id=case_id)
    if case.status == DISMISSED:
        return texts.APPEAL_NOT_CONFIRMED.format(id=case_id)
    if case.appeal:
        return texts.APPEAL_TWICE.format(id=case_id)
    now = clock.utcnow()
    async with session() as s:
        won = await s.execute(
            update(ModerationCase)
            .where(ModerationCase.id == case.id, ModerationCase.appeal.is_(None), ModerationCase.status == CONFIRMED)
            .values(appeal=reason[:MAX_SNAPSHOT], appealed_at=now)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return texts.APPEAL_TWICE.format(id=case_id)
        s.add(ModerationAudit(**_entry("appeal", actor, case, reason[:MAX_SNAPSHOT])))
        await s.commit()
    outcome = f"近半年第 {case.ladder_step} 次违规，" + (
        f"禁言 {texts.duration((case.mute_seconds or 0) // 60)}" if case.mute_seconds else "已提醒"
    )
    notice = texts.appeal_notice(case.id, _group(org, case.group_id), texts.person(case.author_name, case.author_id), case.text, case.category, outcome, reason)
    cadres = [q for q in org.with_role(Role.cadre) if q != actor] or [q for q in org.with_role(Role.superuser) if q != actor]
    for q in cadres:
        await _send(port, Target.private(q), [Text(notice)])
    return texts.APPEAL_RECEIVED.format(id=case_id)


def may_review(org: Org, user_id: int) -> list[int] | None:
    """Groups whose cases the user may see (/案件); None means every group."""
    if org.has_role(user_id, (Role.cadre,)) or Role.moderator in org.roles_of(user_id):
        return None
    return [g for g in org.groups if user_id in org.groups[g].moderators]


async def overview(org: Org, user_id: int, case_id: int | None) -> str:
    groups = may_review(org, user_id)
    if groups == []:
        return texts.CASES_REFUSED
    if case_id is None:
        async with session() as s:
            where = [ModerationCase.status == OPEN] + ([ModerationCase.group_id.in_(groups)] if groups is not None else [])
            cases = (await s.execute(select(ModerationCase).where(*where).order_by(ModerationCase.id).limit(LIST_LIMIT))).scalars().all()
            total = (await s.execute(select(func.count()).select_from(ModerationCase).where(*where))).scalar_one()
            appeals: Sequence[ModerationCase] = []
            if org.has_role(user_id, (Role.cadre,)):  # cadres decide appeals
                appeals = (
                    await s.execute(
                        select(ModerationCase).where(ModerationCase.status == CONFIRMED, ModerationCase.appeal.is_not(None), ModerationCase.appeal_result.is_(None))
                        .order_by(ModerationCase.appealed_at, ModerationCase.id).limit(LIST_LIMIT)
                    )
                ).scalars().all()
        if not cases:
            lines = ["目前没有待处理的案件。"]
        else:
            lines = ["待处理的案件：" if total <= LIST_LIMIT else f"待处理的案件共 {total} 件，最早的 {LIST_LIMIT} 件："]
            for c in cases:
                snippet = texts.preview(c.text)[:30]
                lines.append(f"#{c.id} {_group_short(org, c.group_id)} {c.author_name}（{texts.SOURCE_NAMES.get(c.source, c.source)}）：{snippet}")
            lines.append("确认：/确认 案件号；驳回：/驳回 案件号；详情：/案件 案件号")
        if appeals:
            lines.append("等待复核的申诉：")
            for c in appeals:
                lines.append(f"#{c.id} {_group_short(org, c.group_id)} {c.author_name}（{label(c.category)}）申诉：{texts.preview(c.appeal or '')[:30]}")
            lines.append("撤销处理：/撤销 案件号 说明；维持原处理：/维持 案件号 说明；说明会转告申诉人")
        return "\n".join(lines)
    case = await _case(case_id)
    if case is None or (groups is not None and case.group_id not in groups):
        return texts.NO_CASE.format(id=case_id)
    async with session() as s:
        audit = (
            await s.execute(select(ModerationAudit).where(ModerationAudit.case_id == case.id).order_by(ModerationAudit.id))
        ).scalars().all()
    lines = [
        f"案件 #{case.id}（{texts.STATUS_NAMES.get(case.status, case.status)}，{label(case.category)}）",
        f"群：{_group(org, case.group_id)}",
        f"发言人：{texts.person(case.author_name, case.author_id)}",
        f"来源：{texts.SOURCE_NAMES.get(case.source, case.source)}" + (f"，举报 {case.reports} 次" if case.reports else ""),
        f"内容：{texts.preview(case.text)}",
    ]
    if case.appeal:
        lines.append(f"申诉：{texts.preview(case.appeal)}")
    lines.append("处理记录：")
    for a in audit:
        # Reporters are not named, not even to moderators.
        who = "" if a.actor_id is None or a.action == "report" else org.display_name(a.actor_id) + " "
        said = f"：{texts.preview(a.reason)}" if a.action in ("overturn", "uphold") and a.reason else ""
        lines.append(f"{_when(a.at)} {who}{ACTION_NAMES.get(a.action, a.action)}{said}")
    if _appeal_waiting(case):
        lines.append(_appeal_hint(case, org.is_moderator_of(user_id, case.group_id), org.has_role(user_id, (Role.cadre,))))
    return "\n".join(lines)


LIST_LIMIT = 20

ACTION_NAMES = {
    "flag": "标记为谣言", "report": "收到举报", "screen": "自动发现", "confirm": "确认违规", "dismiss": "驳回",
    "overturn": "撤销处理", "uphold": "维持原处理", "recall": "撤回消息", "auto_recall": "按群规则自动撤回",
    "recall_failed": "撤回未成功", "clarify": "发布辟谣", "notice": "群内说明", "warn": "提醒发言人",
    "mute": "禁言", "mute_failed": "禁言未成功", "unmute": "解除禁言", "appeal": "发言人申诉",
    "fraud_reminder": "提醒全群防骗",
}


async def stats(start: datetime, end: datetime) -> dict[str, int]:
    """Counts for periodic reports: cases opened by source, and decisions, in [start, end)."""
    async with session() as s:
        opened = (
            await s.execute(
                select(ModerationCase.source, func.count()).where(ModerationCase.opened_at >= start, ModerationCase.opened_at < end).group_by(ModerationCase.source)
            )
        ).all()
        decided = (
            await s.execute(
                select(ModerationCase.status, func.count()).where(ModerationCase.decided_at >= start, ModerationCase.decided_at < end).group_by(ModerationCase.status)
            )
        ).all()
    out = {f"opened_{k}": int(v) for k, v in opened}
    out |= {k: int(v) for k, v in decided if k in (CONFIRMED, DISMISSED)}
    return out


# --- helpers --------------------------------------------------------------------------


async def _case(case_id: int) -> ModerationCase | None:
    async with session() as s:
        return await s.get(ModerationCase, case_id)


async def _open_case(
    group_id: int, quoted: Quoted, *, source: str, category: str, opened_by: int | None,
    reason: str | None, match_case_id: int | None = None,
) -> tuple[ModerationCase, bool]:
    """The case for this message, created if there is none (one per message, race-safe)."""
    now = clock.utcnow()
    row = {
        "group_id": group_id, "message_id": quoted.message_id, "author_id": quoted.author_id,
        "author_name": quoted.author_name[:64], "text": quoted.text[:MAX_SNAPSHOT], "source": source,
        "category": category, "status": OPEN, "opened_at": now, "opened_by": opened_by,
        "reason": reason, "match_case_id": match_case_id, "reports": 0, "recalled": False,
    }
    async with session() as s:
        result = await s.execute(insert_ignore(s, ModerationCase.__table__, [row], ("group_id", "message_id")))
        created = bool(result.rowcount)  # type: ignore[attr-defined]
        case = (
            await s.execute(
                select(ModerationCase).where(ModerationCase.group_id == group_id, ModerationCase.message_id == quoted.message_id)
            )
        ).scalar_one()
        if created and source != REPORT:  # report() writes its own entry, one per reporter
            s.add(ModerationAudit(**_entry(source, opened_by, case, reason or "")))
        s.expunge(case)  # returned detached: commit would expire its attributes
        await s.commit()
    return case, created


async def _add_corpus(s: AsyncSession, kind: str, case: ModerationCase, actor: int, now: datetime) -> tuple[list[tuple[int, str]], bool]:
    """Add the case's text to the rumour or not-a-rumour set unless an active row has it.
    Returns (rows added, whether the text is in that set now)."""
    norm = normalise(case.text)
    if not norm:
        return [], False
    digest = _hash(norm)
    exists = (
        await s.execute(
            select(ModerationCorpus.id).where(ModerationCorpus.kind == kind, ModerationCorpus.norm_hash == digest, ModerationCorpus.active.is_(True)).limit(1)
        )
    ).scalar()
    if exists is not None:
        return [], True
    row = ModerationCorpus(kind=kind, text=case.text, norm=norm, norm_hash=digest, case_id=case.id, added_by=actor, added_at=now, active=True)
    s.add(row)
    await s.flush()
    return [(row.id, case.text)], True


async def _deactivate(s: AsyncSession, kind: str, text: str) -> list[int]:
    """The latest decision about an exact text wins: retire the opposite decision's rows."""
    norm = normalise(text)
    if not norm:
        return []
    ids = (
        await s.execute(
            select(ModerationCorpus.id).where(ModerationCorpus.kind == kind, ModerationCorpus.norm_hash == _hash(norm), ModerationCorpus.active.is_(True))
        )
    ).scalars().all()
    if ids:
        await s.execute(update(ModerationCorpus).where(ModerationCorpus.id.in_(ids)).values(active=False))
    return list(ids)


def _hash(norm: str) -> str:
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()


def _entry(action: str, actor: int | None, case: ModerationCase, reason: str | None) -> dict[str, Any]:
    return {
        "at": clock.utcnow(), "actor_id": actor, "action": action, "case_id": case.id, "group_id": case.group_id,
        "subject_id": case.author_id, "reason": (reason or None) and reason[:MAX_SNAPSHOT], "snapshot": case.text,
    }


async def _record(audits: Sequence[dict[str, Any]], *, recalled: int | None = None, clarification: tuple[int, str] | None = None) -> None:
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


def _clarification(note: str | None, text: str) -> str:
    """What the group is told: the moderator's note (the handler keeps it short enough), else
    the official text on the subject, else the generic one. Whole sentences, none twice."""
    if note:
        return fit(dedupe_sentences(texts.clarify_note(note)), MAX_GROUP_POST) or texts.CLARIFY_GENERIC
    official = best_clarification(text, load_clarifications())
    return official.text() if official else texts.CLARIFY_GENERIC


async def _posted_lately(group_id: int, action: str, text: str | None) -> bool:
    """Whether the group was sent this (the same clarification, or any anti-fraud reminder)
    within REPEAT_WINDOW: several copies of a rumour must not bring several identical posts."""
    where = [ModerationAudit.group_id == group_id, ModerationAudit.action == action, ModerationAudit.at >= clock.utcnow() - REPEAT_WINDOW]
    if text is not None:
        where.append(ModerationAudit.reason == text[:MAX_SNAPSHOT])
    async with session() as s:
        return (await s.execute(select(ModerationAudit.id).where(*where).limit(1))).scalar() is not None


async def _tell_reporters(port: Port, org: Org, case: ModerationCase, template: str) -> None:
    """Each reporter learns the outcome of their report in private, and nothing else."""
    async with session() as s:
        reporters = (await s.execute(select(ModerationReport.reporter_id).where(ModerationReport.case_id == case.id).order_by(ModerationReport.id))).scalars().all()
    notice = template.format(group=_group_short(org, case.group_id), id=case.id)
    for r in reporters:
        await _send(port, Target.private(r), [Text(notice)])


def _group(org: Org, group_id: int) -> str:
    g = org.groups.get(group_id)
    return texts.group_name(g.name if g else None, group_id)


def _group_short(org: Org, group_id: int) -> str:
    g = org.groups.get(group_id)
    return g.name if g else str(group_id)


def _when(at: datetime) -> str:
    return at.astimezone(clock.zone()).strftime("%m-%d %H:%M")


async def _tell_moderators(port: Port, org: Org, group_id: int, author_id: int, notice: str) -> None:
    people = [m for m in org.moderators_of(group_id) if m != author_id]
    if not people:
        people = [q for q in org.with_role(Role.superuser) if q != author_id]
    for m in people:
        await _send(port, Target.private(m), [Text(notice)])


async def _send(port: Port, target: Target, parts: list[Part]) -> bool:
    """A direct send; False when it certainly did not arrive (a timeout may have arrived)."""
    try:
        await port.send(target, parts)
    except SendUnknown:
        logger.warning(f"moderation: send to {target.kind} {target.id} timed out; it may have arrived")
        return True
    except Exception as e:  # noqa: BLE001 - one failed notice must not stop the others
        logger.warning(f"moderation: send to {target.kind} {target.id} failed: {type(e).__name__}")
        return False
    return True


async def _recall(port: Port, message_id: int, group_id: int, author_id: int) -> Recall:
    try:
        outcome = Recall(await port.recall(str(message_id), group_id=str(group_id), author_id=str(author_id)))
    except Exception as e:  # noqa: BLE001 - timeouts, disconnects: we do not know
        logger.warning(f"moderation: recall failed: {type(e).__name__}")
        return Recall.UNKNOWN
    if not outcome:
        logger.info(f"moderation: recall not done: {outcome.value}")
    return outcome


def recall_failed(outcome: Recall) -> str:
    """The honest reason a recall did not happen, for the moderator."""
    if outcome is Recall.GONE:
        return texts.RECALL_GONE
    if outcome is Recall.NOT_PERMITTED:
        return texts.RECALL_NOT_PERMITTED
    return texts.RECALL_UNKNOWN


async def _tell_author(port: Port, org: Org, case: ModerationCase, outcome: str) -> None:
    """The author's case number, privately: the group hears no ids or counts."""
    notice = texts.TO_AUTHOR.format(group=_group_short(org, case.group_id), id=case.id, label=label(case.category), outcome=outcome)
    await _send(port, Target.private(case.author_id), [Text(notice)])


async def _mute(port: Port, group_id: int, user_id: int, seconds: int) -> bool:
    try:
        await port.mute(str(group_id), str(user_id), seconds)
    except Exception as e:  # noqa: BLE001
        logger.warning(f"moderation: mute failed: {type(e).__name__}")
        return False
    return True
