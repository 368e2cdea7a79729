"""End-to-end: rumours and conduct over the OneBot v11 WebSocket against `python -m bot`.

A moderator's /谣言 recalls, clarifies and learns; a forwarded variant in another group is
caught by screening; a member's /举报 reaches the moderators and /驳回 stops the same text being
flagged again, and the reporter hears the outcome; the third confirmed violation of one author
is muted; a cadre decides an appeal with /撤销 (not the ambiguous /驳回); a worker asking whether
a link is a scam brings an anti-fraud reminder to the group, not a violation."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.test_bot_process import bot_env
from tests.harness import BotProcess
from tests.onebot_peer import Call, OneBotPeer

WORKER, WORKER2, MOD, CADRE = 30001, 30002, 20003, 20002
RUMOUR = "听说从下个月开始绩效工资要砍掉一半，年终奖也取消了，人事科已经在做新表了"
FORWARDED = "转发：听说从下个月开始，绩效工资要砍掉一半！年终奖也取消了。人事科已经在做新表了！！！"
FORWARDED_AGAIN = "【转】听说从下个月开始绩效工资要砍掉一半～年终奖也取消了～人事科已经在做新表了😱"
DEBUNK = "有人在传：下个月开始绩效工资要砍掉一半，年终奖也取消了。我问了人事科，这是假的！"
OTHER = "内部消息：局里要和隔壁县局合并，一半的人要分流到乡镇站点，名单月底公布"


def to(user: int):  # type: ignore[no-untyped-def]
    return lambda c: c.target == ("private", user)


def in_group(group: int, part: str = ""):  # type: ignore[no-untyped-def]
    return lambda c: c.target == ("group", group) and part in c.text


async def test_moderation_over_websocket(tmp_path: Path) -> None:
    async with OneBotPeer() as peer, BotProcess(bot_env(tmp_path), log_dir=tmp_path) as proc:
        await peer.connect_reverse(proc.ws_url)
        log = lambda: proc.output()[-4000:]  # noqa: E731
        # QQ lets the bot recall members' messages only where it is an admin (see step 6).
        peer.roles[(40001, peer.self_id)] = peer.roles[(40002, peer.self_id)] = "admin"

        # Before anything is known: a message quoting the rumour goes unnoticed.
        debunk_first = await peer.group_message(40001, WORKER2, DEBUNK)

        # 1. A moderator replies /谣言: recalled, clarified, learnt, the author warned.
        rumour = await peer.group_message(40001, WORKER, RUMOUR)
        mark = peer.mark()
        await peer.group_message(40001, MOD, "/谣言", reply_to=rumour, role="admin")
        # The summary (case number, QQ number, count) goes to the moderator in private only.
        ack = await peer.wait_call("send_private_msg", where=lambda c: to(MOD)(c) and "已确认案件 #1" in c.text, since=mark, timeout=15)
        assert "· 消息已撤回" in ack.text and "· 已在群里发布辟谣" in ack.text and "已加入谣言库" in ack.text, ack.text
        recall = await peer.wait_call("delete_msg", since=mark)
        assert recall.params["message_id"] == rumour
        clarification = await peer.wait_call("send_group_msg", where=in_group(40001, "【辟谣】"), since=mark)
        assert "绩效工资" in clarification.text  # the matching official text from data/clarifications
        warning = await peer.wait_call("send_group_msg", where=in_group(40001, "你刚才的消息"), since=mark)
        assert warning.text.startswith("张三，你刚才的消息经管理员确认为不实信息") and "申诉" in warning.text
        in_group_texts = [c.text for c in peer.calls[mark:] if c.target == ("group", 40001)]
        assert not [t for t in in_group_texts if "案件" in t or str(WORKER) in t or "次" in t], in_group_texts
        author = await peer.wait_call("send_private_msg", where=to(WORKER), since=mark)
        assert "案件 #1" in author.text and "/申诉 1 理由" in author.text
        assert not [c for c in peer.calls[mark:] if c.action == "set_group_ban"]

        # 2. A forwarded variant in another group is caught by screening; the moderators told.
        mark = peer.mark()
        await peer.group_message(40002, WORKER2, FORWARDED)
        notice = await peer.wait_call("send_private_msg", where=to(MOD), since=mark, timeout=10)
        assert notice.text.startswith("【自动发现】案件 #2") and "与已确认的谣言（案件 #1）高度相似" in notice.text, notice.text
        assert "群：办公室群（40002）" in notice.text and "发言人：周六（30002）" in notice.text
        await peer.wait_no_call("delete_msg", since=mark, for_=0.5)  # the group's policy: notify only

        # 3. The quoting message posted again is flagged now...
        mark = peer.mark()
        await peer.group_message(40001, WORKER2, DEBUNK)
        flagged = await peer.wait_call("send_private_msg", where=to(MOD), since=mark, timeout=10)
        assert flagged.text.startswith("【自动发现】案件 #3"), flagged.text
        # ...a member reports the first one: the moderators are told, the /举报 recalled, the
        # reporter thanked in private, and the reporter is named to no one; the group hears nothing.
        mark = peer.mark()
        report = await peer.group_message(40001, WORKER, "/举报 这是在传谣", reply_to=debunk_first)
        told = await peer.wait_call("send_private_msg", where=to(MOD), since=mark, timeout=10)
        assert told.text.startswith("【举报】案件 #4") and "举报理由：这是在传谣" in told.text, told.text
        assert "张三" not in told.text and str(WORKER) not in told.text
        thanks = await peer.wait_call("send_private_msg", where=to(WORKER), since=mark)
        assert thanks.text == "谢谢你的举报，已转交本群管理员处理（案件 #4），有结果会私聊告诉你。"
        recalled = await peer.wait_call("delete_msg", since=mark)
        assert recalled.params["message_id"] == report and recalled.response and recalled.response["status"] == "ok"
        assert not [c for c in peer.calls[mark:] if c.target == ("group", 40001)]
        # The moderator dismisses it in private chat: the text is not flagged again, anywhere.
        mark = peer.mark()
        await peer.private_message(MOD, "/驳回 4")
        dismissed = await peer.wait_call("send_msg", where=to(MOD), since=mark)
        assert dismissed.text.startswith("已驳回案件 #4"), dismissed.text
        outcome = await peer.wait_call("send_private_msg", where=to(WORKER), since=mark)
        assert outcome.text == "你在质量科职工群举报的那条消息（案件 #4）经管理员核实，不属于违规，没有处理。谢谢你的反映。"
        mark = peer.mark()
        await peer.group_message(40001, WORKER2, DEBUNK)
        await peer.group_message(40002, WORKER, "转发：" + DEBUNK)
        await peer.group_message(40002, WORKER2, FORWARDED_AGAIN)  # while the rumour still is
        caught = await peer.wait_call("send_private_msg", where=to(MOD), since=mark, timeout=10)
        assert caught.text.startswith("【自动发现】案件 #5"), caught.text + log()
        await peer.wait_no_call("send_private_msg", where=lambda c: "案件 #6" in c.text, since=mark, for_=1.0)

        # 4. The ladder: the author's 2nd confirmed violation is a warning, the 3rd a mute, in
        # whichever group it happens.
        other = await peer.group_message(40001, WORKER, OTHER)
        mark = peer.mark()
        await peer.group_message(40001, MOD, "/谣言", reply_to=other)
        await peer.wait_call("send_private_msg", where=lambda c: "已确认案件 #6" in c.text, since=mark, timeout=10)
        second = await peer.wait_call("send_group_msg", where=in_group(40001, "你刚才的消息"), since=mark)
        assert "再有违规将被禁言 10 分钟" in second.text
        assert not [c for c in peer.calls if c.action == "set_group_ban"]

        mark = peer.mark()
        copy = await peer.group_message(40002, WORKER, FORWARDED_AGAIN + "。")
        flagged = await peer.wait_call("send_private_msg", where=to(MOD), since=mark, timeout=10)
        assert flagged.text.startswith("【自动发现】案件 #7") and "发言人：张三（30001）" in flagged.text, flagged.text
        mark = peer.mark()
        await peer.private_message(MOD, "/确认 7")
        done: Call = await peer.wait_call("send_msg", where=to(MOD), since=mark, timeout=10)
        assert "近半年第 3 次违规：已禁言 10 分钟" in done.text, done.text
        recall = await peer.wait_call("delete_msg", since=mark)
        assert recall.params["message_id"] == copy
        ban = await peer.wait_call("set_group_ban", since=mark)
        assert (ban.params["group_id"], ban.params["user_id"], ban.params["duration"]) == (40002, WORKER, 600)
        told = await peer.wait_call("send_group_msg", where=in_group(40002, "按群规禁言 10 分钟"), since=mark)
        assert told.text.startswith("张三，你刚才的消息") and "案件" not in told.text and "第 3 次" not in told.text
        assert len([c for c in peer.calls if c.action == "set_group_ban"]) == 1

        # 5. NapCat restarts and forgets every message id: a later /确认 cannot recall, and the
        # moderator is told so, not that the bot may lack admin rights.
        peer.restart_napcat()
        mark = peer.mark()
        await peer.private_message(MOD, "/确认 5")
        late: Call = await peer.wait_call("send_msg", where=lambda c: to(MOD)(c) and "已确认案件 #5" in c.text, since=mark, timeout=10)
        assert "· 这条消息已无法撤回，请手动删除。" in late.text and "管理员" not in late.text.split("\n")[1], late.text
        failed = await peer.wait_call("delete_msg", since=mark)
        assert failed.response and (failed.response["retcode"], failed.response["message"]) == (1200, "Recall failed")

        # 6. The bot is no longer an admin: QQ refuses recalls without a word and NapCat answers
        # "Timeout" as for a slow one. The bot reads its role and says why, to each in private.
        peer.roles[(40001, peer.self_id)] = "member"
        gossip = await peer.group_message(40001, WORKER, "明天食堂中午不开门，大家自己带饭")
        mark = peer.mark()
        report2 = await peer.group_message(40001, WORKER2, "/举报", reply_to=gossip)
        refused = await peer.wait_call("delete_msg", since=mark, timeout=10)
        assert refused.params["message_id"] == report2
        assert refused.response and refused.response["retcode"] == 1200 and refused.response["message"].startswith("Timeout:")
        told = await peer.wait_call("send_private_msg", where=lambda c: to(MOD)(c) and c.text.startswith("【举报】案件 #"), since=mark, timeout=10)
        case = re.match(r"【举报】案件 #(\d+)", told.text).group(1)  # type: ignore[union-attr]
        reporter = await peer.wait_call("send_private_msg", where=to(WORKER2), since=mark)
        assert "我没能撤回，你可以自己撤回它" in reporter.text, reporter.text
        assert report2 in peer.messages  # still in the group
        mark = peer.mark()
        await peer.private_message(MOD, f"/确认 {case}")
        done = await peer.wait_call("send_msg", where=lambda c: to(MOD)(c) and f"已确认案件 #{case}" in c.text, since=mark, timeout=10)
        assert "· 消息未能撤回：我没有撤回权限" in done.text and "已无法撤回" not in done.text, done.text
        assert gossip in peer.messages
        assert not [c for c in peer.calls[mark:] if c.target == ("group", 40001) and ("案件" in c.text or str(WORKER2) in c.text)]
        reporter = await peer.wait_call("send_private_msg", where=lambda c: to(WORKER2)(c) and "经管理员核实，确认违规" in c.text, since=mark)
        assert "禁言" not in reporter.text and "次" not in reporter.text, reporter.text

        # 7. The author appeals case 1; the cadre's "/驳回 1" changes nothing and names the clear
        # verbs; "/撤销 1 <说明>" revokes it, and the author reads the cadre's words.
        peer.roles[(40001, peer.self_id)] = "admin"
        mark = peer.mark()
        await peer.private_message(WORKER, "/申诉 1 我只是转发，不知道是假的")
        appeal = await peer.wait_call("send_private_msg", where=lambda c: to(CADRE)(c) and c.text.startswith("【申诉】案件 #1"), since=mark, timeout=10)
        assert "/撤销 1" in appeal.text and "/维持 1" in appeal.text and "/驳回" not in appeal.text, appeal.text
        mark = peer.mark()
        await peer.private_message(CADRE, "/驳回 1")
        hint = await peer.wait_call("send_msg", where=to(CADRE), since=mark, timeout=10)
        assert hint.text.startswith("案件 #1 在等申诉复核") and "/撤销 1" in hint.text, hint.text
        await peer.wait_no_call("send_group_msg", since=mark, for_=0.5)
        mark = peer.mark()
        await peer.private_message(CADRE, "/撤销 1 转发时不知情，这次不算。")
        revoked = await peer.wait_call("send_msg", where=to(CADRE), since=mark, timeout=10)
        assert revoked.text.startswith("已撤销案件 #1 的处理"), revoked.text
        author = await peer.wait_call("send_private_msg", where=to(WORKER), since=mark)
        assert author.text.endswith("复核说明：转发时不知情，这次不算。"), author.text

        # 8. A worker asks whether a link is a scam: the moderator is offered the reminder, and
        # one "/防骗 N" posts it to the group; the question is not recalled or counted.
        mark = peer.mark()
        question = await peer.group_message(40001, WORKER2, "有人让点击链接领取补贴，这是不是骗子？")
        offered = await peer.wait_call("send_private_msg", where=to(MOD), since=mark, timeout=10)
        fraud_case = re.match(r"【自动发现】案件 #(\d+)", offered.text).group(1)  # type: ignore[union-attr]
        assert f"请发送 /防骗 {fraud_case}：我在群里提醒全群防骗" in offered.text, offered.text
        mark = peer.mark()
        await peer.private_message(MOD, f"/防骗 {fraud_case}")
        reminder = await peer.wait_call("send_group_msg", where=in_group(40001, "【防骗提醒】"), since=mark, timeout=10)
        assert "110" in reminder.text and "周六" not in reminder.text
        closed = await peer.wait_call("send_msg", where=to(MOD), since=mark)
        assert "不计入发言人的违规次数" in closed.text, closed.text
        assert question in peer.messages and not [c for c in peer.calls[mark:] if c.action in ("delete_msg", "set_group_ban")]
        assert not peer.errors, peer.errors
