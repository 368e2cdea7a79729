"""Plain functions behind /帮助 and /状态, testable without NoneBot's event machinery."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from bot import clock, outbox, platform, runtime, schedule
from bot.commands import Command, Scene, registry
from bot.org import Org, Role

SCENE_NOTE = {frozenset({"private"}): "（私聊）", frozenset({"group"}): "（群内）"}
# What each outbox purpose is, in the words a cadre uses; unknown purposes show as themselves.
PURPOSES = {
    "study": "学习日摘要",
    "study-text": "学习日全文",
    "study-publish": "发布学习摘要",
    "study-publish-text": "发布学习全文",
    "study-catchup": "补学提醒",
    "study-catchup-text": "补学全文",
    "study-star": "学习之星",
    "care-birthday": "生日祝福",
    "care-festival": "节日祝福",
    "care-nomination": "表扬推荐",
    "care-nomination-result": "表扬审核结果",
    "care-commendation-digest": "表扬汇总",
    "care-suggestion": "建议转交",
    "care-suggestion-summary": "建议汇总",
    "reports-monthly": "月度报告",
    "concern-digest": "诉求通知",
    "concern-escalation": "诉求提醒",
    "concern-action": "诉求动态",
    "study-publish-report": "发布学习结果",
    "study-missing": "学习材料提醒",
}
CONFIDENTIAL_NOTE = "（诉求相关，内容和对象保密）"
SHOWN = 20
CONFIRM_WINDOW = 600.0
# cadre's QQ -> (ids listed by /重发, when): /重发 确认 resends only what the cadre saw.
_offered: dict[str, tuple[list[int], float]] = {}


def purpose_name(purpose: str) -> str:
    if purpose.endswith("-page"):
        return purpose_name(purpose[: -len("-page")]) + "（分页）"
    if outbox.confidential(purpose) and purpose not in PURPOSES:
        return "诉求相关私信"
    return PURPOSES.get(purpose, purpose)


def where_to(org: Org, target: platform.Target) -> str:
    if target.kind == "group":
        group = org.groups.get(target.id)
        return group.name if group else f"群 {target.id}"
    person = org.person(target.id)
    return f"私聊 {person.name}" if person else f"私聊 {target.id}"


def describe(org: Org, u: outbox.Unsure) -> str:
    if outbox.confidential(u.purpose):
        return f"{purpose_name(u.purpose)}{CONFIDENTIAL_NOTE} · {_fmt(u.at)}"
    return f"{purpose_name(u.purpose)} · {where_to(org, u.target)} · {_fmt(u.at)}"


def unknown_lines(org: Org, unsure: list[outbox.Unsure]) -> list[str]:
    lines = [f"结果未知的发送 {len(unsure)} 条（可能已送达，也可能没有，不会自动重发）："]
    lines += [f"{i}. {describe(org, u)}" for i, u in enumerate(unsure[:SHOWN], 1)]
    if len(unsure) > SHOWN:
        lines.append(f"……另有 {len(unsure) - SHOWN} 条")
    if any(not outbox.confidential(u.purpose) for u in unsure):
        lines.append("核实没有收到的，发送 /重发 处理。")
    return lines


def unreachable(org: Org) -> list[str]:
    """People of the org file with no group known to be shared with the bot: a private
    message reaches them only if they have added the bot as a friend. (QQ only: a Feishu app
    may write to anyone in its visibility.)"""
    return [p.name for p in org.spec.people if p.qq is not None and platform.shared_group(p.qq) is None]


async def resend_offer(user_id: str) -> str:
    """/重发: list the unknown sends that may be resent, and ask to confirm."""
    org = runtime.org()
    unsure = [u for u in await outbox.unknown_sends() if not outbox.confidential(u.purpose)]
    if not unsure:
        _offered.pop(user_id, None)
        return "没有结果未知、可以重发的消息。"
    _offered[user_id] = ([u.id for u in unsure], time.monotonic())
    lines = [f"以下 {len(unsure)} 条消息发送结果未知，可能已经送达："]
    lines += [f"{i}. {describe(org, u)}" for i, u in enumerate(unsure[:SHOWN], 1)]
    if len(unsure) > SHOWN:
        lines.append(f"……另有 {len(unsure) - SHOWN} 条")
    lines.append("请先到群里或向收件人核实。确认没有收到，10 分钟内发送 /重发 确认，我会把这些消息再发一次；已经收到的请不要重发，以免重复。")
    return "\n".join(lines)


async def resend_confirm(user_id: str) -> str:
    """/重发 确认: queue again exactly the rows the cadre was shown."""
    offered = _offered.pop(user_id, None)
    if offered is None or time.monotonic() - offered[1] > CONFIRM_WINDOW:
        return "请先发送 /重发 查看结果未知的消息，核实后再发送 /重发 确认。"
    n = await outbox.resend_unknown(offered[0])
    if n == 0:
        return "这些消息已经处理过了，没有需要重发的。"
    return f"好的，已重新排队发送 {n} 条消息。"


# /帮助 opens with the few commands a person of each role uses most (staff roles first), then
# points to topics; the full list of a capability is one topic away.
FAVOURITES: list[tuple[Role, tuple[str, ...]]] = [
    (Role.superuser, ("状态", "重发", "发布学习", "月报", "案件")),
    (Role.cadre, ("发布学习", "月报", "审核", "状态")),
    (Role.head, ("月报", "待办")),
    (Role.leader, ("待办", "回复", "办结")),
    (Role.moderator, ("案件", "确认", "驳回")),
]
EVERYONE = ("诉求", "进度", "学习", "答题", "积分", "建议")
MAX_FAVOURITES = 8
# Topic per plugin, in the order offered; aliases a person may type after /帮助.
TOPICS: list[tuple[str, str, tuple[str, ...]]] = [
    ("诉求", "concerns", ("办理", "回执码")),
    ("学习", "study", ("积分", "排行", "测验")),
    ("关爱", "care", ("表扬", "建议")),
    ("群管理", "moderation", ("举报", "申诉", "案件", "管理")),
    ("报表", "reports", ("月报", "周报", "导出")),
    ("系统", "admin", ("状态", "重发")),
    ("工作台", "console", ("网页", "网页版")),
]
# Moderation commands open to anyone; the others (case decisions, the case list) are checked per
# case inside the plugin, so the registry cannot tell: only moderators and cadres see them here.
MODERATION_PUBLIC = {"举报", "申诉"}
MODERATION_STAFF = frozenset({Role.moderator, Role.cadre})


def help_roles(org: Org, user_id: str, roles: frozenset[Role]) -> frozenset[Role]:
    """A group's own moderator has no moderator role in private chat, but uses /案件 there."""
    if any(user_id in g.moderators for g in org.groups.values()):
        return roles | {Role.moderator}
    return roles


def _topic_of(cmd: Command) -> str:
    module = cmd.handler.__module__.split(".")
    plugin = module[1] if len(module) > 1 and module[0] == "plugins" else ""
    return next((name for name, p, _ in TOPICS if p == plugin), "")


def shown(cmd: Command, roles: frozenset[Role]) -> bool:
    """Whether /帮助 lists the command to this person: only what they can use."""
    if not cmd.allowed(roles):
        return False
    if _topic_of(cmd) == "群管理" and not cmd.roles and cmd.name not in MODERATION_PUBLIC:
        return Role.superuser in roles or bool(roles & MODERATION_STAFF)
    return True


def _line(cmd: Command) -> str:
    return f"{cmd.usage}{SCENE_NOTE.get(cmd.scenes, '')}：{cmd.summary}"


def favourites(roles: frozenset[Role]) -> list[Command]:
    names: list[str] = []
    for role, wanted in FAVOURITES:
        if role in roles:
            names += [n for n in wanted if n not in names]
    names += [n for n in EVERYONE if n not in names]
    cmds = [registry.commands[n] for n in names if n in registry.commands]
    return [c for c in cmds if shown(c, roles)][:MAX_FAVOURITES]


def topics_for(roles: frozenset[Role]) -> list[str]:
    return [
        name for name, _, _ in TOPICS
        if any(_topic_of(c) == name and c.name != "帮助" and shown(c, roles) for c in registry.commands.values())
    ]


def help_text(roles: frozenset[Role], scene: Scene, topic: str = "") -> str:
    topic = topic.strip().lstrip("/／、")
    if topic:
        return _topic_text(roles, topic)
    lines = ["我最常用的命令："]
    lines += [_line(c) for c in favourites(roles)]
    if topics := topics_for(roles):
        lines.append("想看更多，发送：" + "、".join(f"/帮助 {t}" for t in topics))
    if scene == "group":
        lines.append("反映诉求请私聊我，内容只有负责的领导能看到，且不会显示你是谁。")
    if off := platform.off_lines():
        lines += ["", "这里有些功能用不了：", *off]
    return "\n".join(lines)


RECENT = timedelta(days=7)
WEEKDAYS = "一二三四五六日"
NO_CONNECTION = (
    "QQ：没有连上，消息暂时发不出去（会在连上后补发）。请检查 NapCat 是否在运行、QQ 是否已登录，"
    "以及 NapCat 里填的连接地址和令牌是否与连心一致。"
)
DATABASE_DOWN = "数据库：连不上（{error}）。在它恢复之前，新的诉求、打卡都存不下来；请联系系统管理员检查数据库服务。"
FAILED_ADVICE = "发不出去多半是我不在那个群里、被禁言，或对方没有加我为好友；请检查后，学习材料可用 /发布学习 重新发布。"


async def _recent(s, since: datetime) -> tuple[dict[str, int], list[outbox.Unsure]]:  # type: ignore[no-untyped-def]
    """Sends by state (waiting ones whatever their age, the others of the last week), and the
    failed ones of the last week."""
    from sqlalchemy import func, or_, select

    from bot.models import Outbox

    waiting = (outbox.PENDING, outbox.SENDING)
    rows = await s.execute(
        select(Outbox.status, func.count())
        .where(or_(Outbox.status.in_(waiting), Outbox.created_at >= since))
        .group_by(Outbox.status)
    )
    counts = {status: n for status, n in rows.all()}
    failed = (
        await s.scalars(select(Outbox).where(Outbox.status == outbox.FAILED, Outbox.created_at >= since).order_by(Outbox.id))
    ).all()
    return counts, [
        outbox.Unsure(r.id, r.purpose, r.period, platform.Target(r.target_kind, r.target_id), r.claimed_at or r.created_at)  # type: ignore[arg-type]
        for r in failed
    ]


def _topic_text(roles: frozenset[Role], topic: str) -> str:
    cmd = registry.commands.get(topic)
    name = next((n for n, _, aliases in TOPICS if topic == n or topic in aliases), None)
    if name is None and cmd is not None and shown(cmd, roles):
        return _line(cmd)
    cmds = [c for c in registry.visible_to(roles) if name and _topic_of(c) == name and c.name != "帮助" and shown(c, roles)]
    if not cmds:
        offered = "、".join(topics_for(roles))
        return f"没有“{topic[:12]}”这个帮助主题。可以发送：/帮助 {offered.replace('、', '、/帮助 ')}"
    return "\n".join([f"{name}："] + [_line(c) for c in cmds])


async def status_text() -> str:
    """/状态 in plain words: what is connected, what is waiting, what failed and what to do."""
    import nonebot
    from sqlalchemy import text

    from bot import stats
    from bot.db import session

    org = runtime.org()
    now = clock.now()
    bots = sorted(nonebot.get_bots())
    lines = [f"连心运行情况（{_when(now)}）"]
    if bots:
        lines.append(f"QQ：已连上（账号 {'、'.join(bots)}）。")
    else:
        lines.append(NO_CONNECTION)
    if off := platform.off_lines():
        lines += ["平台限制：", *off]
    lines.append(f"本次启动以来收到消息：{stats.handled} 条")
    if platform.unreadable_count:
        lines.append(f"无法读取的事件：{platform.unreadable_count} 条（多半是 QQ 发来的格式有误；日志里有类型和编号，私聊的已请对方重发）")
    try:
        async with session() as s:
            await s.execute(text("SELECT 1"))
            counts, failed = await _recent(s, clock.utcnow() - RECENT)
        lines.append("数据库：正常。")
        waiting = counts.get(outbox.PENDING, 0) + counts.get(outbox.SENDING, 0)
        if not waiting:
            lines.append("等待发送：没有，该发的都发出去了。")
        elif bots:
            lines.append(f"等待发送：{waiting} 条，正在一条条发出（每条间隔几秒，以免被 QQ 限制）。")
        else:
            lines.append(f"等待发送：{waiting} 条，QQ 连上后发出。")
        if sent := counts.get(outbox.SENT, 0):
            lines.append(f"近 7 天已发出：{sent} 条。")
        if failed:
            lines.append(f"近 7 天没能发出的：{len(failed)} 条")
            lines += [f"{i}. {describe(org, u)}" for i, u in enumerate(failed[:SHOWN], 1)]
            if len(failed) > SHOWN:
                lines.append(f"……另有 {len(failed) - SHOWN} 条")
            lines.append(FAILED_ADVICE)
        if unsure := await outbox.unknown_sends():
            lines += unknown_lines(org, unsure)
    except Exception as e:  # noqa: BLE001 - /状态 must answer even when the database is down
        lines.append(DATABASE_DOWN.format(error=type(e).__name__))
    if missing := unreachable(org):
        shown = "、".join(missing[:SHOWN]) + (f" 等 {len(missing)} 人" if len(missing) > SHOWN else "")
        lines.append(f"私聊可能送不到（不在组织文件的任何群里，除非已加我为好友）：{shown}")
    posts = await schedule.next_posts()
    if posts:
        lines.append("接下来的定时发送：")
        lines += [f"· {_when(t)} {what}" for t, what in posts]
    else:
        lines.append("接下来的定时发送：暂无")
    return "\n".join(lines)


def _when(t: datetime) -> str:
    t = t.astimezone(clock.zone())
    return f"{t.month}月{t.day}日（周{WEEKDAYS[t.weekday()]}）{t:%H:%M}"


def _fmt(t: datetime) -> str:
    return t.astimezone(clock.zone()).strftime("%m-%d %H:%M")
