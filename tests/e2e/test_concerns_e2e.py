"""End-to-end: a concern walked from submission to rating over the OneBot v11 WebSocket,
with the bot's clock moved through LIANXIN_CLOCK_FILE, then the database searched for the
submitter's id."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tests.e2e.test_bot_process import bot_env
from tests.harness import BotProcess
from tests.onebot_peer import OneBotPeer

SUBMITTER = 30099  # a worker who is not in the org file: the dump must not hold the id at all
GUIDED = 30098
LEADER = 20002
START = datetime(2026, 11, 16, 10, 0)  # a Monday
CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")
SECRET = "这个月的绩效工资少发了三百元，没有任何说明"


def set_clock(path: Path, when: datetime) -> None:
    path.write_text(when.isoformat())


def to(user: int):  # type: ignore[no-untyped-def]
    return lambda c: c.target == ("private", user)


async def test_concern_walk_over_websocket(tmp_path: Path) -> None:
    clock_file = tmp_path / "clock"
    set_clock(clock_file, START)
    env = bot_env(
        tmp_path, LIANXIN_CLOCK_FILE=str(clock_file), LIANXIN_TICK_SECONDS="1", LIANXIN_SEND_INTERVAL="0.05", LIANXIN_SEND_JITTER="0"
    )
    sends = ("send_msg", "send_private_msg")
    async with OneBotPeer() as peer:
        async with BotProcess(env, log_dir=tmp_path) as proc:
            await peer.connect_reverse(proc.ws_url)

            # Submission: answered with a receipt code; the leader hears nothing yet.
            mark = peer.mark()
            await peer.private_message(SUBMITTER, f"/诉求 {SECRET}")
            receipt = await peer.wait_call(sends, where=to(SUBMITTER), since=mark)
            assert CODE.search(receipt.text), receipt.text + proc.output()[-3000:]
            code = CODE.search(receipt.text).group(0)
            await peer.wait_no_call(sends, where=to(LEADER), for_=2.5, since=mark)

            # The next digest slot: the leader is told, without any id.
            set_clock(clock_file, START + timedelta(minutes=31))
            digest = await peer.wait_call(sends, where=to(LEADER), since=mark, timeout=15)
            assert "#1" in digest.text and SECRET in digest.text and str(SUBMITTER) not in digest.text

            # A guided draft started before a restart...
            await peer.private_message(GUIDED, "/诉求")
            await peer.wait_call(sends, where=lambda c: to(GUIDED)(c) and "回复序号" in c.text, since=mark)
            await peer.private_message(GUIDED, "2")
            await peer.wait_call(sends, where=lambda c: to(GUIDED)(c) and "请写下" in c.text, since=mark)

            port = proc.port
        async with BotProcess(env, port=port, log_dir=tmp_path / "second") as proc:
            await peer.reconnect()
            mark = peer.mark()
            # ...continues after it.
            await peer.private_message(GUIDED, "食堂晚饭太早收摊，加班的同事吃不上饭")
            await peer.wait_call(sends, where=lambda c: to(GUIDED)(c) and "是否愿意留下" in c.text, since=mark)

            # Acknowledgement is relayed to the submitter, quoting the code.
            mark = peer.mark()
            await peer.private_message(LEADER, "/受理 1")
            await peer.wait_call(sends, where=lambda c: to(LEADER)(c) and "已受理 #1" in c.text, since=mark)
            relay = await peer.wait_call(sends, where=to(SUBMITTER), since=mark)
            assert code in relay.text and "受理" in relay.text

            # No reply within 7 working days: the leader is reminded, the submitter told.
            mark = peer.mark()
            set_clock(clock_file, START + timedelta(days=9, hours=1))
            reminder = await peer.wait_call(sends, where=lambda c: to(LEADER)(c) and "【诉求提醒】#1" in c.text, since=mark, timeout=15)
            assert str(SUBMITTER) not in reminder.text
            told = await peer.wait_call(sends, where=to(SUBMITTER), since=mark)
            assert "已提醒分管领导" in told.text

            # The reply travels as plain text: no live @all.
            mark = peer.mark()
            await peer.private_message(LEADER, "/回复 1 [CQ:at,qq=all] 已核实，下月补发")
            relay = await peer.wait_call(sends, where=to(SUBMITTER), since=mark)
            assert [s["type"] for s in relay.segments] == ["text"]
            assert "[CQ:at,qq=all] 已核实，下月补发" in relay.text

            mark = peer.mark()
            await peer.private_message(LEADER, "/办结 1 已补发到位")
            relay = await peer.wait_call(sends, where=lambda c: to(SUBMITTER)(c) and "已办结" in c.text, since=mark)

            mark = peer.mark()
            await peer.private_message(SUBMITTER, f"/评价 {code} 5")
            thanks = await peer.wait_call(sends, where=to(SUBMITTER), since=mark)
            assert thanks.text == "谢谢你的评价（5 分）！"
            mark = peer.mark()
            await peer.private_message(SUBMITTER, f"/进度 {code}")
            progress = await peer.wait_call(sends, where=to(SUBMITTER), since=mark)
            assert "已办结" in progress.text and "领导答复：[CQ:at,qq=all] 已核实，下月补发" in progress.text
            logs = proc.output()
            with sqlite3.connect(tmp_path / "bot.db") as conn:
                before = "\n".join(conn.iterdump())

            # Past the retention period: the words are gone from every table, outbox included.
            set_clock(clock_file, START + timedelta(days=120))
            await proc.wait_output(r"purged 1 closed concern", timeout=15)

    # The whole database, dumped: the submitter's id is nowhere.
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        dump = "\n".join(conn.iterdump())
    assert SECRET in before  # the concern itself was there until the retention period...
    assert str(SUBMITTER) not in before and code not in before  # ...but not who sent it, nor the code
    assert "【诉求提醒】" not in before  # notices are rendered when sent: the outbox keeps no copy
    for words in (SECRET, "已核实，下月补发", "已补发到位", "食堂晚饭太早收摊", str(SUBMITTER), code):
        assert words not in dump
    assert SECRET not in logs and "已核实" not in logs  # nothing said in private reached the log
