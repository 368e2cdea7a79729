"""Appeals and second thoughts: an author's /申诉, and the two review verbs, /撤销 (take back a
confirmed decision) and /维持 (keep an appealed one).

Appeal decisions have verbs of their own: "/驳回 4" read as "reject the appeal" revoked the
penalty, "/确认 4" kept it. The reviewer's note reaches the author in private only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from bot import clock
from bot.db import session
from bot.org import Org, Role
from bot.platform import Port, Target, Text
from plugins.moderation import audit, corpus, enforce, notify, texts
from plugins.moderation.cases import get_case
from plugins.moderation.config import MAX_SNAPSHOT
from plugins.moderation.models import CONFIRMED, DISMISSED, INNOCENT, OPEN, RUMOUR, ModerationAudit, ModerationCase


def appeal_waiting(case: ModerationCase) -> bool:
    return case.status == CONFIRMED and bool(case.appeal) and not case.appeal_result


def appeal_hint(case: ModerationCase, moderator: bool, cadre: bool) -> str:
    """For a verb that does not decide a waiting appeal: which verbs do, and who uses them."""
    if cadre:
        return texts.USE_APPEAL_VERBS.format(id=case.id)
    return texts.APPEAL_FOR_CADRES.format(id=case.id) if moderator else texts.NOT_MODERATOR.format(id=case.id)


async def appeal(port: Port, org: Org, actor: str, case_id: int, reason: str) -> str:
    """/申诉: the author of a confirmed case asks cadres to review it, once."""
    case = await get_case(case_id)
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
        s.add(ModerationAudit(**audit.entry("appeal", actor, case, reason[:MAX_SNAPSHOT])))
        await s.commit()
    outcome = f"近半年第 {case.ladder_step} 次违规，" + (
        f"禁言 {texts.duration((case.mute_seconds or 0) // 60)}" if case.mute_seconds else "已提醒"
    )
    notice = texts.appeal_notice(case.id, texts.group_of(org, case.group_id), texts.person(case.author_name, case.author_id), case.text, case.category, outcome, reason)
    await notify.tell_cadres(port, org, actor, notice)
    return texts.APPEAL_RECEIVED.format(id=case_id)


# --- the review verbs -------------------------------------------------------------------

# Why a reviewer may not use the verb on this case (None: they may); `cadre` is the reviewer's.
Refusal = Callable[[ModerationCase, bool], str | None]
Review = Callable[[Port, Org, ModerationCase, str, str | None], Awaitable[list[str]]]


async def decide_revoke(port: Port, org: Org, case_id: int, actor: str, note: str | None) -> list[str]:
    """/撤销: take back a confirmed decision (a cadre granting an appeal, or the group's
    moderator or a cadre changing their mind); the note goes to the author."""
    return await _review(port, org, case_id, actor, note, _why_not_revoke, _overturn)


async def decide_uphold(port: Port, org: Org, case_id: int, actor: str, note: str | None) -> list[str]:
    """/维持: a cadre keeps the decision an author appealed; the note goes to the author."""
    return await _review(port, org, case_id, actor, note, _why_not_uphold, _uphold)


async def _review(port: Port, org: Org, case_id: int, actor: str, note: str | None, refusal: Refusal, act: Review) -> list[str]:
    """Both review verbs are for the group's moderators and cadres; each has its own refusals."""
    case = await get_case(case_id)
    if case is None:
        return [texts.NO_CASE.format(id=case_id)]
    moderator = org.is_moderator_of(actor, case.group_id)
    cadre = org.has_role(actor, (Role.cadre,))
    if not (moderator or cadre):
        return [texts.NOT_MODERATOR.format(id=case_id)]
    refused = refusal(case, cadre)
    if refused is not None:
        return [refused]
    return await act(port, org, case, actor, note)


def _why_not_revoke(case: ModerationCase, cadre: bool) -> str | None:
    if case.status == OPEN:
        return texts.STILL_OPEN.format(id=case.id)
    if case.status == DISMISSED:
        return texts.NOT_CONFIRMED.format(id=case.id)
    if appeal_waiting(case) and not cadre:
        return texts.APPEAL_FOR_CADRES.format(id=case.id)
    return None


def _why_not_uphold(case: ModerationCase, cadre: bool) -> str | None:
    if case.appeal_result:
        return texts.APPEAL_REVIEWED.format(id=case.id, result=texts.APPEAL_RESULTS.get(case.appeal_result, case.appeal_result))
    if not appeal_waiting(case):
        return texts.NO_APPEAL.format(id=case.id)
    if not cadre:
        return texts.APPEAL_FOR_CADRES.format(id=case.id)
    return None


async def _overturn(port: Port, org: Org, case: ModerationCase, actor: str, note: str | None) -> list[str]:
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
        forgotten = await corpus.retire_case(s, RUMOUR, case)
        learned, _ = await corpus.add(s, INNOCENT, case, actor, now)
        s.add(ModerationAudit(**audit.entry("overturn", actor, case, note or ("申诉成立" if appealed else ""))))
        await s.commit()
    corpus.apply(forgotten, learned, INNOCENT, case.id)
    audits: list[dict[str, Any]] = []
    if case.mute_seconds and case.decided_at and case.decided_at + timedelta(seconds=case.mute_seconds) > now:
        if await enforce.mute(port, case.group_id, case.author_id, 0):
            audits.append(audit.entry("unmute", actor, case, "撤销处理，解除禁言"))
    await notify.send(port, Target.group(case.group_id), [Text(texts.OVERTURNED_IN_GROUP.format(name=case.author_name))])
    audits.append(audit.entry("notice", actor, case, "撤销处理，已在群里告知"))
    # The author privately, with the reviewer's words: the group hears only that it is revoked.
    told = texts.APPEAL_OVERTURNED_TO_AUTHOR.format(id=case.id) if appealed else texts.OVERTURNED_TO_AUTHOR.format(group=texts.group_short(org, case.group_id), id=case.id)
    sent = await notify.send(port, Target.private(case.author_id), [Text(told + (texts.REVIEW_NOTE.format(note=note) if note else ""))])
    await audit.record(audits)
    lines = [texts.OVERTURNED.format(id=case.id)]
    if sent:
        lines.append(texts.OVERTURNED_TOLD_NOTE if note else texts.OVERTURNED_TOLD)
    return ["".join(lines)]


async def _uphold(port: Port, org: Org, case: ModerationCase, actor: str, note: str | None) -> list[str]:
    async with session() as s:
        won = await s.execute(
            update(ModerationCase)
            .where(ModerationCase.id == case.id, ModerationCase.appeal_result.is_(None))
            .values(appeal_result="upheld")
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return [texts.ALREADY_CONFIRMED.format(id=case.id)]
        s.add(ModerationAudit(**audit.entry("uphold", actor, case, note or "申诉不成立，维持原处理")))
        await s.commit()
    told = texts.APPEAL_UPHELD_TO_AUTHOR.format(id=case.id) + (texts.REVIEW_NOTE.format(note=note) if note else "")
    await notify.send(port, Target.private(case.author_id), [Text(told)])
    return [(texts.UPHELD_WITH_NOTE if note else texts.UPHELD).format(id=case.id)]
