"""Core services wired into NoneBot's lifecycle: org sync and the outbox workers."""

from __future__ import annotations

from nonebot import get_driver, logger, require
from nonebot.adapters import Bot

require("nonebot_plugin_orm")
require("nonebot_plugin_apscheduler")

import bot.platform.onebot_v11  # noqa: E402,F401 - registers the OneBot v11 port
from bot import outbox, runtime, schedule  # noqa: E402,F401 - schedule installs the ticks
from bot.orgsync import sync_org  # noqa: E402

driver = get_driver()


def _seconds(name: str, default: float) -> float:
    """A pacing setting in seconds (tests shorten it); a bad value keeps the safe default."""
    from bot import settings

    raw = settings.env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        logger.warning(f"{name}={raw!r} is not a number of seconds >= 0; using {default}")
        return default
    return value


@driver.on_startup
async def _startup() -> None:
    await sync_org(runtime.org())
    outbox.worker = outbox.Worker(
        interval=_seconds("LIANXIN_SEND_INTERVAL", 1.5), jitter=_seconds("LIANXIN_SEND_JITTER", 0.5)
    )
    logger.info(f"连心已启动：{runtime.org().name}，组织文件 {runtime.org().source}")


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
    from bot.app import remove_private_dirs

    remove_private_dirs()
