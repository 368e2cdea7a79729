"""报表: /月报, /周报 and /导出 for cadres and the head, and the monthly report on the 1st.

Its sections come from the other plugins, each registering its own with
`bot.reports.register_section`: this plugin imports none of them.
"""

from __future__ import annotations

from nonebot import get_driver
from nonebot.plugin import PluginMetadata

from bot import clock, offload, schedule
from bot.commands import command
from bot.context import Ctx
from bot.org import Role
from plugins.reports import models, report, service  # noqa: F401 - models: its table

__plugin_meta__ = PluginMetadata(name="reports", description="月报、周报与导出", usage="/月报 /周报 /导出")

ROLES = [Role.cadre, Role.head]


@command("月报", summary="月度报表：文字和图表（默认上个月）", usage="/月报 [本月|2026-11]", roles=ROLES, group=False, order=60)
async def _monthly(ctx: Ctx) -> None:
    await ctx.reply_parts(await service.report_parts(report.parse_month(ctx.args, clock.now())))


@command("周报", summary="周报表：文字和图表（默认上一周）", usage="/周报 [本周]", roles=ROLES, group=False, order=61)
async def _weekly(ctx: Ctx) -> None:
    await ctx.reply_parts(await service.report_parts(report.parse_week(ctx.args, clock.now())))


@command("导出", summary="导出月度报表的表格文件（Excel，默认上个月；加 csv 为 CSV）", usage="/导出 [本月|2026-11] [csv]", roles=ROLES, group=False, order=62)
async def _export(ctx: Ctx) -> None:
    args, as_csv = report.split_format(ctx.args)
    period = report.parse_month(args, clock.now())
    await ctx.reply(await service.export(ctx.port, ctx.user_id, period, as_csv))


@schedule.tick("reports", seconds=60)
async def _tick() -> None:
    await service.monthly_tick()
    if service.warm_task is not None and service.warm_task.done():
        await service.keep_ahead()


@get_driver().on_startup
async def _startup() -> None:
    # Not in in-process tests (their NoneBot runs without the scheduler): no stray worker.
    if getattr(get_driver().config, "apscheduler_autostart", True):
        service.start_warm_up()


@get_driver().on_shutdown
async def _shutdown() -> None:
    # The worker process (hot words, chart, export) must not outlive the bot or hold up its stop.
    service.stop_warm_up()
    offload.shutdown()
