"""Core services wired into NoneBot's lifecycle: org sync, the outbox workers, the database engine."""

from __future__ import annotations

from nonebot import get_driver, logger, require
from nonebot.adapters import Bot

require("nonebot_plugin_apscheduler")

from bot import db  # noqa: E402

# Shutdown hooks run last-registered first: this one, registered before any other of the bot's,
# closes the database after every tick and worker that may still use it has stopped.
get_driver().on_shutdown(db.dispose)

import bot.platform.onebot_v11  # noqa: E402,F401 - registers the OneBot v11 port
from bot import orgfile, outbox, runtime, schedule, settings  # noqa: E402,F401 - schedule installs the ticks

driver = get_driver()


@schedule.tick("org_file", seconds=10)
async def _watch_org_file() -> None:
    """Every process follows hand edits of the org file and the console's write-backs."""
    await orgfile.reload_if_changed()


@driver.on_startup
async def _startup() -> None:
    pace = settings.core()
    outbox.worker = outbox.Worker(interval=pace.lianxin_send_interval, jitter=pace.lianxin_send_jitter)
    logger.info(f"连心已启动：{runtime.org().name}，组织文件 {runtime.org().source}")
    logger.info(next_step())


@driver.on_bot_connect
async def _connected(bot: Bot) -> None:
    if outbox.worker is not None:
        outbox.worker.start(bot.self_id)


@driver.on_bot_disconnect
async def _disconnected(bot: Bot) -> None:
    if outbox.worker is not None:
        await outbox.worker.stop(bot.self_id)


@driver.on_shutdown
async def _shutdown() -> None:
    if outbox.worker is not None:
        await outbox.worker.stop()


def next_step() -> str:
    """One line telling the operator where the chat platform should connect, and whether a
    token guards it (the first thing to do after a start)."""
    config = driver.config
    token = "已设置访问令牌" if settings.env("ONEBOT_ACCESS_TOKEN") else "未设置访问令牌（只在本机可用）"
    urls = settings.env("ONEBOT_WS_URLS")
    if urls:
        return f"下一步：连心会主动连接 OneBot 服务 {urls}；{token}。连上后私聊机器人发送 /状态 确认。"
    return (
        f"下一步：在 NapCat 里添加“WebSocket 客户端”，地址 ws://{config.host}:{config.port}/onebot/v11/ws，"
        f"{token}。连上后私聊机器人发送 /状态 确认。"
    )
