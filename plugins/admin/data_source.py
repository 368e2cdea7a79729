"""Plain functions behind /帮助 and /状态, testable without NoneBot's event machinery."""

from __future__ import annotations

from datetime import datetime

from bot import clock, outbox, schedule
from bot.commands import Scene, registry
from bot.org import Role

SCENE_NOTE = {frozenset({"private"}): "（私聊）", frozenset({"group"}): "（群内）"}
STATUS_NAMES = {"pending": "待发", "sending": "发送中", "sent": "已发", "unknown": "结果未知", "failed": "失败"}


def help_text(roles: frozenset[Role], scene: Scene) -> str:
    lines = ["连心可以帮你做这些事："]
    for cmd in registry.visible_to(roles):
        note = SCENE_NOTE.get(cmd.scenes, "")
        lines.append(f"{cmd.usage}{note}：{cmd.summary}")
    if scene == "group":
        lines.append("反映诉求请私聊我，内容只有分管领导能看到，且不会显示你是谁。")
    return "\n".join(lines)


async def status_text() -> str:
    import nonebot
    from sqlalchemy import text

    from bot import dispatch, ingress
    from bot.db import session

    bots = sorted(nonebot.get_bots())
    lines = [f"连接：{len(bots)} 个账号在线" + (f"（{'、'.join(bots)}）" if bots else "")]
    lines.append(f"本次启动以来收到消息：{dispatch.handled} 条")
    if ingress.unreadable:
        lines.append(f"无法读取的事件：{ingress.unreadable} 条（日志里有类型和编号，私聊的已请对方重发）")
    try:
        async with session() as s:
            await s.execute(text("SELECT 1"))
            dialect = s.get_bind().dialect.name
        lines.append(f"数据库：正常（{dialect}）")
        counts = await outbox.counts()
        queued = "，".join(f"{STATUS_NAMES.get(k, k)} {v}" for k, v in sorted(counts.items())) or "无"
        lines.append(f"发送队列：{queued}")
    except Exception as e:  # noqa: BLE001 - /状态 must answer even when the database is down
        lines.append(f"数据库：无法连接（{type(e).__name__}）")
    posts = await schedule.next_posts()
    lines.append("下次定时发送：" + ("；".join(f"{_fmt(t)} {what}" for t, what in posts) if posts else "暂无"))
    return "\n".join(lines)


def _fmt(t: datetime) -> str:
    return t.astimezone(clock.zone()).strftime("%m-%d %H:%M")
