"""Messages moderation sends: to the group's moderators, to reporters, to the author, to cadres,
and the clarification a group is told.

User text is only ever sent as a Text part, and never written to the log. One failed notice
does not stop the others: each send says whether it certainly did not arrive.
"""

from __future__ import annotations

from nonebot import logger
from sqlalchemy import select

from bot.db import session
from bot.org import Org, Role
from bot.platform import Part, Port, SendUnknown, Target, Text, send_private
from plugins.moderation import texts
from plugins.moderation.config import MAX_GROUP_POST, best_clarification, dedupe_sentences, fit, label, load_clarifications
from plugins.moderation.models import ModerationCase, ModerationReport


async def send(port: Port, target: Target, parts: list[Part]) -> bool:
    """A direct send; False when it certainly did not arrive (a timeout may have arrived)."""
    try:
        if target.kind == "private":  # on the group's platform if they are on it, else on theirs
            await send_private(target.id, parts, via=port)
        else:
            await port.send(target, parts)
    except SendUnknown:
        logger.warning(f"moderation: send to {target.kind} {target.id} timed out; it may have arrived")
        return True
    except Exception as e:  # noqa: BLE001 - one failed notice must not stop the others
        logger.warning(f"moderation: send to {target.kind} {target.id} failed: {type(e).__name__}")
        return False
    return True


async def tell_moderators(port: Port, org: Org, group_id: str, author_id: str, notice: str) -> None:
    """The group's moderators (superusers where it has none), never the author themself."""
    people = [m for m in org.moderators_of(group_id) if m != author_id]
    if not people:
        people = [q for q in org.with_role(Role.superuser) if q != author_id]
    for m in people:
        await send(port, Target.private(m), [Text(notice)])


async def tell_cadres(port: Port, org: Org, actor: str, notice: str) -> None:
    """Cadres decide appeals (superusers where there are none), never the appellant themself."""
    cadres = [q for q in org.with_role(Role.cadre) if q != actor] or [q for q in org.with_role(Role.superuser) if q != actor]
    for q in cadres:
        await send(port, Target.private(q), [Text(notice)])


async def tell_reporters(port: Port, org: Org, case: ModerationCase, template: str) -> None:
    """Each reporter learns the outcome of their report in private, and nothing else."""
    async with session() as s:
        reporters = (await s.execute(select(ModerationReport.reporter_id).where(ModerationReport.case_id == case.id).order_by(ModerationReport.id))).scalars().all()
    notice = template.format(group=texts.group_short(org, case.group_id), id=case.id)
    for r in reporters:
        await send(port, Target.private(r), [Text(notice)])


async def tell_author(port: Port, org: Org, case: ModerationCase, outcome: str) -> None:
    """The author's case number, privately: the group hears no ids or counts."""
    notice = texts.TO_AUTHOR.format(group=texts.group_short(org, case.group_id), id=case.id, label=label(case.category), outcome=outcome)
    await send(port, Target.private(case.author_id), [Text(notice)])


def clarification(note: str | None, text: str) -> str:
    """What the group is told: the moderator's note (the handler keeps it short enough), else
    the official text on the subject, else the generic one. Whole sentences, none twice."""
    if note:
        return fit(dedupe_sentences(texts.clarify_note(note)), MAX_GROUP_POST) or texts.CLARIFY_GENERIC
    official = best_clarification(text, load_clarifications())
    return official.text() if official else texts.CLARIFY_GENERIC
