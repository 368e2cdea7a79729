"""关怀与文化: birthday and festival greetings, /表扬 (commendations), /建议 (献一策).

Handlers are thin: they parse the message and call plain async functions in greet, commend
and suggest. Greeting texts are checked at start-up (bot.checks), so a bad file stops it.
"""

from __future__ import annotations

from nonebot.plugin import PluginMetadata

from bot import checks, schedule
from bot.commands import command
from bot.context import Ctx
from bot.errors import when_not_saved
from bot.org import Role
from bot.platform import Forward, Target
from bot.text import clean, parse_int
from plugins.care import commend, greet, greetings, suggest
from plugins.care import section as report_section
from plugins.care.common import CareError

__plugin_meta__ = PluginMetadata(
    name="care",
    description="关怀与文化：生日节日问候、表扬好人好事、献一策",
    usage="/表扬 @某人 事迹 /建议 内容 /审核 /通过 /退回 /建议汇总",
)

# A bad greetings file stops start-up (bot.checks), not the birthday post at 09:00.
checks.register("greetings", greetings.configured)

report_section.register()

NOT_SAVED = "抱歉，系统暂时无法保存，这次没有提交成功。请稍后再发送一次。"
REVIEWERS = [Role.cadre]
SUMMARY_ROLES = [Role.cadre, Role.head]
MENTION_HELP = f"请 @ 你想表扬的同事，再写上事迹，例如：{commend.EXAMPLE}"
PRIVATE_HELP = "私聊时请写同事的 QQ 号或姓名，再写上事迹，例如：/表扬 30001 主动留下来帮大家修好了打印机"




def mentioned(ctx: Ctx) -> str:
    """The one colleague @-mentioned in a group message; CareError explains anything else."""
    me = ctx.msg.bot_id
    ats = ctx.msg.mentions
    if "all" in ats:
        raise CareError(f"表扬要 @ 一位具体的同事，不能 @全体成员。{MENTION_HELP}")
    others = list(dict.fromkeys(a for a in ats if a != me))
    if not others:
        # Addressed to the bot (an @, or its name) without naming anyone else; quoting one of
        # the bot's messages sets to_me too, and is no @ of anyone.
        if me in ats or (ctx.msg.to_me and ctx.msg.quoted is None):
            raise CareError(f"谢谢你的好意，不过我只是个机器人，不用表扬我。{MENTION_HELP}")
        raise CareError(MENTION_HELP)
    if len(others) > 1:
        raise CareError("一次请只 @ 一位同事。要表扬几位同事，请分开推荐，每位发一条。")
    return ctx.org.person_of(others[0])


def named(ctx: Ctx, who: str) -> str:
    """A colleague named in private chat: a QQ number or a name in the org file."""
    org = ctx.org
    who = clean(who).lstrip("@＠")  # "/表扬 @张三 …" typed as text in private chat
    if not who:
        raise CareError(PRIVATE_HELP)
    if org.person(who) is not None:  # a QQ number (or Feishu id) of someone in the file
        return org.person_of(who)
    if parse_int(who, max_digits=12) is not None:
        raise CareError(f"组织名单里没有 QQ 号 {who}。{PRIVATE_HELP}")
    matches = [p.id for p in org.spec.people if p.name == who]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CareError(f"组织名单里有 {len(matches)} 位叫“{who}”的同事，请改写 QQ 号。")
    raise CareError(f"组织名单里没有叫“{who}”的同事。{PRIVATE_HELP}")


@command("表扬", summary="推荐表扬同事的好人好事", usage="/表扬 @某人 <事迹>", order=40)
@when_not_saved(NOT_SAVED)
async def _commend(ctx: Ctx) -> None:
    async def go() -> str:
        if ctx.scene == "group":
            nominee, deed = mentioned(ctx), ctx.args
            nominee_name = None
        else:
            who, _, deed = clean(ctx.args).partition(" ")
            if not who:
                raise CareError(PRIVATE_HELP)
            nominee, nominee_name = named(ctx, who), None
        done = await commend.nominate(
            nominator=ctx.user_id,
            nominator_name=ctx.sender_name,
            nominee=nominee,
            nominee_name=nominee_name,
            group_id=ctx.group_id,
            deed=deed,
        )
        return (
            f"谢谢推荐！表扬 {done.nominee_label} 的事迹已登记（#{done.id}），"
            "政工干部审核通过后，会在周一的“好人好事”里和大家分享。"
        )

    await ctx.reply(await go())


@command("审核", summary="查看待审核的表扬推荐", roles=REVIEWERS, group=False, order=41)
@when_not_saved(NOT_SAVED)
async def _pending(ctx: Ctx) -> None:
    await ctx.reply(await commend.pending_list(ctx.user_id))


@command("通过", summary="通过表扬推荐", usage="/通过 <编号>", roles=REVIEWERS, group=False, order=42)
@when_not_saved(NOT_SAVED)
async def _approve(ctx: Ctx) -> None:
    await ctx.reply(await commend.approve(ctx.user_id, ctx.args))


@command("退回", summary="退回表扬推荐", usage="/退回 <编号> [理由]", roles=REVIEWERS, group=False, order=43)
@when_not_saved(NOT_SAVED)
async def _reject(ctx: Ctx) -> None:
    await ctx.reply(await commend.reject(ctx.user_id, ctx.args))


@command("建议", summary="献一策，提出建议（署名，转给负责的领导）", usage="/建议 <内容>", order=45)
@when_not_saved(NOT_SAVED)
async def _suggest(ctx: Ctx) -> None:
    done = await suggest.submit(author=ctx.user_id, author_name=ctx.sender_name, group_id=ctx.group_id, text=ctx.args)
    await ctx.reply(suggest.receipt(done))


@command("建议汇总", summary="某一年的建议按类别汇总（默认今年）", usage="/建议汇总 [年份]", roles=SUMMARY_ROLES, group=False, order=46)
async def _summary(ctx: Ctx) -> None:
    year = suggest.parse_year(ctx.args)
    texts = await suggest.summary(year)
    if not texts:
        await ctx.reply(f"{year} 年还没有收到建议。")
        return
    await ctx.port.send(Target.private(ctx.user_id), [Forward(tuple(texts))])


@schedule.tick("care-greetings", seconds=60)
async def _greetings_tick() -> None:
    await greet.birthday_tick()
    await greet.festival_tick()


@schedule.tick("care-commendations", seconds=60)
async def _commendations_tick() -> None:
    await commend.resend_tick()
    await commend.digest_tick()


@schedule.tick("care-suggestions", seconds=60)
async def _suggestions_tick() -> None:
    await suggest.resend_tick()
    await suggest.summary_tick()
