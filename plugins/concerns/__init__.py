"""诉求: anonymous concerns in private chat, routed to the leader who owns the category."""

from __future__ import annotations

from nonebot import get_driver
from nonebot.plugin import PluginMetadata

from bot import flows, schedule
from bot.commands import command, on_private_message
from bot.context import Ctx, MessageCtx
from bot.errors import Refusal, when_not_saved
from bot.org import Role
from bot.text import clean
# relay: registers the outbox renderer of leaders' notices in every process that sends them.
from plugins.concerns import flow, intake, leader, orgsection, relay, ticks  # noqa: F401
from plugins.concerns import section as report_section

__plugin_meta__ = PluginMetadata(name="concerns", description="匿名诉求", usage="/诉求 <内容>")

report_section.register()
orgsection.register()  # `concerns:` in the org file, validated with the rest of it

LEADERS = [Role.leader, Role.cadre, Role.head]
PRIVATE_ONLY = "为了保护你的隐私，这个命令请私聊我使用，群里的这条消息我会尽量撤回。"
NOT_SAVED = "抱歉，系统暂时无法保存，这次没有提交成功，内容没有被记录。请稍后再发送一次。"
SUPPLEMENT_USAGE = "请在回执码后面写上要补充的内容，例如：/补充 {code} 事情发生在上周五晚班"


async def _private_only(ctx: Ctx) -> bool:
    """In a group: never repeat the text, ask for private chat, recall where the bot can."""
    if ctx.scene == "private":
        return False
    await ctx.reply(PRIVATE_ONLY)
    await ctx.port.recall(str(ctx.message_id))
    return True


@command("诉求", summary="匿名反映问题（只有负责的领导能看到）", usage="/诉求 <内容>", order=10)
@when_not_saved(NOT_SAVED)
async def _submit(ctx: Ctx) -> None:
    if await _private_only(ctx):
        return
    if ctx.msg.attachments:
        raise Refusal("暂时只能收文字，图片和文件不会被保存，这次没有提交。请用文字描述后重新发送。")
    if not ctx.args:
        await ctx.reply(await flow.start(ctx.user_id))
        return
    await ctx.reply(flow.receipt_message(await intake.submit(user_id=ctx.user_id, bot_id=ctx.bot.self_id, text=ctx.args, account=ctx.msg.user_id, platform=ctx.msg.platform)))


@on_private_message
@flows.while_open(flow.DRAFT_OPEN)
@when_not_saved(NOT_SAVED)
async def _guided(ctx: MessageCtx) -> bool:
    answer = await flow.step(ctx.user_id, ctx.bot.self_id, ctx.text, account=ctx.msg.user_id, platform=ctx.msg.platform)
    if answer is None:
        return False
    if ctx.msg.attachments and not ctx.text:
        answer = "暂时只能收文字，请用文字回复。"
    await ctx.reply(answer)
    return True


def _split(args: str) -> tuple[str, str]:
    head, _, rest = args.strip().partition(" ")
    return head, rest.strip()


def _code_and_rest(args: str) -> tuple[str, str]:
    """Codes may be typed with spaces ("ABCD EFGH JKLM 内容"): take the first 12 code symbols."""
    from plugins.concerns.receipts import ALPHABET, LENGTH

    taken, i = 0, 0
    s = args.strip()
    while i < len(s) and taken < LENGTH:
        ch = s[i].upper()
        if ch in ALPHABET:
            taken += 1
        elif ch not in " -—_－\u3000":
            break
        i += 1
    return s[:i], s[i:].strip()


@command("进度", summary="凭回执码查看诉求进展", usage="/进度 <回执码>", order=11)
@when_not_saved(NOT_SAVED)
async def _progress(ctx: Ctx) -> None:
    if not await _private_only(ctx):
        await ctx.reply(await intake.progress(ctx.args))


@command("补充", summary="给已提交的诉求补充内容", usage="/补充 <回执码> <内容>", order=12)
@when_not_saved(NOT_SAVED)
async def _supplement(ctx: Ctx) -> None:
    if await _private_only(ctx):
        return
    code, rest = _code_and_rest(ctx.args)
    if not code:
        raise Refusal(SUPPLEMENT_USAGE.format(code="ABCD-EFGH-JKLM"))
    if not clean(rest):
        raise Refusal(SUPPLEMENT_USAGE.format(code=code.strip()))
    await ctx.reply(await intake.supplement(code, rest))


@command("评价", summary="诉求办结后打分（1 分很不满意，5 分很满意）", usage="/评价 <回执码> <1-5>", order=13)
@when_not_saved(NOT_SAVED)
async def _rate(ctx: Ctx) -> None:
    if await _private_only(ctx):
        return
    code, rest = _code_and_rest(ctx.args)
    if code and not clean(rest):
        raise Refusal(f"请在回执码后面写 1 到 5 的分数（1 分很不满意，5 分很满意），例如：/评价 {code.strip()} 5")
    await ctx.reply(await intake.rate(code, rest))


@command("待办", summary="查看交给我办理的诉求", roles=LEADERS, group=False, order=20)
@when_not_saved(NOT_SAVED)
async def _todo(ctx: Ctx) -> None:
    await ctx.reply(await leader.todo(ctx.user_id))


@command("受理", summary="受理诉求", usage="/受理 <编号>", roles=LEADERS, group=False, order=21)
@when_not_saved(NOT_SAVED)
async def _ack(ctx: Ctx) -> None:
    await ctx.reply(await leader.acknowledge(ctx.user_id, ctx.args))


@command("回复", summary="答复诉求（由我转达提交人）", usage="/回复 <编号> <内容>", roles=LEADERS, group=False, order=22)
@when_not_saved(NOT_SAVED)
async def _reply(ctx: Ctx) -> None:
    n, text = _split(ctx.args)
    await ctx.reply(await leader.reply(ctx.user_id, n, text))


@command("办结", summary="办结诉求", usage="/办结 <编号> <办理结果>", roles=LEADERS, group=False, order=23)
@when_not_saved(NOT_SAVED)
async def _close(ctx: Ctx) -> None:
    n, text = _split(ctx.args)
    await ctx.reply(await leader.close(ctx.user_id, n, text))


@command("转办", summary="转给其他领导或改类别", usage="/转办 <编号> <姓名、QQ号或类别>", roles=LEADERS, group=False, order=24)
@when_not_saved(NOT_SAVED)
async def _transfer(ctx: Ctx) -> None:
    n, target = _split(ctx.args)
    await ctx.reply(await leader.transfer(ctx.user_id, n, target))


@get_driver().on_startup
async def _claim_current_slot() -> None:
    # Before the bot listens: otherwise a concern sent in the first seconds after a start can
    # meet this slot's first digest and reach its leader at once, not at the next slot.
    if getattr(get_driver().config, "apscheduler_autostart", True):  # not in in-process tests
        await schedule.run("concerns-digest", ticks.digest_tick)


@schedule.tick("concerns", seconds=60)
async def _tick() -> None:
    await ticks.escalation_tick()
    await ticks.digest_tick()
    await ticks.relay_retry_tick()
    await ticks.retention_tick()
