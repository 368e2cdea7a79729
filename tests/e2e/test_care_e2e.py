"""End-to-end over the OneBot v11 WebSocket with the bot's clock moved through
LIANXIN_CLOCK_FILE: greetings go out once (also across a restart, and late when the bot was
down at the time), a commendation goes through review into the Monday digest, a suggestion
reaches its leader, and /月报 answers a seeded month with text and a chart, small categories
suppressed; the scheduled monthly report follows on the 1st at 09:00."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

from tests.e2e.test_bot_process import bot_env
from tests.harness import BotProcess
from tests.onebot_peer import Call, OneBotPeer

ZHANG, ZHOU, CADRE, HEAD, CANTEEN_LEADER = 30001, 30002, 20002, 20000, 20004
QUALITY_GROUP, OFFICE_GROUP = 40001, 40002
SENDS = ("send_msg", "send_private_msg", "send_group_msg", "send_private_forward_msg")


def set_clock(path: Path, when: datetime) -> None:
    path.write_text(when.isoformat())


def env_for(tmp_path: Path, clock_file: Path) -> dict[str, str]:
    return bot_env(
        tmp_path, LIANXIN_CLOCK_FILE=str(clock_file), LIANXIN_TICK_SECONDS="1", LIANXIN_SEND_INTERVAL="0.05", LIANXIN_SEND_JITTER="0"
    )


def to_group(group: int, *words: str):  # type: ignore[no-untyped-def]
    return lambda c: c.target == ("group", group) and all(w in c.text for w in words)


def to_user(user: int, *words: str):  # type: ignore[no-untyped-def]
    return lambda c: c.target == ("private", user) and all(w in c.text for w in words)


def count(peer: OneBotPeer, where) -> int:  # type: ignore[no-untyped-def]
    return len([c for c in peer.calls if c.action in SENDS and where(c)])


def segment_types(call: Call) -> list[str]:
    return [s["type"] for s in call.segments]


async def test_lunar_birthday_and_festival_greetings_go_out_once(tmp_path: Path) -> None:
    clock_file = tmp_path / "clock"
    # 2026-09-25 is 中秋节 and, in the lunar calendar, 八月十五: 周六's birthday ("农历1990-08-15").
    set_clock(clock_file, datetime(2026, 9, 25, 7, 58))
    env = env_for(tmp_path, clock_file)
    mid_autumn = to_group(QUALITY_GROUP, "中秋")
    birthday = to_group(OFFICE_GROUP, "周六")
    async with OneBotPeer() as peer:
        # NapCat resolves an @ only for someone it knows (else the whole send fails).
        peer.members[OFFICE_GROUP] = [ZHOU]
        async with BotProcess(env, log_dir=tmp_path) as proc:
            await peer.connect_reverse(proc.ws_url)
            await peer.wait_no_call(SENDS, where=lambda c: c.target is not None and c.target[0] == "group", for_=2.5)

            set_clock(clock_file, datetime(2026, 9, 25, 8, 0, 5))
            await peer.wait_call(SENDS, where=mid_autumn, timeout=15)
            await peer.wait_call(SENDS, where=to_group(OFFICE_GROUP, "中秋"), timeout=15)
            await peer.wait_no_call(SENDS, where=birthday, for_=2.5)  # not before 08:30

            set_clock(clock_file, datetime(2026, 9, 25, 8, 30, 5))
            greeting = await peer.wait_call(SENDS, where=birthday, timeout=15)
            assert greeting.segments[0] == {"type": "at", "data": {"qq": str(ZHOU)}}, proc.output()[-2000:]
            port = proc.port

        # A restart the same day sends nothing twice.
        set_clock(clock_file, datetime(2026, 9, 25, 10, 0))
        async with BotProcess(env, port=port, log_dir=tmp_path / "second") as proc:
            await peer.reconnect()
            mark = peer.mark()
            await peer.wait_no_call(SENDS, where=lambda c: c.target is not None and c.target[0] == "group", for_=4, since=mark)

            # National Day, the bot back only in the afternoon: the 08:00 greeting still goes out.
            set_clock(clock_file, datetime(2026, 10, 1, 15, 0))
            await peer.wait_call(SENDS, where=to_group(QUALITY_GROUP, "国庆"), timeout=15, since=mark)
            await peer.wait_call(SENDS, where=to_group(OFFICE_GROUP, "国庆"), timeout=15, since=mark)
            await peer.wait_no_call(SENDS, where=to_group(QUALITY_GROUP, "国庆"), for_=2.5, since=peer.mark())

    assert count(peer, mid_autumn) == 1 and count(peer, to_group(OFFICE_GROUP, "中秋")) == 1
    assert count(peer, birthday) == 1
    assert count(peer, to_group(QUALITY_GROUP, "国庆")) == 1


async def test_commendation_review_digest_and_a_suggestion_to_its_leader(tmp_path: Path) -> None:
    clock_file = tmp_path / "clock"
    set_clock(clock_file, datetime(2026, 11, 17, 10, 0))  # a Tuesday
    env = env_for(tmp_path, clock_file)
    async with OneBotPeer() as peer, BotProcess(env, log_dir=tmp_path) as proc:
        await peer.connect_reverse(proc.ws_url)

        # @ of the bot instead of a colleague: a short answer, nothing recorded.
        mark = peer.mark()
        await peer.group_message(QUALITY_GROUP, ZHOU, [{"type": "text", "data": {"text": "/表扬 "}}, {"type": "at", "data": {"qq": "10000"}}, {"type": "text", "data": {"text": " 天天提醒学习"}}])
        answer = await peer.wait_call(SENDS, where=lambda c: c.target == ("group", QUALITY_GROUP), since=mark)
        assert "我只是个机器人" in answer.text

        mark = peer.mark()
        await peer.group_message(
            QUALITY_GROUP, ZHOU,
            [{"type": "text", "data": {"text": "/表扬 "}}, {"type": "at", "data": {"qq": str(ZHANG)}}, {"type": "text", "data": {"text": " 主动留下来帮大家修好了打印机"}}],
        )
        thanks = await peer.wait_call(SENDS, where=lambda c: c.target == ("group", QUALITY_GROUP), since=mark)
        assert "已登记（#1）" in thanks.text, proc.output()[-3000:]
        review = await peer.wait_call(SENDS, where=to_user(CADRE, "#1 表扬 张三（质量科）", "修好了打印机"), since=mark, timeout=15)
        assert "/通过 1" in review.text

        mark = peer.mark()
        await peer.private_message(CADRE, "/通过 1")
        done = await peer.wait_call(SENDS, where=to_user(CADRE), since=mark)
        assert done.text.startswith("已通过 #1（表扬 张三（质量科）），将在11月23日（周一）09:00")
        await peer.wait_call(SENDS, where=to_user(ZHOU, "已审核通过"), since=mark, timeout=15)
        await peer.wait_no_call(SENDS, where=to_group(QUALITY_GROUP, "好人好事"), for_=2.5, since=mark)

        # Suggestion: classified by its words, forwarded to that category's leader.
        mark = peer.mark()
        await peer.private_message(ZHANG, "/建议 食堂晚饭能不能延长到七点，照顾加班的同事")
        receipt = await peer.wait_call(SENDS, where=to_user(ZHANG), since=mark)
        assert "第 1 号建议" in receipt.text and "食堂后勤" in receipt.text
        forwarded = await peer.wait_call(SENDS, where=to_user(CANTEEN_LEADER, "【连心·献一策】第 1 号建议（食堂后勤）"), since=mark, timeout=15)
        assert "提出人：张三（质量科）" in forwarded.text
        assert count(peer, to_user(20002, "献一策")) == 0  # the pay leader does not get it

        # Monday 09:00: the digest in the nominee's group, with an @ of him.
        mark = peer.mark()
        set_clock(clock_file, datetime(2026, 11, 23, 9, 0, 5))
        digest = await peer.wait_call(SENDS, where=to_group(QUALITY_GROUP, "【连心·好人好事】"), since=mark, timeout=15)
        assert "修好了打印机" in digest.text and {"type": "at", "data": {"qq": str(ZHANG)}} in digest.segments
        await peer.wait_no_call(SENDS, where=to_group(QUALITY_GROUP, "好人好事"), for_=3, since=peer.mark())
    assert count(peer, to_group(QUALITY_GROUP, "【连心·好人好事】")) == 1


PAY_TEXTS = [
    "这个月绩效工资少发了三百元", "加班补贴两个月没发了", "绩效工资考核细则不公开", "工资条看不懂，绩效工资怎么算的",
    "值班补贴标准太低", "绩效工资扣款没有提前告知", "年终奖金什么时候发", "补贴发放时间不固定",
]
CANTEEN_TEXTS = ["食堂饭菜太咸了", "食堂晚饭收得太早"]


async def test_monthly_report_for_a_seeded_month_with_small_categories_suppressed(tmp_path: Path) -> None:
    clock_file = tmp_path / "clock"
    set_clock(clock_file, datetime(2026, 11, 9, 10, 0))
    env = env_for(tmp_path, clock_file)
    async with OneBotPeer() as peer, BotProcess(env, log_dir=tmp_path) as proc:
        await peer.connect_reverse(proc.ws_url)

        # A month of concerns: 8 about pay, 2 about the canteen, from 10 different people.
        for i, words in enumerate(PAY_TEXTS + CANTEEN_TEXTS):
            mark = peer.mark()
            await peer.private_message(31000 + i, f"/诉求 {words}")
            await peer.wait_call(SENDS, where=to_user(31000 + i, "回执码"), since=mark)
        # The next batch slot: the leader is told, and only now sees the concerns.
        mark = peer.mark()
        set_clock(clock_file, datetime(2026, 11, 9, 10, 31))
        await peer.wait_call(SENDS, where=to_user(CADRE, "【连心·诉求通知】"), since=mark, timeout=15)
        # The pay leader acknowledges six and closes five.
        for n in range(1, 7):
            mark = peer.mark()
            await peer.private_message(CADRE, f"/受理 {n}")
            await peer.wait_call(SENDS, where=to_user(CADRE, f"已受理 #{n}"), since=mark)
        set_clock(clock_file, datetime(2026, 11, 12, 10, 0))
        for n in range(1, 6):
            mark = peer.mark()
            await peer.private_message(CADRE, f"/办结 {n} 已核实处理")
            await peer.wait_call(SENDS, where=to_user(CADRE, f"已办结 #{n}"), since=mark)
        for i in range(6):
            mark = peer.mark()
            await peer.private_message(31100 + i, f"/建议 建议食堂第{i + 1}周公布菜单")
            await peer.wait_call(SENDS, where=to_user(31100 + i, "号建议"), since=mark)

        # 1 December, before 09:00: a cadre asks for last month's report.
        set_clock(clock_file, datetime(2026, 12, 1, 8, 0))
        mark = peer.mark()
        await peer.private_message(CADRE, "/月报")
        report = await peer.wait_call(SENDS, where=to_user(CADRE, "【连心·月报】"), since=mark, timeout=30)
        assert segment_types(report) == ["text", "image"], proc.output()[-3000:]
        png = base64.b64decode(report.segments[1]["data"]["file"].removeprefix("base64://"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        lines = report.text.splitlines()
        assert "【连心·月报】测试局 2026年11月" in lines[0]
        assert "· 食堂后勤：待受理 不足5件，合计 不足5件" in lines  # two people: never shown as 2
        pay = next(line for line in lines if line.startswith("· 工资福利："))
        assert pay.startswith("· 工资福利：待受理 不足5件，已受理 不足5件") and " 2 " not in pay
        suggestions = next(line for line in lines if line.startswith("献一策各类别建议条数："))
        assert "食堂后勤 6 条" in suggestions  # six suggestions about the canteen: shown
        hot = report.text.split("热词")[-1]
        assert "食堂（8）" in hot  # 2 concerns + 6 suggestions
        assert "绩效工资" not in hot  # only 4 concerns say it: fewer than 5 texts, not listed

        # A worker is refused.
        mark = peer.mark()
        await peer.private_message(ZHANG, "/月报")
        refused = await peer.wait_call(SENDS, where=to_user(ZHANG), since=mark)
        assert refused.text == "抱歉，/月报 只有政工干部、主要负责人可以使用。"

        # 09:00: the scheduled report reaches every cadre and the head, once.
        mark = peer.mark()
        set_clock(clock_file, datetime(2026, 12, 1, 9, 0, 5))
        for user in (CADRE, HEAD):
            sent = await peer.wait_call(("send_private_msg",), where=to_user(user, "【连心·月报】测试局 2026年11月"), since=mark, timeout=30)
            assert segment_types(sent) == ["text", "image"]
        await peer.wait_no_call(("send_private_msg",), where=to_user(HEAD, "【连心·月报】"), for_=3, since=peer.mark())


async def test_a_bad_greetings_file_stops_start_up_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "greetings"
    folder.mkdir()
    (folder / "birthday.yaml").write_text("templates: ['{名字}生日快乐']\n", encoding="utf-8")
    (folder / "festivals.yaml").write_text("春节: [过年好]\n", encoding="utf-8")
    proc = BotProcess(bot_env(tmp_path, LIANXIN_GREETINGS=str(folder)), log_dir=tmp_path)
    proc.start()
    assert await proc.wait_exit(60) == 2
    assert f"连心无法启动：问候语文件 {folder / 'birthday.yaml'}：templates 第 1 条用了不认识的占位符 {{名字}}" in proc.output()
