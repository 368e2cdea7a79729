"""End-to-end study day over the OneBot v11 WebSocket, with the bot's clock moved through
LIANXIN_CLOCK_FILE: posts exactly once through kill -9 and across two processes, check-in,
quiz, points and ranking from chat, private catch-up once, and a bad material at start-up."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import PG_URL, _drop_pg_database, _pg_database
from tests.e2e.test_bot_process import TEST_ORG, bot_env
from tests.harness import REPO_ROOT, BotProcess
from tests.onebot_peer import Call, OneBotPeer

MATERIALS = REPO_ROOT / "tests" / "data" / "study_materials"
STUDY_DAY = datetime.fromisoformat("2026-12-05T09:00:00+08:00")
GROUPS = [41001 + i for i in range(12)]
POSTS = ("send_group_msg", "send_group_forward_msg")
PRIVATE_POSTS = ("send_private_msg", "send_private_forward_msg")
REPLIES = ("send_msg",)


def set_clock(path: Path, when: datetime | str) -> None:
    path.write_text(when if isinstance(when, str) else when.isoformat())


def many_groups_org(tmp_path: Path) -> Path:
    """The test org plus twelve study groups: enough for a broadcast to be interrupted."""
    text = TEST_ORG.read_text(encoding="utf-8")
    text += "".join(f'  - {{id: {g}, name: 学习群{g}, study: {{day: 5, time: "09:00"}}}}\n' for g in GROUPS)
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def study_env(tmp_path: Path, clock_file: Path, **extra: str) -> dict[str, str]:
    return bot_env(
        tmp_path,
        LIANXIN_CLOCK_FILE=str(clock_file),
        LIANXIN_MATERIALS=str(MATERIALS),
        LIANXIN_TICK_SECONDS="1",
        LIANXIN_SEND_INTERVAL="0.3",
        LIANXIN_SEND_JITTER="0",
        LOG_LEVEL="INFO",
        **extra,
    )


def group_posts(calls: list[Call]) -> Counter[tuple[str, int]]:
    return Counter((c.action, int(c.params["group_id"])) for c in calls if c.action in POSTS)


async def until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_study_day_posts_once_even_when_killed_mid_broadcast(tmp_path: Path) -> None:
    clock_file = tmp_path / "clock"
    set_clock(clock_file, STUDY_DAY)
    env = study_env(tmp_path, clock_file, LIANXIN_ORG=str(many_groups_org(tmp_path)))
    expected = {(a, g) for g in GROUPS for a in POSTS} | {(a, 40001) for a in POSTS}
    async with OneBotPeer() as peer:
        first = BotProcess(env, log_dir=tmp_path)
        first.start()
        try:
            await first.wait_listening()
            await peer.connect_reverse(first.ws_url)
            # A few groups in, between two paced sends: kill -9.
            await until(lambda: sum(group_posts(peer.calls).values()) >= 7, 30, "the broadcast to start")
            await peer.calls[-1].answered()
            await asyncio.sleep(0.1)
        finally:
            first.kill9()
        before = group_posts(peer.calls)
        assert 7 <= sum(before.values()) < len(expected), before
        # Whatever was mid-send when the process died stays "sending" and is never re-sent blind.
        db = sqlite3.connect(tmp_path / "bot.db")
        in_flight = db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'sending'").fetchone()[0]
        db.close()

        async with BotProcess(env, port=first.port, log_dir=tmp_path) as second:
            await peer.reconnect(retry_for=20)
            await until(lambda: sum(group_posts(peer.calls).values()) >= len(expected) - in_flight, 40, "the rest of the broadcast")
            await asyncio.sleep(2.5)  # more ticks: nothing more may come
            sent = group_posts(peer.calls)
            assert set(sent) <= expected and max(sent.values()) == 1, sent
            assert len(sent) == len(expected) - in_flight, (sent, in_flight, second.output()[-3000:])
    # Each group's summary came before its full text.
    order = [(c.action, c.params["group_id"]) for c in peer.calls if c.action in POSTS]
    for g in GROUPS:
        if ("send_group_msg", g) in order and ("send_group_forward_msg", g) in order:
            assert order.index(("send_group_msg", g)) < order.index(("send_group_forward_msg", g))
    summary = next(c for c in peer.calls if c.action == "send_group_msg")
    assert summary.text.startswith("【学习日】2026年12月学习材料\n《安全生产测试材料》\n十二月的摘要。")


@pytest.mark.skipif(not PG_URL, reason="LIANXIN_TEST_PG is not set")
async def test_two_processes_on_one_postgresql_database_post_once(tmp_path: Path) -> None:
    assert PG_URL
    url, name = await _pg_database(PG_URL)
    clock_file = tmp_path / "clock"
    set_clock(clock_file, STUDY_DAY)
    env = study_env(tmp_path, clock_file, LIANXIN_ORG=str(many_groups_org(tmp_path)), SQLALCHEMY_DATABASE_URL=url)
    expected = {(a, g) for g in GROUPS + [40001] for a in POSTS}
    try:
        async with OneBotPeer() as peer_a, OneBotPeer() as peer_b:
            # The second starts once the first has migrated the empty database.
            async with BotProcess(env, log_dir=tmp_path / "a") as a, BotProcess(env, log_dir=tmp_path / "b") as b:
                await peer_a.connect_reverse(a.ws_url)
                await peer_b.connect_reverse(b.ws_url)

                def both() -> Counter[tuple[str, int]]:
                    return group_posts(peer_a.calls) + group_posts(peer_b.calls)

                await until(lambda: set(both()) == expected, 40, "every group's post")
                await asyncio.sleep(2.5)
                assert max(both().values()) == 1, both()
                # Both processes did part of the work (claims, not luck, kept it single).
                assert group_posts(peer_a.calls) and group_posts(peer_b.calls)
    finally:
        await _drop_pg_database(PG_URL, name)


def reply_to(user: int, group: int | None = None):  # type: ignore[no-untyped-def]
    if group is None:
        return lambda c: c.params.get("message_type") == "private" and c.params.get("user_id") == user
    return lambda c: c.params.get("group_id") == group


async def test_check_in_quiz_points_ranking_and_catch_up_from_chat(tmp_path: Path) -> None:
    clock_file = tmp_path / "clock"
    set_clock(clock_file, STUDY_DAY)
    env = study_env(tmp_path, clock_file)
    async with OneBotPeer() as peer, BotProcess(env, log_dir=tmp_path) as proc:
        peer.members[40001] = [10000, 30001, 30002, 20003, 20002]
        await peer.connect_reverse(proc.ws_url)
        await peer.wait_call("send_group_forward_msg", where=lambda c: c.params["group_id"] == 40001, timeout=15)

        async def say(user: int, text: str, group: int | None = None) -> str:
            mark = peer.mark()
            if group is None:
                await peer.private_message(user, text)
            else:
                await peer.group_message(group, user, text)
            return (await peer.wait_call(REPLIES, where=reply_to(user, group), since=mark)).text

        assert (await say(30001, "/已学", 40001)).startswith("张三打卡成功：《安全生产测试材料》。积分 +1。")
        assert (await say(30001, "/已学", 40001)) == "张三已经打过卡了：《安全生产测试材料》（12月5日）。"
        assert (await say(30001, "/答题", 40001)) == "/答题 请私聊我使用。"
        assert (await say(30001, "/答题")).endswith("第 1/3 题：第一题问什么？\nA. 甲\nB. 乙\nC. 丙")
        assert (await say(30001, "B")).startswith("回答正确！积分 +1。")
        assert (await say(30001, "A")).startswith("回答正确！积分 +1。\n解析：解析内容。")
        assert (await say(30001, "D")).endswith("测验结束：答对 3/3 题，本次获得 5 分，本月累计 6 分。")
        assert (await say(30001, "/积分")).startswith("张三的学习积分：本月 6 分，累计 6 分。")
        # Points are private until one opts in to the ranking.
        assert (await say(30002, "/排行", 40001)).startswith("2026年12月的排行里还没有人。")
        assert (await say(30001, "/排行 公开")).startswith("好的，你的学习积分会出现在 /排行")
        assert (await say(30002, "/排行", 40001)).startswith("2026年12月学习积分排行（只列愿意公开的同事）：\n1. 张三 6 分\n")

        # Three days later: the private copy to everyone in the group who has not checked in.
        mark = peer.mark()
        set_clock(clock_file, "2026-12-08T09:00:00+08:00")
        absent = {30002, 20003, 20002}
        await until(
            lambda: {c.params.get("user_id") for c in peer.calls[mark:] if c.action in PRIVATE_POSTS} >= absent, 20, "catch-up copies"
        )
        await asyncio.sleep(2.5)
        copies = Counter((c.action, c.params["user_id"]) for c in peer.calls[mark:] if c.action in PRIVATE_POSTS)
        assert copies == Counter({(a, u): 1 for a in PRIVATE_POSTS for u in absent}), copies
        text = next(c.text for c in peer.calls[mark:] if c.action == "send_private_msg" and c.params["user_id"] == 30002)
        assert text.startswith("周六，你好！12月5日学习日的学习材料还没看到你打卡")

        # The 1st of the month: 学习之星 in the group.
        mark = peer.mark()
        set_clock(clock_file, "2027-01-01T10:00:00+08:00")
        star = await peer.wait_call("send_group_msg", where=lambda c: "学习之星" in c.text, since=mark, timeout=15)
        assert star.params["group_id"] == 40001
        assert star.text.startswith("【学习之星】2026年12月学习积分排行（只列愿意公开的同事）\n1. 张三 6 分\n")


async def test_bad_material_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    folder = tmp_path / "materials"
    folder.mkdir()
    bad = folder / "2026-12-坏材料.md"
    bad.write_text("---\ntitle: 坏材料\nperiod: 2026-12\nquiz:\n  - question: 几？\n    choices: [一, 二]\n    answer: C\n---\n正文\n", encoding="utf-8")
    proc = BotProcess(bot_env(tmp_path, LIANXIN_MATERIALS=str(folder)), log_dir=tmp_path)
    proc.start()
    code = await proc.wait_exit(timeout=30)
    out = proc.output()
    assert code == 2, out
    lines = [line for line in out.splitlines() if line.strip()]
    # Materials are checked before anything connects: the one line is the whole output.
    assert lines == [f"连心无法启动：学习材料 {bad} 有误：quiz[0].answer：答案 C 超出选项范围（共 2 个选项，应为 A–B）"], out
    assert "Traceback" not in out and "Failed to import" not in out and not (tmp_path / "bot.db").exists()
