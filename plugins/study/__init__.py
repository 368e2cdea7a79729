"""Study day (学习日): materials on schedule through the outbox, check-in, quiz, points, ranking.

Handlers are thin: they turn the chat context into a `Where` and call `data_source`; the tick
calls `posting`. Materials (materials.py) are checked at start-up through bot.checks, and the
folder is watched for edits (watch.py).
"""

from __future__ import annotations

from datetime import datetime

from nonebot.plugin import PluginMetadata

from bot import checks, flows, schedule
from bot.commands import command, on_private_message
from bot.context import Ctx, MessageCtx
from bot.org import Group, Role
from bot.platform import Forward, Target
from bot.text import clean
from plugins.study import data_source, materials, orgsection, posting, watch
from plugins.study import section as report_section
from plugins.study.data_source import Where

__plugin_meta__ = PluginMetadata(
    name="study",
    description="学习日：按期推送学习材料，打卡、答题、积分与排行",
    usage="/学习 /已学 /答题 /积分 /排行 /发布学习",
)

report_section.register()
orgsection.register()  # `study:` in the org file (a group's and the organisation's)

# A bad material stops start-up like a bad org file: found by the deployer, not at 09:00.
checks.register("materials", materials.load_configured)


@schedule.tick("materials_folder", seconds=10)
async def _watch_materials() -> None:
    """Hand edits of the materials folder and materials saved from the console, in every process."""
    watch.reload_materials(only_if_changed=True)


def where(ctx: MessageCtx) -> Where:
    group: Group | None = None
    if ctx.group_id is not None:
        # A group missing from the org file is still a group: it sees the general material.
        group = ctx.org.groups.get(ctx.group_id) or Group(id=ctx.group_id, name=str(ctx.group_id))
    return Where(user_id=ctx.user_id, group=group, name=ctx.sender_name)


@command("学习", summary="查看本期学习材料", usage="/学习 [标题]", order=20)
async def _study(ctx: Ctx) -> None:
    from bot import clock

    text, full = data_source.study_text(materials.library(), clock.now(), where(ctx), ctx.args)
    await ctx.reply(text)
    if full is not None:
        # The full text right after, as a merged message (a reply to the asker, not a broadcast).
        await ctx.port.send(Target.private(ctx.user_id), [Forward(tuple(full.nodes()))])


@command("已学", summary="学完打卡（每份材料一次，有积分）", usage="/已学 [标题]", order=21)
async def _checked_in(ctx: Ctx) -> None:
    await ctx.reply(await data_source.check_in(materials.library(), where(ctx), ctx.args))


@command("答题", summary="参加本期学习测验，一次一题", usage="/答题 [标题]", group=False, order=22)
async def _quiz(ctx: Ctx) -> None:
    await ctx.reply(await data_source.start_quiz(materials.library(), where(ctx), ctx.args))


# Points are private to each person: /积分 answers in private chat only.
@command("积分", summary="查看我的学习积分（只有自己能看到）", group=False, order=23)
async def _points(ctx: Ctx) -> None:
    await ctx.reply(await data_source.my_points(where(ctx)))


@command("排行", summary="本月积分排行（只列自愿公开的人）；公开或不公开我的积分", usage="/排行 [公开|不公开]", order=24)
async def _ranking(ctx: Ctx) -> None:
    await ctx.reply(await data_source.ranking_text(where(ctx), arg=ctx.args))


@command("发布学习", summary="把学习材料发到各学习群（先看清单，再确认）", usage="/发布学习 [标题]", roles=[Role.cadre], order=80)
async def _publish(ctx: Ctx) -> None:
    lib, arg = materials.library(), clean(ctx.args)
    if arg in posting.CONFIRM_WORDS:
        await ctx.reply(await posting.publish_confirm(lib, ctx.org, ctx.user_id))
    else:
        await ctx.reply(await posting.publish_offer(lib, ctx.org, ctx.user_id, arg))


@on_private_message
@flows.while_open(data_source.QUIZ_OPEN)
async def _quiz_answer(ctx: MessageCtx) -> bool:
    """Answers ("A", "2", "退出") while a quiz is open; the state is in the database."""
    reply = await data_source.answer(materials.library(), where(ctx), ctx.text)
    if reply is None:
        return False
    if reply:
        await ctx.reply(reply)
    return True


@schedule.tick("study", seconds=30)
async def _tick() -> None:
    await posting.tick()


@schedule.upcoming
async def _upcoming() -> list[tuple[datetime, str]]:
    return await posting.upcoming()
