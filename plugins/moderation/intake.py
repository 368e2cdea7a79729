"""How a message becomes a case: the message a /谣言 or /举报 replies to, the screening of every
group message (and what a group's policy does with a hit), and reports.

Everything that reads the inbound message (`ctx.msg`) is here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nonebot import logger
from sqlalchemy import func, select, update

from bot import clock
from bot.context import MessageCtx
from bot.db import insert_ignore, session
from bot.org import Org, Role
from bot.platform import Port, Target, Text, capabilities_of
from plugins.moderation import audit, enforce, notify, texts
from plugins.moderation.cases import Quoted, open_case
from plugins.moderation.config import REPORTS_PER_HOUR, label, policy_of
from plugins.moderation.decisions import decide_confirm
from plugins.moderation.index import index
from plugins.moderation.models import FLAG, OPEN, REPORT, SCREEN, ModerationAudit, ModerationCase, ModerationReport
from plugins.moderation.recent import Seen, recent
from plugins.moderation.screening import Hit

# People whose messages are not screened: they are the ones who act on what screening finds.
TRUSTED = frozenset({Role.moderator, Role.cadre, Role.head, Role.superuser})


# --- the quoted message ---------------------------------------------------------


def quoted_id(ctx: MessageCtx) -> str | None:
    """The id of the message a command replies to."""
    return ctx.reply_to


async def quoted_message(ctx: MessageCtx, message_id: str) -> Quoted | None:
    """Author and text of the quoted message: from what the platform gave with the reply, this
    process's memory of recent messages, or `get_msg` (in that order: the cheapest that knows it)."""
    seen = recent.get(message_id)
    if seen is not None and seen.group_id != ctx.group_id:
        seen = None
    given = ctx.msg.quoted
    if given is not None and given.author_id and given.text is not None:
        uid = ctx.org.person_of(given.author_id)  # records name people by person id
        # The platform gives no name with a quote: the one it showed when this process saw it.
        shown = seen.name if seen is not None and seen.user_id == uid else None
        return Quoted(message_id, uid, ctx.org.display_name(uid, shown), given.text)
    if seen is not None:
        return Quoted(message_id, seen.user_id, seen.name, seen.text)
    fetched = await ctx.port.get_message(str(message_id))
    if fetched is None:
        return None
    account, text = fetched
    uid = ctx.org.person_of(account)
    return Quoted(message_id, uid, ctx.org.display_name(uid), text)


# --- screening (the per-message hook) ---------------------------------------------


async def screen_message(ctx: MessageCtx) -> None:
    """Remember the message, then screen it. Never raises: chat must go on."""
    try:
        group_id = ctx.group_id
        if group_id is None:
            return
        recent.remember(ctx.message_id, Seen(group_id, ctx.user_id, ctx.org.display_name(ctx.user_id, ctx.msg.sender_name), ctx.text))
        if len(ctx.text) < 2 or group_id not in ctx.org.groups or ctx.roles & TRUSTED:
            return
        if not capabilities_of(ctx.bot).group_messages_visible:
            return  # only the messages addressed to the bot arrive: screening them would mislead
        screener = await index.get()
        if screener is None:
            return
        hit = screener.screen(ctx.text, group_id)
        if hit is not None:
            await on_hit(ctx.port, ctx.org, group_id, ctx.message_id, ctx.user_id, recent.get(ctx.message_id), hit)
    except Exception as e:  # noqa: BLE001
        logger.error(f"moderation: screening failed: {type(e).__name__}")


async def on_hit(port: Port, org: Org, group_id: str, message_id: str, author_id: str, seen: Seen | None, hit: Hit) -> int | None:
    """Open a case for a screened message, apply the group's policy, tell the moderators."""
    text = seen.text if seen else ""
    name = seen.name if seen else str(author_id)
    policy = policy_of(org, group_id).policy
    match_case = index.case_of.get(hit.key) if hit.key is not None else None
    why = texts.why_rumour(match_case) if hit.kind == "rumour" else texts.why_phrase(hit.category, hit.detail)
    case, created = await open_case(
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
        outcome = await enforce.recall(port, message_id, group_id, author_id)
        if outcome:
            recalled = True
            action = "已按本群规则撤回"
            audits.append(audit.entry("auto_recall", None, case, "本群规则：撤回并通知"))
            notice = await _auto_notice(hit, match_case)
            if hit.kind == "rumour" and await audit.posted_lately(group_id, "clarify", notice):
                action = "已按本群规则撤回（群里不久前发过同样的辟谣，没有重复发）"
            elif await notify.send(port, Target.group(group_id), [Text(notice)]):
                audits.append(audit.entry("clarify" if hit.kind == "rumour" else "notice", None, case, notice))
                clarified = notice if hit.kind == "rumour" else None
        else:
            action = f"按本群规则应撤回，但未成功：{texts.recall_failed(outcome)}"
            audits.append(audit.entry("recall_failed", None, case, "自动撤回未成功"))
    await audit.record(audits, recalled=case.id if recalled else None, clarification=(case.id, clarified) if clarified else None)
    notice = texts.screen_notice(
        case.id, texts.group_of(org, group_id), texts.person(name, author_id), text, why, action, fraud=hit.kind == "phrase" and hit.category == "fraud",
    )
    await notify.tell_moderators(port, org, group_id, author_id, notice)
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


async def flag(port: Port, org: Org, group_id: str, moderator_id: str, quoted: Quoted, note: str | None) -> list[str]:
    """/谣言: open (or find) the case and confirm it at once."""
    case, _ = await open_case(group_id, quoted, source=FLAG, category="rumour", opened_by=moderator_id, reason=note)
    return await decide_confirm(port, org, case.id, moderator_id, note)


async def report(port: Port, org: Org, group_id: str, reporter_id: str, quoted: Quoted, reason: str | None) -> str:
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
    case, created = await open_case(group_id, quoted, source=REPORT, category="rumour", opened_by=reporter_id, reason=reason)
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
        s.add(ModerationAudit(**audit.entry("report", reporter_id, case, reason or "")))
        await s.commit()
    if not first:
        return texts.REPORT_JOINED.format(id=case.id)
    earlier = None if created else texts.SOURCE_NAMES.get(case.source)
    notice = texts.report_notice(case.id, texts.group_of(org, group_id), texts.person(case.author_name, case.author_id), case.text, reason, earlier=earlier)
    await notify.tell_moderators(port, org, group_id, case.author_id, notice)
    return texts.REPORT_THANKS.format(id=case.id)
