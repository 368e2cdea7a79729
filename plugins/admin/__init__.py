"""/帮助 and /状态: what the asking person may do, and how the bot is doing."""

from __future__ import annotations

from nonebot.plugin import PluginMetadata

from bot.commands import command
from bot.context import Ctx
from bot.org import Role
from bot.text import clean
from plugins.admin import data_source

__plugin_meta__ = PluginMetadata(
    name="admin",
    description="帮助与运行状态",
    usage="/帮助 /状态 /重发",
)


@command("帮助", summary="查看我能使用的命令", usage="/帮助 [主题]", order=0)
async def _help(ctx: Ctx) -> None:
    roles = data_source.help_roles(ctx.org, ctx.user_id, ctx.roles)
    await ctx.reply(data_source.help_text(roles, ctx.scene, clean(ctx.args)))


@command("状态", summary="查看连接、数据库、待发消息和下次定时任务", roles=[Role.cadre], order=90)
async def _status(ctx: Ctx) -> None:
    await ctx.reply(await data_source.status_text())


@command("重发", summary="查看并重发结果未知的消息", usage="/重发 [确认]", roles=[Role.cadre], order=91)
async def _resend(ctx: Ctx) -> None:
    arg = clean(ctx.args)
    if arg in ("确认", "确定"):
        await ctx.reply(await data_source.resend_confirm(ctx.user_id))
    elif arg:
        await ctx.reply("用法：/重发 查看结果未知的消息；核实后发送 /重发 确认 重新发送。")
    else:
        await ctx.reply(await data_source.resend_offer(ctx.user_id))
