"""连心工作台: the web console, served by the bot's own FastAPI app; login through the bot.

Off unless LIANXIN_CONSOLE_URL is set. `/工作台` in private chat answers with a one-time link.
"""

from __future__ import annotations

import nonebot
from nonebot import logger, require
from nonebot.plugin import PluginMetadata

# The pages use these plugins' functions: loaded as plugins first (NoneBot refuses a plugin
# whose module was imported before it was loaded).
for _name in ("concerns", "moderation", "reports", "study"):
    require(f"plugins.{_name}")

from bot.commands import command  # noqa: E402
from bot.context import Ctx  # noqa: E402
from plugins.console import auth  # noqa: E402

__plugin_meta__ = PluginMetadata(name="console", description="连心工作台", usage="/工作台")

OFF = "工作台还没有开启。如需使用，请联系管理员设置 LIANXIN_CONSOLE_URL。"
NOT_FOR_YOU = "工作台供分管领导、政工干部和群管理员使用。你可以直接在这里私聊我办理事情，发送 /帮助 查看。"


def _mount() -> None:
    try:
        app = nonebot.get_app()
    except Exception:  # noqa: BLE001 - a driver without an ASGI app (e.g. aiohttp only)
        logger.warning("console: this driver serves no web pages; the console is unavailable")
        return
    from plugins.console.web import router

    app.include_router(router)


_mount()


@command("工作台", summary="打开网页工作台（一次性登录链接）", usage="/工作台", roles=auth.CONSOLE_ROLES, group=False, order=90)
async def _console(ctx: Ctx) -> None:
    if auth.base_url() is None:
        await ctx.reply(OFF)
        return
    if not auth.may_use(ctx.user_id):
        await ctx.reply(NOT_FOR_YOU)
        return
    link = await auth.issue_link(ctx.user_id)
    await ctx.reply(f"请在 {auth.LINK_MINUTES} 分钟内打开下面的链接登录工作台（只能用一次，请勿转发）：", link)
