"""Moderation through NoneBot (nonebug): every command as a person in chat sees it, with the
exact API calls made and not made, and the database after. Plus the service functions on a
recording port for what is tedious through events (rate limits, failures, other processes)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import ActionFailed, Bot, Message, MessageSegment
from nonebug import App
from sqlalchemy import select

from bot import runtime
from bot.org import load_org
from bot.platform import Recall, shared_group, SendFailed, SendUnknown
from plugins.moderation import appeals, decisions, intake, notify, texts
from plugins.moderation.cases import Quoted, stats
from plugins.moderation.index import index
from plugins.moderation.models import ModerationAudit, ModerationCase, ModerationCorpus, ModerationReport
from plugins.moderation.recent import recent
from tests.helpers import group_event, private_event
from tests.fakes import RecordingPort

ORG_FILE = Path(__file__).resolve().parents[2] / "data" / "org_moderation.yaml"
WORKER, WORKER2, MOD, CADRE, SUPER, GMOD = 30001, 30002, 20003, 20002, 10001, 20005
RUMOUR = "听说从下个月开始绩效工资要砍掉一半，年终奖也取消了，人事科已经在做新表了"
FORWARDED = "转发：听说从下个月开始，绩效工资要砍掉一半！年终奖也取消了。人事科已经在做新表了！！！"
DEBUNK = "有人在传：下个月开始绩效工资要砍掉一半，年终奖也取消了。我问了人事科，这是假的！"
OTHER = "内部消息：局里要和隔壁县局合并，一半的人要分流到乡镇站点，名单月底公布"
GOSSIP = "听说三楼会议室下周要改成领导的私人健身房了"
RECALL_TIMEOUT = "Timeout: NTEvent serviceAndMethod:NodeIKernelMsgService/recallMsg ListenerName:NodeIKernelMsgListener/onMsgInfoListUpdate EventRet: {}"
NOT_ADMIN_LINE = "· 消息未能撤回：我没有撤回权限（我不是群管理员，或对方是群主/管理员），请手动处理。"

_mids = itertools.count(900_000)


def msg(s: str) -> Message:
    return Message(MessageSegment.text(s))


def warn(following: str = "", name: str = "张三", what: str = "不实信息") -> str:
    """What the group sees: the author by name, no count and no case number."""
    return f"{name}，你刚才的消息经管理员确认为{what}，请注意言行，不信谣、不传谣。{following}如有异议，可以私聊我申诉。"


def shared(user: int) -> dict[str, int]:
    """The group_id the port adds to a private send (a group the person shares with the bot)."""
    gid = shared_group(str(user))
    return {"group_id": int(gid)} if gid is not None else {}


def to_author(case: int, outcome: str = "已在群里提醒", group: str = "质量科职工群", what: str = "不实信息") -> str:
    return f"你在{group}的一条消息（案件 #{case}）经管理员确认为{what}，{outcome}。如有异议，可以发送：/申诉 {case} 理由"


def author_call(case: int, outcome: str = "已在群里提醒") -> tuple[str, dict[str, Any]]:
    return "send_private_msg", {"user_id": WORKER, **shared(WORKER), "message": msg(to_author(case, outcome))}


def reporter_told(user: int, case: int, *, confirmed: bool = True, group: str = "质量科职工群") -> tuple[str, dict[str, Any]]:
    """The outcome of a report, to the reporter: nothing about the author (no count, penalty or other case)."""
    outcome = "确认违规，已按群规处理。谢谢你！" if confirmed else "不属于违规，没有处理。谢谢你的反映。"
    return "send_private_msg", {"user_id": user, **shared(user), "message": msg(f"你在{group}举报的那条消息（案件 #{case}）经管理员核实，{outcome}")}


def to_mod(text: str) -> tuple[str, dict[str, Any]]:
    """A decision typed in the group: the summary goes to the moderator privately."""
    return "send_private_msg", {"user_id": MOD, **shared(MOD), "message": msg(text)}


def confirmed(
    case: int, n: int, *, recall: str = "· 消息已撤回", learnt: bool = True, who: str = "张三（30001）", step: str = "已在群里提醒",
    clarified: str = "· 已在群里发布辟谣",
) -> str:
    lines = [f"已确认案件 #{case}（不实信息）。", recall, clarified]
    if learnt:
        lines.append("· 已加入谣言库，相似的转发会被自动发现")
    lines.append(f"· {who} 近半年第 {n} 次违规：{step}")
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    index.reset()
    recent.clear()
    yield
    index.reset()
    recent.clear()


@pytest.fixture
def org_moderation() -> Iterator[Any]:
    """The moderation test org (adds group 40003: recall policy, banned 内鬼, ladder [0, 5])."""
    old = runtime.org()
    runtime.set_org(load_org(ORG_FILE))
    index.reset()
    yield runtime.org()
    runtime.set_org(old)
    index.reset()


async def confirm_by_service(port: RecordingPort, text: str, *, author: int = WORKER, group: int = 40001) -> int:
    """A moderator's /谣言 on a message, without going through NoneBot; returns the case id."""
    mid = next(_mids)
    name = runtime.org().display_name(author)
    await intake.flag(port, runtime.org(), str(group), str(MOD), Quoted(str(mid), str(author), name, text), None)
    return await case_of_message(group, mid)


async def case_of_message(group: int, mid: int) -> int:
    from bot.db import session

    async with session() as s:
        return (await s.execute(select(ModerationCase.id).where(ModerationCase.group_id == str(group), ModerationCase.message_id == str(mid)))).scalar_one()


async def rows(db, model, *where):  # type: ignore[no-untyped-def]
    async with db() as s:
        return list((await s.execute(select(model).where(*where).order_by(model.id))).scalars().all())


# --- /谣言 -------------------------------------------------------------------------------


async def test_flag_recalls_clarifies_learns_and_warns(app: App, db) -> None:  # type: ignore[no-untyped-def]
    clarification = notify.clarification(None, RUMOUR)
    assert clarification.startswith("【辟谣】关于“绩效工资减半、年终奖取消”等传言的说明\n")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        rumour = group_event(40001, WORKER, RUMOUR)
        ctx.receive_event(bot, rumour)  # nothing known yet: screened, no API call
        flag = group_event(40001, MOD, "/谣言", reply_to=rumour.message_id)
        ctx.receive_event(bot, flag)
        ctx.should_call_api("delete_msg", {"message_id": rumour.message_id}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(clarification)}, result={"message_id": 1})
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(warn())}, result={"message_id": 2})
        ctx.should_call_api(*author_call(1), result={"message_id": 90})
        ctx.should_call_api(*to_mod(confirmed(1, 1)), result={"message_id": 3})
        # The forwarded copy in another group reaches the moderators (notify policy: no recall).
        copy = group_event(40002, WORKER2, FORWARDED)
        ctx.receive_event(bot, copy)
        notice = "\n".join([
            "【自动发现】案件 #2", "群：办公室群（40002）", "发言人：周六（30002）", f"内容：{FORWARDED}",
            "原因：与已确认的谣言（案件 #1）高度相似", "处理：仅通知管理员，未撤回",
            "确认违规请发送 /确认 2 [说明]，不属于违规请发送 /驳回 2。",
        ])
        ctx.should_call_api("send_private_msg", {"user_id": MOD, "group_id": 40001, "message": msg(notice)}, result={"message_id": 4})

    [case, screened] = await rows(db, ModerationCase)
    assert (case.status, case.source, case.recalled, case.ladder_step, case.mute_seconds) == ("confirmed", "flag", True, 1, 0)
    assert case.decided_by == str(MOD) and case.clarification == clarification and case.text == RUMOUR
    assert (screened.status, screened.source, screened.match_case_id, screened.author_id) == ("open", "screen", 1, str(WORKER2))
    [corpus] = await rows(db, ModerationCorpus)
    assert (corpus.kind, corpus.active, corpus.case_id, corpus.text) == ("rumour", True, 1, RUMOUR)
    audit = await rows(db, ModerationAudit)
    assert [(a.action, a.actor_id, a.case_id) for a in audit] == [
        ("flag", str(MOD), 1), ("confirm", str(MOD), 1), ("recall", str(MOD), 1), ("clarify", str(MOD), 1), ("warn", str(MOD), 1), ("screen", None, 2),
    ]
    assert all(a.snapshot for a in audit) and audit[0].at is not None


async def test_flag_with_a_note_and_a_refused_recall(app: App, db) -> None:  # type: ignore[no-untyped-def]
    note = "工资按原标准发放，人事科已核实。"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        rumour = group_event(40001, WORKER, RUMOUR)
        ctx.receive_event(bot, rumour)
        flag = group_event(40001, MOD, f"/谣言 {note}", reply_to=rumour.message_id)
        ctx.receive_event(bot, flag)
        ctx.should_call_api("delete_msg", {"message_id": rumour.message_id}, exception=ActionFailed(retcode=200, wording="权限不足"))
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(texts.CLARIFY_NOTE.format(note=note))}, result={"message_id": 1})
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(warn())}, result={"message_id": 2})
        ctx.should_call_api(*author_call(1), result={"message_id": 90})
        ctx.should_call_api(*to_mod(confirmed(1, 1, recall=NOT_ADMIN_LINE)), result={"message_id": 3})
    [case] = await rows(db, ModerationCase)
    assert case.recalled is False and case.note == note
    assert "recall_failed" in [a.action for a in await rows(db, ModerationAudit)]


async def test_flag_fetches_the_quoted_message_with_get_msg(app: App, db) -> None:  # type: ignore[no-untyped-def]
    """A message this process never saw: the text comes from get_msg; if that fails too, a
    clear answer and nothing else."""
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        flag = group_event(40001, MOD, "/谣言", reply_to=777)
        ctx.receive_event(bot, flag)
        ctx.should_call_api(
            "get_msg", {"message_id": 777},
            result={"message_id": 777, "sender": {"user_id": WORKER, "nickname": "zs"}, "message": [{"type": "text", "data": {"text": OTHER}}]},
        )
        ctx.should_call_api("delete_msg", {"message_id": 777}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(notify.clarification(None, OTHER))}, result={"message_id": 1})
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(warn())}, result={"message_id": 2})
        ctx.should_call_api(*author_call(1), result={"message_id": 90})
        ctx.should_call_api(*to_mod(confirmed(1, 1)), result={"message_id": 3})
        lost = group_event(40001, MOD, "/谣言", reply_to=778)
        ctx.receive_event(bot, lost)
        ctx.should_call_api("get_msg", {"message_id": 778}, exception=ActionFailed(retcode=100, wording="消息不存在"))
        ctx.should_call_send(lost, msg(texts.QUOTE_NOT_FOUND), result={"message_id": 4})
    [case] = await rows(db, ModerationCase)
    assert case.text == OTHER and case.author_id == str(WORKER) and case.author_name == "张三"


async def test_flag_needs_a_quote_a_group_and_a_moderator(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        bare = group_event(40001, MOD, "/谣言 说明")
        ctx.receive_event(bot, bare)
        ctx.should_call_send(bare, msg("请先回复（引用）要处理的那条消息，再发送 /谣言。"), result={"message_id": 1})
        rumour = group_event(40001, WORKER, RUMOUR)
        ctx.receive_event(bot, rumour)
        by_worker = group_event(40001, WORKER2, "/谣言", reply_to=rumour.message_id)
        ctx.receive_event(bot, by_worker)
        ctx.should_call_send(by_worker, msg("抱歉，/谣言 只有群管理员可以使用。"), result={"message_id": 2})
        in_private = private_event(MOD, "/谣言")
        ctx.receive_event(bot, in_private)
        ctx.should_call_send(in_private, msg("/谣言 请在群里使用。"), result={"message_id": 3})
        ours = group_event(40001, MOD, "/谣言", reply_to=555)
        ctx.receive_event(bot, ours)
        ctx.should_call_api("get_msg", {"message_id": 555}, result={"sender": {"user_id": 10000}, "message": "辟谣"})
        ctx.should_call_send(ours, msg(texts.BOT_MESSAGE), result={"message_id": 4})
    assert await rows(db, ModerationCase) == []


# --- /举报 ---------------------------------------------------------------------------------


async def test_report_reaches_the_moderators_and_thanks_the_reporter(app: App, db) -> None:  # type: ignore[no-untyped-def]
    notice = "\n".join([
        "【举报】案件 #1", "群：质量科职工群（40001）", "发言人：张三（30001）", f"内容：{GOSSIP}", "举报理由：造谣",
        "确认违规请发送 /确认 1 [说明]，不属于违规请发送 /驳回 1。",
    ])
    assert "周六" not in notice and "30002" not in notice  # the reporter is named to no one
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        gossip = group_event(40001, WORKER, GOSSIP)
        ctx.receive_event(bot, gossip)
        # Every /举报 is recalled and answered in private only: nonebug fails on any call not
        # listed, so no send to the group (no thanks, no name, no case number) happens.
        report = group_event(40001, WORKER2, "/举报 造谣", reply_to=gossip.message_id)
        ctx.receive_event(bot, report)
        ctx.should_call_api("delete_msg", {"message_id": report.message_id}, result=None)
        ctx.should_call_api("send_private_msg", {"user_id": MOD, **shared(MOD), "message": msg(notice)}, result={"message_id": 1})
        ctx.should_call_api("send_private_msg", {"user_id": WORKER2, **shared(WORKER2), "message": msg("谢谢你的举报，已转交本群管理员处理（案件 #1），有结果会私聊告诉你。")}, result={"message_id": 2})
        again = group_event(40001, WORKER2, "/举报", reply_to=gossip.message_id)
        ctx.receive_event(bot, again)
        ctx.should_call_api("delete_msg", {"message_id": again.message_id}, result=None)
        ctx.should_call_api("send_private_msg", {"user_id": WORKER2, **shared(WORKER2), "message": msg("你已经举报过这条消息了（案件 #1），管理员会处理。")}, result={"message_id": 3})
        second = group_event(40001, SUPER, "/举报 我也觉得是谣言", reply_to=gossip.message_id)
        ctx.receive_event(bot, second)
        # NapCat forgot the id (or the bot is no admin): still silent in the group.
        ctx.should_call_api("delete_msg", {"message_id": second.message_id}, exception=ActionFailed(status="failed", retcode=1200, message="Recall failed", wording="Recall failed"))
        joined = "谢谢，这条消息已经在处理中（案件 #1），有结果会私聊告诉你。\n群里的那条 /举报 消息我没能撤回，你可以自己撤回它，以免别人看到是谁举报的。"
        ctx.should_call_api("send_private_msg", {"user_id": SUPER, **shared(SUPER), "message": msg(joined)}, result={"message_id": 4})
        own = group_event(40001, WORKER, "/举报", reply_to=gossip.message_id)
        ctx.receive_event(bot, own)
        ctx.should_call_api("delete_msg", {"message_id": own.message_id}, result=None)
        ctx.should_call_api("send_private_msg", {"user_id": WORKER, **shared(WORKER), "message": msg("不能举报自己的消息。")}, result={"message_id": 5})
        bare = group_event(40001, WORKER2, "/举报")
        ctx.receive_event(bot, bare)
        ctx.should_call_api("delete_msg", {"message_id": bare.message_id}, result=None)
        ctx.should_call_api("send_private_msg", {"user_id": WORKER2, **shared(WORKER2), "message": msg("请先回复（引用）要处理的那条消息，再发送 /举报。")}, result={"message_id": 6})
        # QQ did not confirm in time, though the bot is an admin and the reporter a member: it may
        # have worked, so the reporter is asked to look, not told it failed.
        slow = group_event(40001, WORKER2, "/举报")
        ctx.receive_event(bot, slow)
        ctx.should_call_api("delete_msg", {"message_id": slow.message_id}, exception=ActionFailed(status="failed", retcode=1200, message=RECALL_TIMEOUT))
        ctx.should_call_api("get_group_member_info", {"group_id": 40001, "user_id": 10000, "no_cache": True}, result={"role": "admin"})
        ctx.should_call_api("get_group_member_info", {"group_id": 40001, "user_id": WORKER2, "no_cache": True}, result={"role": "member"})
        ctx.should_call_api("send_private_msg", {"user_id": WORKER2, **shared(WORKER2), "message": msg("请先回复（引用）要处理的那条消息，再发送 /举报。")}, result={"message_id": 7})
        ctx.should_call_api("send_private_msg", {"user_id": WORKER2, **shared(WORKER2), "message": msg(texts.REPORT_MAYBE_RECALLED)}, result={"message_id": 8})
    [case] = await rows(db, ModerationCase)
    assert (case.status, case.source, case.reports, case.recalled, case.opened_by) == ("open", "report", 2, False, str(WORKER2))
    assert [(r.reporter_id, r.reason) for r in await rows(db, ModerationReport)] == [(str(WORKER2), "造谣"), (str(SUPER), "我也觉得是谣言")]
    assert [(a.action, a.actor_id, a.reason) for a in await rows(db, ModerationAudit)] == [("report", str(WORKER2), "造谣"), ("report", str(SUPER), "我也觉得是谣言")]


async def test_reports_are_rate_limited(db) -> None:  # type: ignore[no-untyped-def]
    port = RecordingPort()
    org = runtime.org()
    for i in range(5):
        quoted = Quoted(str(next(_mids)), str(WORKER), "张三", f"{GOSSIP}{i}")
        assert await intake.report(port, org, "40001", str(WORKER2), quoted, None) == texts.REPORT_THANKS.format(id=i + 1)
    quoted = Quoted(str(next(_mids)), str(WORKER), "张三", "第六条")
    assert await intake.report(port, org, "40001", str(WORKER2), quoted, None) == texts.REPORT_LIMIT
    assert len(await rows(db, ModerationCase)) == 5
    # Someone else may still report.
    assert await intake.report(port, org, "40001", str(SUPER), quoted, None) == texts.REPORT_THANKS.format(id=6)
    assert [c for c in port.calls if c[0] == "recall"] == []


# --- /确认 and /驳回 ------------------------------------------------------------------------


async def test_confirm_a_report_in_private_chat(app: App, db) -> None:  # type: ignore[no-untyped-def]
    port = RecordingPort()
    mid = next(_mids)
    await intake.report(port, runtime.org(), "40001", str(WORKER2), Quoted(str(mid), str(WORKER), "张三", OTHER), "假消息")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        by_worker = private_event(WORKER2, "/确认 1")
        ctx.receive_event(bot, by_worker)
        ctx.should_call_send(by_worker, msg("抱歉，案件 #1 只有该群的管理员可以处理。"), result={"message_id": 1})
        ok = private_event(MOD, "/确认 ＃１")
        ctx.receive_event(bot, ok)
        ctx.should_call_api("delete_msg", {"message_id": mid}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(notify.clarification(None, OTHER))}, result={"message_id": 2})
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(warn())}, result={"message_id": 3})
        ctx.should_call_api(*author_call(1), result={"message_id": 90})
        ctx.should_call_api(*reporter_told(WORKER2, 1), result={"message_id": 91})
        ctx.should_call_send(ok, msg(confirmed(1, 1)), result={"message_id": 4})
        twice = group_event(40001, MOD, "/确认 1")
        ctx.receive_event(bot, twice)
        ctx.should_call_api(*to_mod("案件 #1 已经确认过了。"), result={"message_id": 5})
        for text, answer in [
            ("/确认", "请写上案件号，例如：/确认 12"),
            ("/确认 第一个", "请写上案件号，例如：/确认 12"),
            ("/确认 99", "没有找到案件 #99。"),
            ("/驳回 1", "抱歉，案件 #1 只有该群的管理员可以处理。"),
        ]:
            event = private_event(WORKER2, text)
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, msg(answer), result={"message_id": 6})
    [case] = await rows(db, ModerationCase)
    assert (case.status, case.decided_by, case.source) == ("confirmed", str(MOD), "report")


async def test_dismissal_stops_the_same_text_being_flagged_again(app: App, db) -> None:  # type: ignore[no-untyped-def]
    await confirm_by_service(RecordingPort(), RUMOUR)  # case 1
    flagged = "\n".join([
        "【自动发现】案件 #2", "群：质量科职工群（40001）", "发言人：周六（30002）", f"内容：{DEBUNK}",
        "原因：与已确认的谣言（案件 #1）高度相似", "处理：仅通知管理员，未撤回",
        "确认违规请发送 /确认 2 [说明]，不属于违规请发送 /驳回 2。",
    ])
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        debunk = group_event(40001, WORKER2, DEBUNK)
        ctx.receive_event(bot, debunk)
        ctx.should_call_api("send_private_msg", {"user_id": MOD, "group_id": 40001, "message": msg(flagged)}, result={"message_id": 1})
        dismiss = group_event(40001, MOD, "/驳回 2")
        ctx.receive_event(bot, dismiss)
        ctx.should_call_api(*to_mod("已驳回案件 #2：不属于违规。相同的内容今后不会再被自动标记。"), result={"message_id": 2})
        ctx.receive_event(bot, group_event(40001, WORKER2, DEBUNK))  # no API call at all
        ctx.receive_event(bot, group_event(40002, WORKER, "【转】" + DEBUNK))
        again = group_event(40001, MOD, "/驳回 2")
        ctx.receive_event(bot, again)
        ctx.should_call_api(*to_mod("案件 #2 已经驳回过了。"), result={"message_id": 3})
    cases = await rows(db, ModerationCase)
    assert [(c.id, c.status) for c in cases] == [(1, "confirmed"), (2, "dismissed")]
    corpus = await rows(db, ModerationCorpus)
    assert [(c.kind, c.case_id, c.active) for c in corpus] == [("rumour", 1, True), ("innocent", 2, True)]
    # The rumour itself is still caught.
    screener = await index.get()
    assert screener is not None and screener.screen(FORWARDED) is not None


async def test_the_ladder_warns_twice_then_mutes(app: App, db) -> None:  # type: ignore[no-untyped-def]
    port = RecordingPort()
    await confirm_by_service(port, RUMOUR)
    await confirm_by_service(port, OTHER, group=40002)  # the count is per person, across groups
    assert port.sent("group")[-1][3] == warn("再有违规将被禁言 10 分钟。")
    assert [c for c in port.calls if c[0] == "mute"] == []
    third = "据可靠消息，明年工资改革以后，基层站所的人每个月要少拿一千五左右"
    mute = "张三，你刚才的消息经管理员确认为不实信息，按群规禁言 10 分钟。如有异议，可以私聊我申诉。"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        rumour = group_event(40001, WORKER, third)
        ctx.receive_event(bot, rumour)
        flag = group_event(40001, MOD, "/谣言", reply_to=rumour.message_id)
        ctx.receive_event(bot, flag)
        ctx.should_call_api("delete_msg", {"message_id": rumour.message_id}, result=None)
        # The same official clarification (on pay) went to this group minutes ago: not again.
        ctx.should_call_api("set_group_ban", {"group_id": 40001, "user_id": WORKER, "duration": 600}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(mute)}, result={"message_id": 2})
        ctx.should_call_api(*author_call(3, "已禁言 10 分钟"), result={"message_id": 90})
        ctx.should_call_api(*to_mod(confirmed(3, 3, step="已禁言 10 分钟", clarified="· 群里不久前已发过同样的辟谣，这次没有重复发")), result={"message_id": 3})
    case = (await rows(db, ModerationCase, ModerationCase.id == 3))[0]
    assert (case.ladder_step, case.mute_seconds) == (3, 600)
    assert notify.clarification(None, third) == notify.clarification(None, RUMOUR)
    assert [a.action for a in await rows(db, ModerationAudit, ModerationAudit.case_id == 3)] == ["flag", "confirm", "recall", "mute"]


async def test_a_refused_mute_is_reported_to_the_moderator(db) -> None:  # type: ignore[no-untyped-def]
    port = RecordingPort(mute_ok=False)
    for text in (RUMOUR, OTHER):
        await confirm_by_service(port, text)
    mid = next(_mids)
    lines = await intake.flag(port, runtime.org(), "40001", str(MOD), Quoted(str(mid), str(WORKER), "张三", "明年开始编外人员全部清退，合同到期一律不续签"), None)
    assert lines[-1] == "· 张三（30001） 近半年第 3 次违规：禁言 10 分钟 未成功（我可能不是群管理员，或对方是群主/管理员），请手动处理"
    assert ("mute", "40001", str(WORKER), 600) in port.calls
    assert "mute_failed" in [a.action for a in await rows(db, ModerationAudit)]


# --- /申诉 ----------------------------------------------------------------------------------


async def test_appeal_goes_to_cadres_who_revoke_or_keep_with_clear_verbs(app: App, db) -> None:  # type: ignore[no-untyped-def]
    port = RecordingPort()
    first = await confirm_by_service(port, RUMOUR)
    second = await confirm_by_service(port, OTHER)
    reason = "我转的是别的群里的，不知道是假的"
    notice = "\n".join([
        "【申诉】案件 #1", "群：质量科职工群（40001）", "当事人：张三（30001）", f"原消息：{RUMOUR}",
        "处理：不实信息，近半年第 1 次违规，已提醒", f"申诉理由：{reason}",
        "撤销处理请发送 /撤销 1 说明；维持原处理请发送 /维持 1 说明。说明会转告申诉人。",
    ])
    hint = "案件 #1 在等申诉复核：撤销处理请发送 /撤销 1 说明，维持原处理请发送 /维持 1 说明（说明会转告申诉人）。"
    revoke_note = "经核实你是转发时不知情，这次不算违规。"
    keep_note = "这条消息你是原创的，不属于转发。"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        not_mine = private_event(WORKER2, f"/申诉 {first} 不服")
        ctx.receive_event(bot, not_mine)
        ctx.should_call_send(not_mine, msg("只有被处理的本人可以对案件 #1 申诉。"), result={"message_id": 1})
        no_reason = private_event(WORKER, f"/申诉 {first}")
        ctx.receive_event(bot, no_reason)
        ctx.should_call_send(no_reason, msg(texts.APPEAL_USAGE), result={"message_id": 2})
        appeal = private_event(WORKER, f"/申诉 {first} {reason}")
        ctx.receive_event(bot, appeal)
        ctx.should_call_api("send_private_msg", {"user_id": CADRE, "group_id": 40001, "message": msg(notice)}, result={"message_id": 3})
        ctx.should_call_send(appeal, msg("申诉已收到，政工干部会复核案件 #1，结果会私聊告诉你。"), result={"message_id": 4})
        twice = group_event(40001, WORKER, f"/申诉 {first} 再说一次")
        ctx.receive_event(bot, twice)
        ctx.should_call_send(twice, msg("你已经对案件 #1 提出过申诉，请耐心等待复核。"), result={"message_id": 5})
        moderator = private_event(MOD, f"/撤销 {first}")
        ctx.receive_event(bot, moderator)
        ctx.should_call_send(moderator, msg("案件 #1 有待复核的申诉，由政工干部处理。"), result={"message_id": 6})
        # The trap: "/驳回 1" (reject... the appeal? the penalty?) and "/确认 1" change nothing,
        # and name the verbs that cannot be misread. nonebug fails on any other call.
        for old in ("/驳回", "/确认"):
            guess = private_event(CADRE, f"{old} {first} 申诉成立")
            ctx.receive_event(bot, guess)
            ctx.should_call_send(guess, msg(hint), result={"message_id": 7})
        listing = private_event(CADRE, "/案件")
        ctx.receive_event(bot, listing)
        ctx.should_call_send(listing, msg("\n".join([
            "目前没有待处理的案件。",
            "等待复核的申诉：",
            f"#1 质量科职工群 张三（不实信息）申诉：{reason}",
            "撤销处理：/撤销 案件号 说明；维持原处理：/维持 案件号 说明；说明会转告申诉人",
        ])), result={"message_id": 8})
        revoke = private_event(CADRE, f"/撤销 {first} {revoke_note}")
        ctx.receive_event(bot, revoke)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg("张三，经复核，之前对你那条消息的处理已撤销，不计入违规记录。给你带来不便，请谅解。")}, result={"message_id": 9})
        ctx.should_call_api(
            "send_private_msg",
            {"user_id": WORKER, **shared(WORKER), "message": msg(f"你对案件 #1 的申诉经复核已撤销原处理，不计入违规记录。\n复核说明：{revoke_note}")},
            result={"message_id": 10},
        )
        ctx.should_call_send(revoke, msg("已撤销案件 #1 的处理：不计入发言人的违规次数，内容已移出谣言库，并已在群里告知发言人。已私聊告诉发言人，并转告了你的说明。"), result={"message_id": 11})
        # The second case: appealed, and the cadre keeps it, with a word for the author.
        appeal2 = private_event(WORKER, f"/申诉 {second} 也不服")
        ctx.receive_event(bot, appeal2)
        ctx.should_call_api("send_private_msg", {"user_id": CADRE, "group_id": 40001, "message": _Contains("【申诉】案件 #2")}, result={"message_id": 12})
        ctx.should_call_send(appeal2, msg("申诉已收到，政工干部会复核案件 #2，结果会私聊告诉你。"), result={"message_id": 13})
        keep = private_event(CADRE, f"/维持 {second} {keep_note}")
        ctx.receive_event(bot, keep)
        ctx.should_call_api(
            "send_private_msg",
            {"user_id": WORKER, "group_id": 40001, "message": msg(f"你对案件 #2 的申诉经复核，维持原处理。如有疑问，可以找政工干部当面沟通。\n复核说明：{keep_note}")},
            result={"message_id": 14},
        )
        ctx.should_call_send(keep, msg("已维持案件 #2 的处理，并已把你的说明转告申诉人。"), result={"message_id": 15})
        for text, answer in [
            (f"/维持 {second}", "案件 #2 的申诉已经复核过了（维持原处理）。"),
            (f"/维持 {first}", "案件 #1 的申诉已经复核过了（已撤销处理）。"),
            (f"/撤销 {first}", "案件 #1 没有认定违规，不需要撤销。"),
        ]:
            event = private_event(CADRE, text)
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, msg(answer), result={"message_id": 16})
        redo = private_event(MOD, f"/确认 {first}")
        ctx.receive_event(bot, redo)
        ctx.should_call_send(redo, msg("案件 #1 已经驳回过了。"), result={"message_id": 17})
        open_case = private_event(WORKER, "/申诉 1 又来")
        ctx.receive_event(bot, open_case)
        ctx.should_call_send(open_case, msg("案件 #1 没有认定违规，不需要申诉。"), result={"message_id": 18})
        detail = private_event(CADRE, "/案件 1")
        ctx.receive_event(bot, detail)
        ctx.should_call_send(detail, _Contains(f"李四 撤销处理：{revoke_note}"), result={"message_id": 19})
    one, two = await rows(db, ModerationCase)
    assert (one.status, one.appeal, one.appeal_result, one.decided_by) == ("dismissed", reason, "overturned", str(CADRE))
    assert (two.status, two.appeal_result) == ("confirmed", "upheld")
    assert [(a.action, a.reason) for a in await rows(db, ModerationAudit, ModerationAudit.case_id == 2) if a.action == "uphold"] == [("uphold", keep_note)]
    corpus = await rows(db, ModerationCorpus, ModerationCorpus.case_id == 1)
    assert [(c.kind, c.active) for c in corpus] == [("rumour", False), ("innocent", True)]
    screener = await index.get()
    assert screener is not None and screener.screen(FORWARDED) is None  # no longer a rumour
    # Overturned cases leave the ladder: the next confirmation is the 2nd, not the 3rd.
    port = RecordingPort()
    third = await confirm_by_service(port, "明年开始编外人员全部清退，合同到期一律不续签")
    assert (await rows(db, ModerationCase, ModerationCase.id == third))[0].ladder_step == 2


async def test_a_moderator_revokes_with_the_revoke_verb_and_the_author_hears_why(app: App, db) -> None:  # type: ignore[no-untyped-def]
    """No appeal: the group's moderator changes their mind. /驳回 on a confirmed case changes
    nothing and points to /撤销; /撤销 tells the group (no id) and the author (with the note)."""
    first = await confirm_by_service(RecordingPort(), RUMOUR)
    note = "我看错了，是转发的正式通知。"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        old = private_event(MOD, f"/驳回 {first}")
        ctx.receive_event(bot, old)
        ctx.should_call_send(old, msg("案件 #1 已确认违规。如要撤销处理，请发送 /撤销 1 说明。"), result={"message_id": 1})
        nobody = private_event(WORKER2, f"/撤销 {first}")
        ctx.receive_event(bot, nobody)
        ctx.should_call_send(nobody, msg("抱歉，案件 #1 只有该群的管理员可以处理。"), result={"message_id": 2})
        keep = private_event(MOD, f"/维持 {first}")
        ctx.receive_event(bot, keep)
        ctx.should_call_send(keep, msg("案件 #1 没有待复核的申诉。"), result={"message_id": 3})
        revoke = group_event(40001, MOD, f"/撤销 {first} {note}")
        ctx.receive_event(bot, revoke)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg("张三，经复核，之前对你那条消息的处理已撤销，不计入违规记录。给你带来不便，请谅解。")}, result={"message_id": 4})
        ctx.should_call_api(
            "send_private_msg",
            {"user_id": WORKER, **shared(WORKER), "message": msg(f"你在质量科职工群的那条消息（案件 #1）经复核已撤销处理，不计入违规记录。\n复核说明：{note}")},
            result={"message_id": 5},
        )
        ctx.should_call_api(*to_mod("已撤销案件 #1 的处理：不计入发言人的违规次数，内容已移出谣言库，并已在群里告知发言人。已私聊告诉发言人，并转告了你的说明。"), result={"message_id": 6})
        still_open = private_event(MOD, "/撤销 99")
        ctx.receive_event(bot, still_open)
        ctx.should_call_send(still_open, msg("没有找到案件 #99。"), result={"message_id": 7})
    [case] = await rows(db, ModerationCase)
    assert (case.status, case.appeal_result, case.decided_by) == ("dismissed", None, str(MOD))


class _Contains:
    def __init__(self, part: str) -> None:
        self.part = part

    def __eq__(self, other: object) -> bool:
        return self.part in str(other)


# --- screening policies ----------------------------------------------------------------------


async def test_recall_policy_group_and_its_banned_phrase(app: App, db, org_moderation) -> None:  # type: ignore[no-untyped-def]
    await confirm_by_service(RecordingPort(), RUMOUR)
    [case] = await rows(db, ModerationCase)
    clarification = case.clarification
    assert clarification and clarification.startswith("【辟谣】")
    copy_notice = "\n".join([
        "【自动发现】案件 #2", "群：青年职工群（40003）", "发言人：周六（30002）", f"内容：{FORWARDED}",
        "原因：与已确认的谣言（案件 #1）高度相似", "处理：已按本群规则撤回",
        "确认违规请发送 /确认 2 [说明]，不属于违规请发送 /驳回 2。",
    ])
    phrase_notice = "\n".join([
        "【自动发现】案件 #3", "群：青年职工群（40003）", "发言人：周六（30002）", "内容：咱们科有内鬼，大家小心",
        "原因：含有本群禁用语“内鬼”", "处理：按本群规则应撤回，但未成功：消息未能撤回：我没有撤回权限（我不是群管理员，或对方是群主/管理员），请手动处理。",
        "确认违规请发送 /确认 3 [说明]，不属于违规请发送 /驳回 3。",
    ])
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        copy = group_event(40003, WORKER2, FORWARDED)
        ctx.receive_event(bot, copy)
        ctx.should_call_api("delete_msg", {"message_id": copy.message_id}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40003, "message": msg(clarification)}, result={"message_id": 1})
        ctx.should_call_api("send_private_msg", {"user_id": GMOD, "group_id": 40002, "message": msg(copy_notice)}, result={"message_id": 2})
        ctx.should_call_api("send_private_msg", {"user_id": MOD, "group_id": 40001, "message": msg(copy_notice)}, result={"message_id": 3})
        phrase = group_event(40003, WORKER2, "咱们科有内鬼，大家小心")
        ctx.receive_event(bot, phrase)
        ctx.should_call_api("delete_msg", {"message_id": phrase.message_id}, exception=ActionFailed(retcode=200))
        ctx.should_call_api("send_private_msg", {"user_id": GMOD, "group_id": 40002, "message": msg(phrase_notice)}, result={"message_id": 4})
        ctx.should_call_api("send_private_msg", {"user_id": MOD, "group_id": 40001, "message": msg(phrase_notice)}, result={"message_id": 5})
        ctx.receive_event(bot, group_event(40001, WORKER2, "咱们科有内鬼，大家小心"))  # not banned in 40001
        # A group's own moderator decides its cases in private chat; not another group's.
        other_group = private_event(GMOD, "/确认 1")
        ctx.receive_event(bot, other_group)
        ctx.should_call_send(other_group, msg("抱歉，案件 #1 只有该群的管理员可以处理。"), result={"message_id": 6})
        mine = private_event(GMOD, "/驳回 2")
        ctx.receive_event(bot, mine)
        ctx.should_call_send(mine, msg("已驳回案件 #2：不属于违规。相同的内容今后不会再被自动标记。\n该消息此前已按本群规则自动撤回，如有需要请告知发言人重新发送。"), result={"message_id": 7})
    cases = await rows(db, ModerationCase)
    assert [(c.id, c.group_id, c.category, c.recalled, c.status) for c in cases] == [
        (1, "40001", "rumour", True, "confirmed"), (2, "40003", "rumour", True, "dismissed"), (3, "40003", "banned", False, "open"),
    ]
    assert [a.action for a in await rows(db, ModerationAudit, ModerationAudit.case_id == 2)] == ["screen", "auto_recall", "clarify", "dismiss"]


async def test_abusive_phrase_confirmed_gets_no_clarification(app: App, db) -> None:  # type: ignore[no-untyped-def]
    abuse = "你个傻逼，懂什么"
    flagged = "\n".join([
        "【自动发现】案件 #1", "群：质量科职工群（40001）", "发言人：张三（30001）", f"内容：{abuse}",
        "原因：含有不文明言论“傻逼”", "处理：仅通知管理员，未撤回",
        "确认违规请发送 /确认 1 [说明]，不属于违规请发送 /驳回 1。",
    ])
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        event = group_event(40001, WORKER, abuse)
        ctx.receive_event(bot, event)
        ctx.should_call_api("send_private_msg", {"user_id": MOD, "group_id": 40001, "message": msg(flagged)}, result={"message_id": 1})
        ok = private_event(MOD, "/确认 1")
        ctx.receive_event(bot, ok)
        ctx.should_call_api("delete_msg", {"message_id": event.message_id}, result=None)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": 40001, "message": msg(warn(what="不文明言论"))},
            result={"message_id": 2},
        )
        ctx.should_call_api("send_private_msg", {"user_id": WORKER, **shared(WORKER), "message": msg(to_author(1, what="不文明言论"))}, result={"message_id": 90})
        ctx.should_call_send(ok, msg("已确认案件 #1（不文明言论）。\n· 消息已撤回\n· 张三（30001） 近半年第 1 次违规：已在群里提醒"), result={"message_id": 3})
    assert await rows(db, ModerationCorpus) == []


async def test_trusted_people_and_unknown_groups_are_not_screened(app: App, db) -> None:  # type: ignore[no-untyped-def]
    await confirm_by_service(RecordingPort(), RUMOUR)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        for user, group in [(MOD, 40001), (CADRE, 40002), (SUPER, 40001), (WORKER, 49999)]:
            ctx.receive_event(bot, group_event(group, user, FORWARDED))
        ctx.receive_event(bot, group_event(40001, WORKER, "收到"))
        ctx.receive_event(bot, group_event(40001, WORKER, "今天食堂的红烧肉不错"))
    assert len(await rows(db, ModerationCase)) == 1


# --- what the reporter hears -------------------------------------------------------------


async def test_reporters_learn_the_outcome_and_nothing_about_the_author(app: App, db) -> None:  # type: ignore[no-untyped-def]
    """Two reports on a message of someone with two earlier violations: the 3rd means a mute.
    Each reporter hears "confirmed" in private: no mute, no count, no other case. A dismissed
    report is answered too. A later change of mind is not announced again."""
    port = RecordingPort()
    await confirm_by_service(port, OTHER)
    await confirm_by_service(port, "明年开始编外人员全部清退，合同到期一律不续签")
    gossip_mid, small_mid = next(_mids), next(_mids)
    org = runtime.org()
    await intake.report(port, org, "40001", str(WORKER2), Quoted(str(gossip_mid), str(WORKER), "张三", GOSSIP), "造谣")
    await intake.report(port, org, "40001", str(SUPER), Quoted(str(gossip_mid), str(WORKER), "张三", GOSSIP), None)
    await intake.report(port, org, "40001", str(WORKER2), Quoted(str(small_mid), str(WORKER), "张三", "食堂今天好像没开门"), None)
    # Case ids from the database: PostgreSQL spends a sequence value on the second report's
    # ignored insert.
    gossip, small = await case_of_message(40001, gossip_mid), await case_of_message(40001, small_mid)
    mute = "张三，你刚才的消息经管理员确认为不实信息，按群规禁言 10 分钟。如有异议，可以私聊我申诉。"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ok = private_event(MOD, f"/确认 {gossip}")
        ctx.receive_event(bot, ok)
        ctx.should_call_api("delete_msg", {"message_id": gossip_mid}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(notify.clarification(None, GOSSIP))}, result={"message_id": 1})
        ctx.should_call_api("set_group_ban", {"group_id": 40001, "user_id": WORKER, "duration": 600}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(mute)}, result={"message_id": 2})
        ctx.should_call_api(*author_call(gossip, "已禁言 10 分钟"), result={"message_id": 3})
        ctx.should_call_api(*reporter_told(WORKER2, gossip), result={"message_id": 4})
        ctx.should_call_api(*reporter_told(SUPER, gossip), result={"message_id": 5})
        ctx.should_call_send(ok, _Contains("近半年第 3 次违规"), result={"message_id": 6})
        no = group_event(40001, MOD, f"/驳回 {small}")
        ctx.receive_event(bot, no)
        ctx.should_call_api(*reporter_told(WORKER2, small, confirmed=False), result={"message_id": 7})
        ctx.should_call_api(*to_mod(f"已驳回案件 #{small}：不属于违规。相同的内容今后不会再被自动标记。"), result={"message_id": 8})
        # The moderator changes their mind: the reporter was told once, that stands.
        again = private_event(MOD, f"/确认 {small}")
        ctx.receive_event(bot, again)
        ctx.should_call_api("delete_msg", {"message_id": small_mid}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(texts.CLARIFY_GENERIC)}, result={"message_id": 9})
        ctx.should_call_api("set_group_ban", {"group_id": 40001, "user_id": WORKER, "duration": 3600}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": _Contains("禁言 1 小时")}, result={"message_id": 10})
        ctx.should_call_api(*author_call(small, "已禁言 1 小时"), result={"message_id": 11})
        ctx.should_call_send(again, _Contains(f"已确认案件 #{small}"), result={"message_id": 12})
    told = [texts.REPORT_CONFIRMED, texts.REPORT_DISMISSED]
    assert not any(word in t for t in told for word in ("次", "禁言", "张三", "30001", "提醒"))


# --- fraud: a question, not a violation --------------------------------------------------------


ASKING = "有人私聊我说点击链接领取补贴，这是不是骗子啊？"


async def test_a_fraud_hit_offers_a_reminder_to_the_whole_group_without_a_violation(app: App, db) -> None:  # type: ignore[no-untyped-def]
    def flagged(case: int, text: str, who: str = "张三（30001）") -> str:
        return "\n".join([
            f"【自动发现】案件 #{case}", "群：质量科职工群（40001）", f"发言人：{who}", f"内容：{text}",
            "原因：含有疑似诈骗信息“点击链接领取”", "处理：仅通知管理员，未撤回",
            f"确认违规请发送 /确认 {case} [说明]，不属于违规请发送 /驳回 {case}。",
            f"如果发言人是在问“这是不是骗局”，请发送 /防骗 {case}：我在群里提醒全群防骗，不算发言人违规。",
        ])

    await intake.report(RecordingPort(), runtime.org(), "40001", str(WORKER2), Quoted(str(next(_mids)), str(WORKER), "张三", GOSSIP), None)  # case 1
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        question = group_event(40001, WORKER, ASKING)
        ctx.receive_event(bot, question)
        ctx.should_call_api("send_private_msg", {"user_id": MOD, "group_id": 40001, "message": msg(flagged(2, ASKING))}, result={"message_id": 1})
        for text, answer in [
            ("/防骗", "请写上案件号，例如：/防骗 12"),
            ("/防骗 1", "案件 #1 不是疑似诈骗信息。确认违规请发送 /确认 1，不属于违规请发送 /驳回 1。"),
        ]:
            event = private_event(MOD, text)
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, msg(answer), result={"message_id": 2})
        worker = private_event(WORKER2, "/防骗 2")
        ctx.receive_event(bot, worker)
        ctx.should_call_send(worker, msg("抱歉，案件 #2 只有该群的管理员可以处理。"), result={"message_id": 3})
        remind = private_event(MOD, "/防骗 2")
        ctx.receive_event(bot, remind)
        # One message to the group, naming nobody; the author's message stays (no delete_msg).
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(texts.FRAUD_REMINDER)}, result={"message_id": 4})
        ctx.should_call_send(remind, msg("已在群里提醒全群防骗；案件 #2 按不违规结案，不计入发言人的违规次数。"), result={"message_id": 5})
        # Someone else asks the same an hour later at most: closed too, the group not told twice.
        other = group_event(40001, WORKER2, "点击链接领取补贴那个是真的假的")
        ctx.receive_event(bot, other)
        ctx.should_call_api("send_private_msg", {"user_id": MOD, "group_id": 40001, "message": msg(flagged(3, "点击链接领取补贴那个是真的假的", "周六（30002）"))}, result={"message_id": 6})
        again = group_event(40001, MOD, "/防骗 3")
        ctx.receive_event(bot, again)
        ctx.should_call_api(*to_mod("群里 1 小时内已经发过防骗提醒，这次没有重复发；案件 #3 按不违规结案，不计入发言人的违规次数。"), result={"message_id": 7})
        done = private_event(MOD, "/确认 2")  # decided: /确认 reverses it, as for any dismissal
        ctx.receive_event(bot, done)
        ctx.should_call_api("delete_msg", {"message_id": question.message_id}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": _Contains("【辟谣】")}, result={"message_id": 8})
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(warn("", what="疑似诈骗信息"))}, result={"message_id": 9})
        ctx.should_call_api("send_private_msg", {"user_id": WORKER, **shared(WORKER), "message": msg(to_author(2, what="疑似诈骗信息"))}, result={"message_id": 10})
        ctx.should_call_send(done, _Contains("近半年第 1 次违规"), result={"message_id": 11})  # the reminder counted nothing
    cases = await rows(db, ModerationCase)
    assert [(c.id, c.status, c.category) for c in cases] == [(1, "open", "rumour"), (2, "confirmed", "fraud"), (3, "dismissed", "fraud")]
    assert cases[2].ladder_step is None
    audit = await rows(db, ModerationAudit, ModerationAudit.action == "fraud_reminder")
    assert [(a.case_id, a.actor_id, a.group_id) for a in audit] == [(2, str(MOD), "40001")]


async def test_a_fraud_reminder_that_did_not_go_out_can_be_sent_again(db) -> None:  # type: ignore[no-untyped-def]
    screener = await index.get()
    assert screener is not None
    hit = screener.screen(ASKING, "40001")
    assert hit is not None and hit.category == "fraud"
    case = await intake.on_hit(RecordingPort(), runtime.org(), "40001", str(next(_mids)), str(WORKER), None, hit)
    assert case == 1
    down = RecordingPort(send_error=SendFailed("no"))
    assert await decisions.fraud_reminder(down, runtime.org(), 1, str(MOD)) == [texts.FRAUD_FAILED.format(id=1)]
    up = RecordingPort()
    assert await decisions.fraud_reminder(up, runtime.org(), 1, str(MOD)) == ["已在群里提醒全群防骗。"]
    assert up.sent("group") == [("send", "group", "40001", texts.FRAUD_REMINDER)]
    assert (await rows(db, ModerationCase))[0].status == "dismissed"


# --- clarifications as the group reads them --------------------------------------------------


async def test_a_note_that_says_it_already_gets_no_closing_line_and_a_long_one_is_refused(app: App, db) -> None:  # type: ignore[no-untyped-def]
    note = "工资按原标准发放，人事科已核实。请大家不信谣、不传谣。"
    long_note = "工资按原标准发放。" * 120  # 1,080 characters
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        rumour = group_event(40001, WORKER, RUMOUR)
        ctx.receive_event(bot, rumour)
        too_long = group_event(40001, MOD, f"/谣言 {long_note}", reply_to=rumour.message_id)
        ctx.receive_event(bot, too_long)
        ctx.should_call_api(*to_mod("说明太长了（最多 1000 字），请精简后再发。这次什么都没有做。"), result={"message_id": 1})
        flag = group_event(40001, MOD, f"/谣言 {note}", reply_to=rumour.message_id)
        ctx.receive_event(bot, flag)
        ctx.should_call_api("delete_msg", {"message_id": rumour.message_id}, result=None)
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(f"【辟谣】群里刚才的一条消息经管理员核实不属实。\n{note}")}, result={"message_id": 2})
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(warn())}, result={"message_id": 3})
        ctx.should_call_api(*author_call(1), result={"message_id": 4})
        ctx.should_call_api(*to_mod(confirmed(1, 1)), result={"message_id": 5})
    [case] = await rows(db, ModerationCase)
    assert case.note == note


async def test_copies_in_a_recall_group_bring_one_clarification(app: App, db, org_moderation) -> None:  # type: ignore[no-untyped-def]
    """Three forwards of a confirmed rumour within minutes: each is recalled, the group reads
    the clarification once; confirming one of them later does not post it again either."""
    await confirm_by_service(RecordingPort(), RUMOUR)
    [case] = await rows(db, ModerationCase)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        for n, user in enumerate((WORKER2, WORKER, WORKER2)):
            copy = group_event(40003, user, FORWARDED if n != 1 else "【转】" + RUMOUR)
            ctx.receive_event(bot, copy)
            ctx.should_call_api("delete_msg", {"message_id": copy.message_id}, result=None)
            if n == 0:
                ctx.should_call_api("send_group_msg", {"group_id": 40003, "message": msg(case.clarification)}, result={"message_id": 1})
            done = "已按本群规则撤回" if n == 0 else "已按本群规则撤回（群里不久前发过同样的辟谣，没有重复发）"
            ctx.should_call_api("send_private_msg", {"user_id": GMOD, "group_id": 40002, "message": _Contains(f"处理：{done}\n")}, result={"message_id": 2})
            ctx.should_call_api("send_private_msg", {"user_id": MOD, "group_id": 40001, "message": _Contains(f"处理：{done}\n")}, result={"message_id": 3})
        ok = private_event(GMOD, "/确认 2")
        ctx.receive_event(bot, ok)
        ctx.should_call_api("send_group_msg", {"group_id": 40003, "message": msg(warn("再有违规将被禁言 5 分钟。", name="周六"))}, result={"message_id": 4})
        ctx.should_call_api("send_private_msg", {"user_id": WORKER2, **shared(WORKER2), "message": _Contains("案件 #2")}, result={"message_id": 5})
        ctx.should_call_send(ok, _Contains("· 群里不久前已发过同样的辟谣，这次没有重复发"), result={"message_id": 6})
    clarified = [a.case_id for a in await rows(db, ModerationAudit, ModerationAudit.action == "clarify", ModerationAudit.group_id == "40003")]
    assert clarified == [2]
    assert (await rows(db, ModerationCase, ModerationCase.id == 2))[0].clarification == case.clarification


# --- /案件 ---------------------------------------------------------------------------------


async def test_cases_overview_for_moderators_only(app: App, db) -> None:  # type: ignore[no-untyped-def]
    port = RecordingPort()
    await intake.report(port, runtime.org(), "40001", str(WORKER2), Quoted(str(next(_mids)), str(WORKER), "张三", GOSSIP), "造谣")
    await confirm_by_service(port, RUMOUR)
    listing = "\n".join([
        "待处理的案件：",
        f"#1 质量科职工群 张三（群成员举报）：{GOSSIP}",
        "确认：/确认 案件号；驳回：/驳回 案件号；详情：/案件 案件号",
    ])
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        mine = private_event(MOD, "/案件")
        ctx.receive_event(bot, mine)
        ctx.should_call_send(mine, msg(listing), result={"message_id": 1})
        detail = private_event(CADRE, "/案件 2")
        ctx.receive_event(bot, detail)
        ctx.should_call_send(detail, _Detail(), result={"message_id": 2})
        refused = private_event(WORKER, "/案件")
        ctx.receive_event(bot, refused)
        ctx.should_call_send(refused, msg("抱歉，/案件 只有群管理员和政工干部可以使用。"), result={"message_id": 3})


class _Detail:
    def __eq__(self, other: object) -> bool:
        s = str(other)
        lines = s.splitlines()
        return (
            lines[0] == "案件 #2（已确认违规，不实信息）"
            and "来源：管理员标记" in lines
            and any(line.endswith("王五 确认违规") for line in lines)
            and any(line.endswith("王五 发布辟谣") for line in lines)
        )


# --- service details ---------------------------------------------------------------------------


async def test_odd_digits_and_invisible_reasons_get_a_clear_answer(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        for text, answer in [
            ("/确认 ²", "请写上案件号，例如：/确认 12"),
            ("/驳回 ٣", "请写上案件号，例如：/驳回 12"),
            ("/案件 ²⁰²⁶", "请写上案件号，例如：/案件 12"),
            ("/申诉 1 \u200b\ufeff", texts.APPEAL_USAGE),
        ]:
            event = private_event(WORKER, text)
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, msg(answer), result={"message_id": 1})
    assert await rows(db, ModerationCase) == []


async def test_screening_never_raises_and_send_failures_are_survived(db) -> None:  # type: ignore[no-untyped-def]
    await confirm_by_service(RecordingPort(), RUMOUR)
    screener = await index.get()
    assert screener is not None
    hit = screener.screen(FORWARDED, "40002")
    assert hit is not None
    # Sending fails outright: the case is still recorded, nothing raises.
    port = RecordingPort(send_error=SendFailed("no"))
    assert await intake.on_hit(port, runtime.org(), "40002", str(next(_mids)), str(WORKER2), None, hit) == 2
    # A timeout may have been delivered: counted as sent, never re-sent.
    port = RecordingPort(send_error=SendUnknown("timeout"))
    assert await intake.on_hit(port, runtime.org(), "40002", str(next(_mids)), str(WORKER2), None, hit) == 3
    assert len(port.sent("private")) == 1


async def test_the_index_is_rebuilt_from_the_database_and_follows_other_processes(db) -> None:  # type: ignore[no-untyped-def]
    from bot import clock
    from plugins.moderation.normalise import normalise

    await confirm_by_service(RecordingPort(), RUMOUR)
    index.reset()  # a restart
    screener = await index.get()
    assert screener is not None and screener.screen(FORWARDED) is not None
    # Another process confirms a rumour and overturns this one: rows appear / deactivate.
    async with db() as s:
        s.add(ModerationCorpus(kind="rumour", text=OTHER, norm=normalise(OTHER), norm_hash="x", case_id=9, added_at=clock.utcnow(), active=True))
        corpus = (await s.execute(select(ModerationCorpus).where(ModerationCorpus.case_id == 1))).scalar_one()
        corpus.active = False
        await s.commit()
    assert screener.screen("转发：" + OTHER) is None
    await index.refresh()
    assert screener.screen("转发：" + OTHER) is not None
    assert screener.screen(FORWARDED) is None


async def test_stats_for_periodic_reports(db) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from bot import clock

    port = RecordingPort()
    await confirm_by_service(port, RUMOUR)
    await intake.report(port, runtime.org(), "40001", str(WORKER2), Quoted(str(next(_mids)), str(WORKER), "张三", GOSSIP), None)
    now = clock.utcnow()
    assert await stats(now - timedelta(hours=1), now + timedelta(hours=1)) == {"opened_flag": 1, "opened_report": 1, "confirmed": 1}
    assert await stats(now + timedelta(hours=1), now + timedelta(hours=2)) == {}


async def test_a_group_ladder_from_the_org_file(db, org_moderation) -> None:  # type: ignore[no-untyped-def]
    """Group 40003 sets `ladder: [0, 5]`: a warning, then 5 minutes, and 5 minutes again."""
    port = RecordingPort()
    await confirm_by_service(port, RUMOUR, group=40003)
    assert port.sent("group")[-1][3] == warn("再有违规将被禁言 5 分钟。")
    await confirm_by_service(port, OTHER, group=40003)
    await confirm_by_service(port, GOSSIP, group=40003)
    assert [c for c in port.calls if c[0] == "mute"] == [("mute", "40003", str(WORKER), 300)] * 2
    assert port.sent("group")[-1][3].endswith("按群规禁言 5 分钟。如有异议，可以私聊我申诉。")


async def test_the_latest_decision_about_a_text_wins(db) -> None:  # type: ignore[no-untyped-def]
    port, org = RecordingPort(), runtime.org()
    await intake.report(port, org, "40001", str(WORKER2), Quoted(str(next(_mids)), str(WORKER), "张三", GOSSIP), None)
    assert (await decisions.decide_dismiss(port, org, 1, str(MOD), None))[0].startswith("已驳回案件 #1")
    screener = await index.get()
    assert screener is not None and screener.screen("转发：" + GOSSIP) is None
    # The moderator changes their mind: the text leaves the not-a-rumour set, joins the rumours.
    assert (await decisions.decide_confirm(port, org, 1, str(MOD), None))[0] == "已确认案件 #1（不实信息）。"
    assert [(c.kind, c.active) for c in await rows(db, ModerationCorpus)] == [("innocent", False), ("rumour", True)]
    assert screener.screen("转发：" + GOSSIP) is not None


async def test_review_verbs_refuse_an_open_case_and_leave_a_waiting_appeal_to_cadres(db) -> None:  # type: ignore[no-untyped-def]
    port, org = RecordingPort(), runtime.org()
    await intake.report(port, org, "40001", str(WORKER2), Quoted(str(next(_mids)), str(WORKER), "张三", GOSSIP), None)  # case 1, open
    assert await appeals.decide_revoke(port, org, 1, str(MOD), None) == [texts.STILL_OPEN.format(id=1)]
    assert await appeals.decide_uphold(port, org, 1, str(MOD), None) == [texts.NO_APPEAL.format(id=1)]
    second = await confirm_by_service(port, RUMOUR)
    assert await appeals.appeal(port, org, str(WORKER), second, "不服") == texts.APPEAL_RECEIVED.format(id=second)
    sent = len(port.calls)
    assert await appeals.decide_uphold(port, org, second, str(MOD), None) == [texts.APPEAL_FOR_CADRES.format(id=second)]
    assert await appeals.decide_revoke(port, org, second, str(MOD), None) == [texts.APPEAL_FOR_CADRES.format(id=second)]
    assert len(port.calls) == sent  # refused: nothing sent, recalled or muted
    assert [(c.status, c.appeal_result) for c in await rows(db, ModerationCase)] == [("open", None), ("confirmed", None)]


# --- recall reasons (NapCat's real answers, ../shared/NAPCAT.md) ------------------------------


async def test_confirm_days_later_says_the_message_can_no_longer_be_recalled(app: App, db) -> None:  # type: ignore[no-untyped-def]
    """NapCat forgot the short id (old, or restarted): "Recall failed". The moderator hears the
    true reason, not a guess about admin rights."""
    port = RecordingPort()
    mid = next(_mids)
    await intake.report(port, runtime.org(), "40001", str(WORKER2), Quoted(str(mid), str(WORKER), "张三", OTHER), None)
    gone = "· 这条消息已无法撤回，请手动删除。"
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ok = private_event(MOD, "/确认 1")
        ctx.receive_event(bot, ok)
        ctx.should_call_api("delete_msg", {"message_id": mid}, exception=ActionFailed(status="failed", retcode=1200, message="Recall failed", wording="Recall failed"))
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(notify.clarification(None, OTHER))}, result={"message_id": 2})
        ctx.should_call_api("send_group_msg", {"group_id": 40001, "message": msg(warn())}, result={"message_id": 3})
        ctx.should_call_api(*author_call(1), result={"message_id": 4})
        ctx.should_call_api(*reporter_told(WORKER2, 1), result={"message_id": 41})
        ctx.should_call_send(ok, msg(confirmed(1, 1, recall=gone)), result={"message_id": 5})
    assert "我可能不是群管理员" not in confirmed(1, 1, recall=gone)
    [case] = await rows(db, ModerationCase)
    assert case.recalled is False
    assert [(a.action, a.reason) for a in await rows(db, ModerationAudit) if a.action == "recall_failed"] == [("recall_failed", "这条消息已无法撤回，请手动删除。")]


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ({"retcode": 1200, "message": "Recall failed", "wording": "Recall failed"}, Recall.GONE),
        ({"retcode": 1200, "message": "Timeout: NTEvent serviceAndMethod:NodeIKernelMsgService/recallMsg", "wording": ""}, Recall.UNKNOWN),
        ({"retcode": 200, "wording": "权限不足"}, Recall.NOT_PERMITTED),
        (None, Recall.RECALLED),
    ],
)
async def test_the_port_classifies_napcat_recall_answers(app: App, answer: dict[str, Any] | None, outcome: Recall) -> None:
    from bot.platform import port_for

    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        if answer is None:
            ctx.should_call_api("delete_msg", {"message_id": 5}, result=None)
        else:
            ctx.should_call_api("delete_msg", {"message_id": 5}, exception=ActionFailed(status="failed", **answer))
        got = await port_for(bot).recall("5")
    assert got is outcome and bool(got) is (outcome is Recall.RECALLED)
    assert texts.recall_failed(Recall.UNKNOWN) == texts.RECALL_UNKNOWN



@pytest.mark.parametrize(
    ("bot_role", "author_role", "outcome"),
    [
        ("member", None, Recall.NOT_PERMITTED),  # a member bot recalls nobody else's message
        ("admin", "owner", Recall.NOT_PERMITTED),  # an admin cannot recall the owner's...
        ("admin", "admin", Recall.NOT_PERMITTED),  # ...or another admin's
        ("admin", "member", Recall.UNKNOWN),  # it may: QQ was only slow to confirm
        (None, None, Recall.UNKNOWN),  # the roles could not be read: we do not know
    ],
)
async def test_a_recall_qq_never_confirmed_is_checked_against_the_roles(
    app: App, bot_role: str | None, author_role: str | None, outcome: Recall
) -> None:
    """NapCat answers a refused recall exactly like a slow one (Timeout after 1 s): with the
    group known, the port asks for the roles before it calls it a refusal."""
    from bot.platform import port_for

    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.should_call_api("delete_msg", {"message_id": 5}, exception=ActionFailed(status="failed", retcode=1200, message=RECALL_TIMEOUT, wording=RECALL_TIMEOUT))
        mine = {"group_id": 40001, "user_id": 10000, "no_cache": True}
        if bot_role is None:
            ctx.should_call_api("get_group_member_info", mine, exception=ActionFailed(status="failed", retcode=1200, message="群(40001)成员10000不存在"))
        else:
            ctx.should_call_api("get_group_member_info", mine, result={"user_id": 10000, "role": bot_role})
        if author_role is not None:
            ctx.should_call_api(
                "get_group_member_info", {"group_id": 40001, "user_id": WORKER, "no_cache": True}, result={"user_id": WORKER, "role": author_role}
            )
        got = await port_for(bot).recall("5", group_id="40001", author_id=str(WORKER))
    assert got is outcome


async def test_a_refused_recall_of_the_bots_own_message_asks_no_roles(app: App) -> None:
    from bot.platform import port_for

    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        ctx.should_call_api("delete_msg", {"message_id": 5}, exception=ActionFailed(status="failed", retcode=1200, message=RECALL_TIMEOUT))
        assert await port_for(bot).recall("5", group_id="40001", author_id="10000") is Recall.UNKNOWN


# --- platforms that cannot do everything -------------------------------------------------


async def test_a_platform_without_recall_or_mute_tells_the_moderator_so(db) -> None:  # type: ignore[no-untyped-def]
    from bot.platform import Capabilities

    port = RecordingPort()
    port.capabilities = Capabilities(recall_others=False, mute=False)  # type: ignore[attr-defined]
    for text in (RUMOUR, OTHER):
        await confirm_by_service(port, text)
    mid = next(_mids)
    lines = await intake.flag(port, runtime.org(), "40001", str(MOD), Quoted(str(mid), str(WORKER), "张三", "明年开始编外人员全部清退，合同到期一律不续签"), None)
    assert "· 消息未能撤回：这个平台不允许机器人撤回别人的消息，请在群里手动删除。" in lines
    assert lines[-1] == "· 张三（30001） 近半年第 3 次违规：禁言 10 分钟 未成功（这个平台不支持机器人禁言），请手动处理"
    assert [c for c in port.calls if c[0] in ("recall", "mute")] == []  # not even asked


class _BlindBot(Bot):
    """A platform whose bot sees only the group messages addressed to it."""


async def test_no_screening_where_group_messages_are_not_visible_and_status_says_so(app: App, db) -> None:  # type: ignore[no-untyped-def]
    from bot import platform
    from bot.platform import Capabilities
    from bot.platform.onebot_v11 import OneBotV11Port
    from bot.org import Role
    from plugins.admin.data_source import help_text, status_text

    await confirm_by_service(RecordingPort(), RUMOUR)
    platform.register(_BlindBot, OneBotV11Port, Capabilities(group_messages_visible=False), "测试平台")  # type: ignore[arg-type]
    off = "测试平台：看不到群里的全部消息，只收到@我的，所以谣言和诈骗筛查在这里关闭。"
    try:
        async with app.test_matcher() as ctx:
            bot = ctx.create_bot(base=_BlindBot, self_id="10000")
            ctx.receive_event(bot, group_event(40001, WORKER, FORWARDED))  # nonebug fails on any API call
        async with app.test_matcher() as ctx:
            ctx.create_bot(base=_BlindBot, self_id="10000")
            assert off in (await status_text()).splitlines()
            assert off in help_text(frozenset({Role.worker}), "group").splitlines()
        async with app.test_matcher() as ctx:
            ctx.create_bot(base=Bot, self_id="10000")
            assert platform.off_lines() == []  # QQ can do everything: nothing shown
            assert "用不了" not in help_text(frozenset({Role.worker}), "group")
    finally:
        platform._FACTORIES.pop(_BlindBot, None)
        platform._CAPABILITIES.pop(_BlindBot, None)
        platform._CAPABILITIES_BY_TYPE.clear()
    assert len(await rows(db, ModerationCase)) == 1


# --- start-up checks of the moderation files ----------------------------------------------------


def test_start_up_checks_include_lexicons_and_clarifications() -> None:
    from bot import checks

    assert {"org", "lexicons", "clarifications"} <= set(checks.names())
    assert checks.names()[0] == "org"


def test_unreadable_lexicon_stops_the_start_up_check_but_only_warns_at_run_time(tmp_path: Path) -> None:
    from bot.errors import StartupError
    from plugins.moderation.config import load_lexicons

    (tmp_path / "fraud.txt").write_text("刷单返利\n", encoding="utf-8")
    (tmp_path / "abuse.txt").write_bytes("骂人\n".encode("gbk"))
    with pytest.raises(StartupError, match=r"^词表文件 .*abuse\.txt 无法读取"):
        load_lexicons(tmp_path, strict=True)
    assert load_lexicons(tmp_path) == [("刷单返利", "fraud")]  # an edit while running: the rest still apply


def test_missing_lexicon_folder_named_by_the_setting_stops_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.errors import StartupError
    from plugins.moderation.config import load_lexicons

    monkeypatch.setenv("LIANXIN_LEXICONS", str(tmp_path / "nope"))
    with pytest.raises(StartupError, match="词表目录 .*nope 不存在"):
        load_lexicons(strict=True)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("---\ntitle: 工资\nkeywords: [工资\n---\n工资按时发放。\n", " 的前置信息不是有效的 YAML 第 3 行"),
        ("---\ntitle: 工资\n---\n工资按时发放。\n", "：开头的 YAML 要写 title（标题）和 keywords"),
        ("---\ntitle: 工资\nkeywords: [工资]\n---\n" + "长" * 2000 + "\n", "：正文要有完整的句子"),
        # The front matter never closed: read as none, not a crash of the start-up check.
        ("---\ntitle: 工资\nkeywords: [工资]\n工资按时发放。\n", "：开头的 YAML 要写 title（标题）和 keywords"),
    ],
    ids=["yaml", "no keywords", "no whole sentence", "unclosed"],
)
def test_bad_clarification_stops_the_start_up_check_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    from bot.errors import StartupError
    from plugins.moderation.config import load_clarifications

    bad = tmp_path / "pay.md"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(StartupError) as e:
        load_clarifications(tmp_path, strict=True)
    assert str(e.value).startswith(f"辟谣文本 {bad}{problem}") and "\n" not in str(e.value)
    assert load_clarifications(tmp_path) == []  # at run time a bad file is skipped


def test_a_clarification_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    from plugins.moderation.config import load_clarifications

    (tmp_path / "pay.md").write_text("\ufeff---\ntitle: 工资\nkeywords: [工资]\n---\n工资按时发放。\n", encoding="utf-8")
    [c] = load_clarifications(tmp_path, strict=True)
    assert (c.title, c.keywords, c.body) == ("工资", ("工资",), "工资按时发放。")
