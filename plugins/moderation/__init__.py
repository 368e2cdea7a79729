"""Rumours and conduct (CONTRACT section 4): reply-based flags and reports, case decisions,
appeals, screening of every group message, the warn ladder, the audit log.

Thin handlers only; the work is in plain async functions over the database and the port:
intake.py (quoted messages, screening hook, flags, reports), decisions.py (/确认 /驳回 /防骗),
appeals.py (/申诉 /撤销 /维持), views.py (/案件), with cases.py, audit.py, corpus.py,
notify.py and enforce.py under them; screening.py and normalise.py are pure. No NoneBot
matcher of its own: commands and the screening hook are registered with the one dispatcher
(bot/dispatch.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nonebot import get_driver, logger
from nonebot.plugin import PluginMetadata

from bot import checks, schedule
from bot.commands import command, on_group_message
from bot.context import Ctx, MessageCtx
from bot.errors import Refusal
from bot.org import Role
from bot.text import clean, split_number
from plugins.moderation import appeals, config, decisions, intake, orgsection, texts, views
from plugins.moderation import section as report_section
from plugins.moderation.cases import Quoted
from plugins.moderation.index import index

__plugin_meta__ = PluginMetadata(
    name="moderation",
    description="谣言与不文明言论：标记、举报、自动发现、辟谣、警告与禁言、申诉",
    usage="/谣言 /举报 /确认 /驳回 /防骗 /申诉 /撤销 /维持 /案件",
)

report_section.register()
orgsection.register()  # a group's `moderation:` in the org file

# A lexicon or clarification that cannot be used stops start-up (bot.checks) rather than being
# skipped with a warning nobody reads.
checks.register("lexicons", lambda: config.load_lexicons(strict=True))
checks.register("clarifications", lambda: config.load_clarifications(strict=True))

MAX_NOTE = 1000
MAX_REASON = 500
Say = Callable[..., Awaitable[None]]


async def _quoted(ctx: Ctx, cmd: str, say: Say | None = None) -> Quoted | None:
    say = say or ctx.reply
    mid = intake.quoted_id(ctx)
    if mid is None:
        await say(texts.NEED_QUOTE.format(cmd=cmd))
        return None
    quoted = await intake.quoted_message(ctx, mid)
    if quoted is None:
        await say(texts.QUOTE_NOT_FOUND)
        return None
    if str(quoted.author_id) == str(ctx.bot.self_id):
        await say(texts.BOT_MESSAGE)
        return None
    return quoted


def _private(ctx: Ctx) -> Say:
    """Answers that must not be seen in the group (who reported, case ids, counts)."""

    async def say(*lines: str) -> None:
        if ctx.scene == "private":
            await ctx.reply(*lines)
            return
        try:
            await ctx.tell(ctx.user_id, *lines)
        except Exception as e:  # noqa: BLE001 - never fall back to the group
            logger.warning(f"moderation: private answer failed: {type(e).__name__}")

    return say


@command("谣言", summary="回复一条消息：认定为谣言，撤回并辟谣", usage="/谣言 [说明]", roles=[Role.moderator], private=False, order=40)
async def _rumour(ctx: Ctx) -> None:
    note = clean(ctx.args)
    if len(note) > MAX_NOTE:  # the note is posted as the clarification: never cut mid-sentence
        await _private(ctx)(texts.NOTE_TOO_LONG.format(max=MAX_NOTE))
        return
    quoted = await _quoted(ctx, "谣言")
    if quoted is None or ctx.group_id is None:
        return
    lines = await intake.flag(ctx.port, ctx.org, ctx.group_id, ctx.user_id, quoted, note or None)
    await _private(ctx)(*lines)  # the group sees the clarification, not the case summary


@command("举报", summary="回复一条消息：举报谣言或不文明言论", usage="/举报 [理由]", private=False, order=41)
async def _report(ctx: Ctx) -> None:
    # The reported author must not learn who reported: recall the command, answer privately only.
    say = _private(ctx)
    recalled = await ctx.port.recall(str(ctx.message_id), group_id=str(ctx.group_id), author_id=str(ctx.user_id))
    quoted = await _quoted(ctx, "举报", say)
    answer = None
    if quoted is not None and ctx.group_id is not None:
        answer = await intake.report(ctx.port, ctx.org, ctx.group_id, ctx.user_id, quoted, clean(ctx.args)[:MAX_REASON] or None)
    lines = ([answer] if answer else []) + ([] if recalled else [texts.report_not_recalled(recalled)])
    if lines:
        await say(*lines)


# Case-number commands: anyone may type them (a group's own moderators have no moderator role in
# private chat), the decision checks the right for that case's group.
async def _decide(ctx: Ctx, cmd: str, decide) -> None:  # type: ignore[no-untyped-def]
    case_id, note = split_number(ctx.args)
    if case_id is None:
        raise Refusal(texts.NEED_CASE.format(cmd=cmd))
    # Typed in the group or not: the summary (ids, counts, case details) is for the moderator only.
    if len(note) > MAX_NOTE:  # posted in the group or passed on to a person: not cut off
        await _private(ctx)(texts.NOTE_TOO_LONG.format(max=MAX_NOTE))
        return
    await _private(ctx)(*await decide(ctx.port, ctx.org, case_id, ctx.user_id, note or None))


@command("确认", summary="（群管理员）确认案件违规：撤回、辟谣、按规处理", usage="/确认 <案件号> [说明]", order=42)
async def _confirm(ctx: Ctx) -> None:
    await _decide(ctx, "确认", decisions.decide_confirm)


@command("驳回", summary="（群管理员）待处理的案件不属于违规", usage="/驳回 <案件号> [说明]", order=43)
async def _dismiss(ctx: Ctx) -> None:
    await _decide(ctx, "驳回", decisions.decide_dismiss)


@command("防骗", summary="（群管理员）疑似诈骗的案件：在群里提醒全群防骗，不算发言人违规", usage="/防骗 <案件号>", order=43)
async def _fraud(ctx: Ctx) -> None:
    async def remind(port, org, case_id, actor, note):  # type: ignore[no-untyped-def]
        return await decisions.fraud_reminder(port, org, case_id, actor)

    await _decide(ctx, "防骗", remind)


@command("申诉", summary="对自己被处理的案件提出申诉", usage="/申诉 <案件号> <理由>", order=44)
async def _appeal(ctx: Ctx) -> None:
    case_id, reason = split_number(ctx.args)
    if case_id is None or not reason:
        raise Refusal(texts.APPEAL_USAGE)
    await ctx.reply(await appeals.appeal(ctx.port, ctx.org, ctx.user_id, case_id, reason[:MAX_REASON]))


# Appeal decisions have verbs of their own: "/驳回 4" read as "reject the appeal" revoked the
# penalty, "/确认 4" kept it.
@command("撤销", summary="（政工干部、群管理员）撤销已确认的处理，说明转告发言人", usage="/撤销 <案件号> [说明]", order=44)
async def _revoke(ctx: Ctx) -> None:
    await _decide(ctx, "撤销", appeals.decide_revoke)


@command("维持", summary="（政工干部）申诉复核：维持原处理，说明转告申诉人", usage="/维持 <案件号> [说明]", order=44)
async def _uphold(ctx: Ctx) -> None:
    await _decide(ctx, "维持", appeals.decide_uphold)


@command("案件", summary="（群管理员、政工干部）查看待处理的案件或案件详情", usage="/案件 [案件号]", order=45)
async def _cases(ctx: Ctx) -> None:
    case_id, _ = split_number(ctx.args)
    if ctx.args.strip() and case_id is None:
        raise Refusal(texts.NEED_CASE.format(cmd="案件"))
    await ctx.reply(await views.overview(ctx.org, ctx.user_id, case_id))


@on_group_message
async def _screen(ctx: MessageCtx) -> bool:
    await intake.screen_message(ctx)  # never raises
    return False  # screening never consumes a message


@get_driver().on_startup
async def _load_index() -> None:
    # In the background: the bot listens at once; messages screened meanwhile wait for it.
    # On failure: logged, retried at the next message or tick.
    index.start()


@schedule.tick("moderation-index", seconds=60)
async def _refresh_index() -> None:
    await index.refresh()
