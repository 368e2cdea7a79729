"""What a moderator or cadre reads about cases (/案件): the open cases and waiting appeals, or one
case with its audit log; and whose cases each person may see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot import clock
from bot.db import session
from bot.org import Org, Role
from plugins.moderation import texts
from plugins.moderation.appeals import appeal_hint, appeal_waiting
from plugins.moderation.audit import ACTION_NAMES
from plugins.moderation.cases import get_case, open_cases, waiting_appeals
from plugins.moderation.config import label
from plugins.moderation.models import ModerationAudit

LIST_LIMIT = 20


def may_review(org: Org, user_id: str) -> list[str] | None:
    """Groups whose cases the user may see (/案件); None means every group."""
    if org.has_role(user_id, (Role.cadre,)) or Role.moderator in org.roles_of(user_id):
        return None
    return [g for g in org.groups if user_id in org.groups[g].moderators]


async def overview(org: Org, user_id: str, case_id: int | None) -> str:
    groups = may_review(org, user_id)
    if groups == []:
        return texts.CASES_REFUSED
    if case_id is None:
        return await _open_cases(org, user_id, groups)
    return await _one_case(org, user_id, groups, case_id)


async def _open_cases(org: Org, user_id: str, groups: list[str] | None) -> str:
    cases, total = await open_cases(groups, LIST_LIMIT)
    appeals = await waiting_appeals(LIST_LIMIT) if org.has_role(user_id, (Role.cadre,)) else []  # cadres decide appeals
    if not cases:
        lines = ["目前没有待处理的案件。"]
    else:
        lines = ["待处理的案件：" if total <= LIST_LIMIT else f"待处理的案件共 {total} 件，最早的 {LIST_LIMIT} 件："]
        for c in cases:
            snippet = texts.preview(c.text)[:30]
            lines.append(f"#{c.id} {texts.group_short(org, c.group_id)} {c.author_name}（{texts.SOURCE_NAMES.get(c.source, c.source)}）：{snippet}")
        lines.append("确认：/确认 案件号；驳回：/驳回 案件号；详情：/案件 案件号")
    if appeals:
        lines.append("等待复核的申诉：")
        for c in appeals:
            lines.append(f"#{c.id} {texts.group_short(org, c.group_id)} {c.author_name}（{label(c.category)}）申诉：{texts.preview(c.appeal or '')[:30]}")
        lines.append("撤销处理：/撤销 案件号 说明；维持原处理：/维持 案件号 说明；说明会转告申诉人")
    return "\n".join(lines)


async def _one_case(org: Org, user_id: str, groups: list[str] | None, case_id: int) -> str:
    case = await get_case(case_id)
    if case is None or (groups is not None and case.group_id not in groups):
        return texts.NO_CASE.format(id=case_id)
    async with session() as s:
        log = (
            await s.execute(select(ModerationAudit).where(ModerationAudit.case_id == case.id).order_by(ModerationAudit.id))
        ).scalars().all()
    lines = [
        f"案件 #{case.id}（{texts.STATUS_NAMES.get(case.status, case.status)}，{label(case.category)}）",
        f"群：{texts.group_of(org, case.group_id)}",
        f"发言人：{texts.person(case.author_name, case.author_id)}",
        f"来源：{texts.SOURCE_NAMES.get(case.source, case.source)}" + (f"，举报 {case.reports} 次" if case.reports else ""),
        f"内容：{texts.preview(case.text)}",
    ]
    if case.appeal:
        lines.append(f"申诉：{texts.preview(case.appeal)}")
    lines.append("处理记录：")
    for a in log:
        # Reporters are not named, not even to moderators.
        who = "" if a.actor_id is None or a.action == "report" else org.display_name(a.actor_id) + " "
        said = f"：{texts.preview(a.reason)}" if a.action in ("overturn", "uphold") and a.reason else ""
        lines.append(f"{_when(a.at)} {who}{ACTION_NAMES.get(a.action, a.action)}{said}")
    if appeal_waiting(case):
        lines.append(appeal_hint(case, org.is_moderator_of(user_id, case.group_id), org.has_role(user_id, (Role.cadre,))))
    return "\n".join(lines)


def _when(at: datetime) -> str:
    return at.astimezone(clock.zone()).strftime("%m-%d %H:%M")
