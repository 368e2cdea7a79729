"""The one matcher: command lookup in a dict, then the group/private hooks.

Loaded as a NoneBot plugin by bot.app. Every other plugin registers into bot.commands and adds
no per-message matcher of its own. NoneBot checks every matcher's rule, in tasks of its own, for
every event: this one takes any adapter's message events (the platform module turns each into
an `Inbound`) and also answers the private messages an adapter could not read, so an ordinary
group message pays for one matcher only.
"""

from __future__ import annotations

import traceback

from nonebot import get_driver, logger, on
from nonebot.adapters import Bot, Event
from nonebot.matcher import current_bot, current_event
from sqlalchemy.exc import SQLAlchemyError

from bot import citizen, db, flows, runtime, stats
from bot.commands import Hook, registry
from bot.context import Ctx, MessageCtx
from bot.errors import Refusal, unsaved_text
from bot.platform import Inbound, Target, Text, inbound_for, port_for, unreadable_sender

SORRY = "抱歉，处理时出了点问题，请稍后再试。如果一直不行，请联系管理员。"
PRIVATE_HINT = "你好，我是连心。发送 /帮助 可以看到我能做的事。"
UNREADABLE = "抱歉，这条消息我没能读懂，请再发一次。"

# Every event type: an unreadable message is a "notice" (e.g. bot.platform.onebot_ingress), so
# no message rule sees it.
matcher = on(priority=1, block=False)


@matcher.handle()
async def _dispatch() -> None:
    # No parameters: NoneBot checks and solves each handler parameter in a task of its own,
    # which costs an ordinary group message more than the bot's own work on it.
    await dispatch(current_bot.get(), current_event.get())


@get_driver().on_shutdown
async def _close_readers() -> None:
    db.close_readers()  # bot.flows' read-only SQLite connection


async def dispatch(bot: Bot, event: Event) -> None:
    """Any adapter's event: a message is handled, an unreadable private one answered."""
    msg = inbound_for(bot, event)
    if msg is None:
        if (user_id := unreadable_sender(bot, event)) is not None:
            await _unreadable(bot, user_id)
        return
    await handle(bot, msg)


async def handle(bot: Bot, msg: Inbound) -> None:
    stats.handled += 1
    if msg.user_id == msg.bot_id:
        return  # our own messages echoed back by some implementations
    text = msg.text
    org = runtime.org()
    parsed = registry.parse(text)
    if parsed is None:
        ctx = MessageCtx(bot=bot, msg=msg, text=text, org=org)
        hooks = registry.group_hooks if ctx.group_id is not None else await _private_hooks(ctx)
        for hook in hooks:
            if await _guard(ctx, hook.__qualname__, hook(ctx), handler=hook):
                return
        if ctx.group_id is not None or not text:
            return
        # Private chat with no guided flow open: a command word without the slash is meant as
        # the command (in groups it would be ordinary chat).
        parsed = registry.parse_bare(text)
        if parsed is None:
            # Another plugin's matcher answering it (it runs beside this one): no greeting.
            if not (isinstance(msg.raw, Event) and await citizen.handled_elsewhere(bot, msg.raw)):
                await _guard(ctx, "hint", ctx.reply(PRIVATE_HINT))
            return
    cmd, name, args = parsed
    ctx = Ctx(bot=bot, msg=msg, text=text, org=org, command=cmd, args=args)
    if cmd is None:
        if citizen.claims_command(name):
            return  # another plugin's command: it answers
        await _guard(ctx, "unknown", ctx.reply(f"没有 /{name[:12]} 这个命令。发送 /帮助 查看可用的命令。"))
        return
    if ctx.scene not in cmd.scenes:
        where = "请私聊我使用" if ctx.scene == "group" else "请在群里使用"
        await _guard(ctx, cmd.name, ctx.reply(f"/{cmd.name} {where}。"))
        return
    if not cmd.allowed(ctx.roles):
        await _guard(ctx, cmd.name, ctx.reply(f"抱歉，/{cmd.name} 只有{cmd.role_names()}可以使用。"))
        return
    await _guard(ctx, cmd.name, cmd.handler(ctx), answer=True, handler=cmd.handler)


async def _private_hooks(ctx: MessageCtx) -> list[Hook]:
    """Only the hooks whose flow this person has open (one indexed look-up, bot.flows)."""
    try:
        return await flows.hooks_for(ctx.user_id, registry.private_hooks)
    except Exception as e:  # noqa: BLE001 - each hook looks for itself and answers a failure
        logger.warning(f"open-flow look-up failed: {type(e).__name__}")
        return list(registry.private_hooks)


async def _guard(ctx: MessageCtx, what: str, work, answer: bool = False, handler: object = None):  # type: ignore[no-untyped-def]
    """Run a handler or hook. A Refusal is answered with its text (a hook that refuses consumed
    the message); any other failure is logged without message text and, for a command, answered
    politely (a database failure with the handler's `when_not_saved` text where it has one)."""
    try:
        return await work
    except Refusal as e:
        # Not logged, not even at debug: the text may quote what the person wrote.
        await _answer(ctx, e.text)
        return True
    except Exception as e:  # noqa: BLE001 - a handler must never crash the dispatcher
        # No exception message: database errors quote their parameters (the user's text).
        frames = "".join(traceback.format_tb(e.__traceback__))
        logger.error(f"{what} failed in {ctx.scene} chat: {type(e).__name__}\n{frames}")
        unsaved = unsaved_text(handler) if isinstance(e, SQLAlchemyError) else None
        if unsaved is not None:
            await _answer(ctx, unsaved)
            return True
        if answer:
            await _answer(ctx, SORRY)
        return False


async def _answer(ctx: MessageCtx, text: str) -> None:
    try:
        await ctx.reply(text)
    except Exception:  # noqa: BLE001
        logger.error("could not send the answer either")


async def _unreadable(bot: Bot, user_id: str) -> None:
    """A private message the adapter could not read (its platform module counted and logged it)."""
    try:
        await port_for(bot).send(Target.private(user_id), [Text(UNREADABLE)])
    except Exception as e:  # noqa: BLE001 - the event is gone either way; say so without details
        logger.warning(f"could not answer an unreadable private message: {type(e).__name__}")
