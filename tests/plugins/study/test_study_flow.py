"""Study day against a real database (SQLite, and PostgreSQL with LIANXIN_TEST_PG): what the
tick owes and puts in the outbox, points and caps, ranking, check-in, quiz and /发布学习."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot import clock, runtime
from bot.models import Outbox
from bot.org import load_org
from plugins.study import materials
from plugins.study import data_source, points, posting
from plugins.study.data_source import Where
from plugins.study.materials import Library, load_library
from plugins.study.models import StudyQuizSession
from tests.conftest import ROOT

TEST_MATERIALS = ROOT / "tests" / "data" / "study_materials"
STUDY_ORG = ROOT / "tests" / "data" / "org_study.yaml"
DEC = "2026-12/2026-12-安全"
YOUTH = """---
title: 青年理论学习
period: 2026-12
audience: 青年职工
summary: 青年的摘要。
quiz:
  - question: 青年题？
    choices: [是, 否]
    answer: A
---
青年的正文。
"""


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=clock.zone())  # type: ignore[misc]


async def tick(when: datetime) -> None:
    """The study tick at `when`, with the one clock (which the outbox reads too) set to it."""
    clock.set_now(when)
    await posting.tick()


@pytest.fixture(autouse=True)
async def _quiet_background() -> AsyncIterator[None]:
    """Background ticks and outbox workers must not touch a test's database while it runs."""
    from apscheduler.schedulers.base import STATE_RUNNING
    from nonebot_plugin_apscheduler import scheduler

    from bot import outbox

    worker, outbox.worker = outbox.worker, None  # a bot connecting in the test starts none
    if worker is not None:
        await worker.stop()
    running = scheduler.state == STATE_RUNNING
    if running:
        scheduler.pause()
    posting.forget()
    yield
    posting.forget()
    clock.set_now(None)
    outbox.worker = worker
    if running:
        scheduler.resume()


@pytest.fixture
def lib() -> Iterator[Library]:
    previous = materials.use(load_library(TEST_MATERIALS))
    yield materials.library()
    materials.use(previous)


@pytest.fixture
def youth_lib(tmp_path: Path) -> Iterator[Library]:
    folder = tmp_path / "materials"
    folder.mkdir()
    for f in TEST_MATERIALS.glob("*.md"):
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "2026-12-青年.md").write_text(YOUTH, encoding="utf-8")
    previous = materials.use(load_library(folder))
    yield materials.library()
    materials.use(previous)


@pytest.fixture
def study_org() -> Iterator[None]:
    before = runtime.org()
    runtime.set_org(load_org(STUDY_ORG))
    yield
    runtime.set_org(before)


async def ledger(db, purpose: str | None = None) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    async with db() as s:
        q = select(Outbox).order_by(Outbox.id)
        if purpose:
            q = q.where(Outbox.purpose == purpose)
        return [(r.purpose, r.period, r.target_kind, r.target_id) for r in (await s.scalars(q)).all()]


async def payload(db, purpose: str, target: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with db() as s:
        row = await s.scalar(select(Outbox).where(Outbox.purpose == purpose, Outbox.target_id == target))
        assert row is not None
        return row.payload


# --- study-day posts ------------------------------------------------------------------------


async def test_study_day_posts_each_group_once_in_order(db, study_org, youth_lib) -> None:  # type: ignore[no-untyped-def]
    # Saturday 5 December 2026, 09:00.
    await tick(at(2026, 12, 5, 8, 59))
    assert await ledger(db) == []
    await tick(at(2026, 12, 5, 9, 0, 5))
    youth = "2026-12/2026-12-青年"
    assert await ledger(db) == [
        ("study", DEC, "group", "40001"),
        ("study-text", DEC, "group", "40001"),
        ("study", DEC, "group", "40003"),
        ("study-text", DEC, "group", "40003"),
        ("study", youth, "group", "40003"),  # tagged 青年职工: the audience material as well
        ("study-text", youth, "group", "40003"),
    ]
    # The next tick, a restart (memo gone) and a later hour the same day add nothing.
    await tick(at(2026, 12, 5, 9, 0, 35))
    posting.forget()
    await tick(at(2026, 12, 5, 11, 0))
    assert len(await ledger(db)) == 6
    # The biweekly group posts at 16:00; the group with `holiday: next_workday` waits for Monday.
    await tick(at(2026, 12, 5, 16, 0))
    assert (await ledger(db))[6:] == [("study", DEC, "group", "40005"), ("study-text", DEC, "group", "40005")]
    await tick(at(2026, 12, 7, 8, 30))
    assert (await ledger(db))[8:] == [("study", DEC, "group", "40004"), ("study-text", DEC, "group", "40004")]
    # The biweekly second session (19th) has no "2026-12下" material: nothing new, no repeat.
    await tick(at(2026, 12, 19, 16, 0))
    assert len(await ledger(db)) == 10


async def test_a_post_missed_all_day_is_not_sent_the_next_day(db, lib) -> None:  # type: ignore[no-untyped-def]
    await tick(at(2026, 12, 6, 9, 0))
    assert await ledger(db) == []
    await tick(at(2026, 12, 5, 23, 59))
    assert len(await ledger(db)) == 2


async def test_post_payload_is_a_summary_then_a_merged_full_text(db, lib) -> None:  # type: ignore[no-untyped-def]
    await tick(at(2026, 12, 5, 9, 30))
    assert await payload(db, "study", "40001") == [
        {
            "type": "text",
            "text": "【学习日】2026年12月学习材料\n《安全生产测试材料》\n十二月的摘要。\n\n"
            "全文见下一条消息（聊天记录，点开即可阅读）。学完请在群里发送 /已学 打卡；私聊我发送 /答题 参加测验（共 3 题），答对有积分。",
        }
    ]
    assert await payload(db, "study-text", "40001") == [
        {
            "type": "forward",
            "nodes": ["《安全生产测试材料》\n\n【一、开头】\n\n这是十二月的正文第一段。", "【二、要点】\n\n· 第一条\n· 第二条"],
        }
    ]


async def test_refused_merged_message_goes_out_as_pages(db, lib) -> None:  # type: ignore[no-untyped-def]
    await tick(at(2026, 12, 5, 9, 30))
    async with db() as s:
        await s.execute(update(Outbox).where(Outbox.purpose == "study-text").values(status="failed"))
        await s.commit()
    await tick(at(2026, 12, 5, 9, 35))
    await tick(at(2026, 12, 5, 9, 36))
    assert await ledger(db, "study-text-page") == [("study-text-page", f"{DEC}#1", "group", "40001")]
    (part,) = await payload(db, "study-text-page", "40001")
    assert part["text"] == "《安全生产测试材料》\n\n【一、开头】\n\n这是十二月的正文第一段。\n\n【二、要点】\n\n· 第一条\n· 第二条"


# --- catch-up -------------------------------------------------------------------------------


async def test_catch_up_goes_to_members_without_a_check_in_once(db, lib, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    members: list[str] | None = None

    async def fake_members(group_id: str) -> list[str] | None:
        calls.append(group_id)
        return members

    monkeypatch.setattr(posting, "group_members", fake_members)
    group = runtime.org().groups["40001"]
    assert await data_source.check_in(lib, Where("30001", group, "张三"), "", at(2026, 12, 5, 10, 0))
    # Three days later, before the study time: not yet.
    await tick(at(2026, 12, 8, 8, 59))
    assert calls == []
    # The member list cannot be fetched: nothing queued, asked again at the next tick.
    await tick(at(2026, 12, 8, 9, 0))
    assert calls == ["40001"] and await ledger(db) == []
    members = ["30001", "30002", "20003", "55555"]
    await tick(at(2026, 12, 8, 9, 1))
    assert await ledger(db) == [
        ("study-catchup", DEC, "private", "30002"),
        ("study-catchup", DEC, "private", "20003"),
        ("study-catchup", DEC, "private", "55555"),
        ("study-catchup-text", DEC, "private", "30002"),
        ("study-catchup-text", DEC, "private", "20003"),
        ("study-catchup-text", DEC, "private", "55555"),
    ]
    (part,) = await payload(db, "study-catchup", "30002")
    assert part["text"] == (
        "周六，你好！12月5日学习日的学习材料还没看到你打卡，特地发给你一份：\n《安全生产测试材料》\n十二月的摘要。\n\n"
        "全文见下一条消息。学完后发送 /已学 打卡；发送 /答题 参加测验（共 3 题），答对有积分。"
    )
    assert (await payload(db, "study-catchup", "55555"))[0]["text"].startswith("你好！12月5日")
    # Once: later ticks do not ask again, and a restart queues nothing new.
    await tick(at(2026, 12, 8, 9, 2))
    assert calls == ["40001", "40001"]
    posting.forget()
    await tick(at(2026, 12, 8, 15, 0))
    assert len(await ledger(db)) == 6
    # Not on a later day.
    posting.forget()
    await tick(at(2026, 12, 9, 9, 30))
    assert calls == ["40001", "40001", "40001"]


async def test_group_members_skips_our_own_accounts_and_reports_failure(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import nonebot

    from bot.platform import SendFailed

    class Port:
        def __init__(self, answer: list[str] | None) -> None:
            self.answer = answer

        async def members(self, group_id: str) -> list[str]:
            if self.answer is None:
                raise SendFailed("no")
            return self.answer

    monkeypatch.setattr(nonebot, "get_bots", lambda: {"10000": object()})
    monkeypatch.setattr(posting, "port_by_id", lambda bot_id: Port(["10000", "30001", "30002"]))
    assert await posting.group_members("40001") == ["30001", "30002"]
    monkeypatch.setattr(posting, "port_by_id", lambda bot_id: Port(None))
    assert await posting.group_members("40001") is None
    monkeypatch.setattr(posting, "port_by_id", lambda bot_id: Port([]))
    assert await posting.group_members("40001") is None
    monkeypatch.setattr(nonebot, "get_bots", lambda: {})
    assert await posting.group_members("40001") is None


# --- points and ranking ---------------------------------------------------------------------


async def test_points_have_daily_caps_and_are_given_once(db) -> None:  # type: ignore[no-untyped-def]
    now = at(2026, 12, 5, 10, 0)
    async with db() as s:
        assert [await points.award(s, "30001", "checkin", f"m{i}", now) for i in range(3)] == [1, 1, 0]
        assert await points.award(s, "30001", "checkin", "m0", now + timedelta(days=1)) == 0  # once per material
        assert await points.award(s, "30001", "checkin", "m2", now + timedelta(days=1)) == 1  # capped yesterday, fine today
        assert [await points.award(s, "30001", "answer", f"m#{i}", now) for i in range(7)] == [1, 1, 1, 1, 1, 0, 0]
        assert await points.award(s, "30001", "full", "m", now) == 2
        assert await points.award(s, "30001", "full", "n", now) == 0
        await s.commit()
        assert await points.month_total(s, "30001", "2026-12") == 10
        assert await points.used_today(s, "30001", "answer", "2026-12-05") == 5


async def test_ranking_ties_names_and_only_people_with_points(db, study_org) -> None:  # type: ignore[no-untyped-def]
    now = at(2026, 12, 5, 10, 0)
    async with db() as s:
        for uid, n, name in [("30001", 3, None), ("30002", 3, None), ("88881234", 2, "老刘"), ("77775678", 1, None), ("20003", 0, None)]:
            for i in range(n):
                await points.award(s, uid, "answer", f"m#{i}", now, name)
        await points.award(s, "30001", "checkin", "old", at(2026, 11, 5, 10, 0))
        await s.commit()
        assert await points.ranking(s, "2026-12") == []  # points are private until one opts in
        for uid in ("30001", "30002", "88881234", "77775678", "20003"):
            await points.set_public(s, uid, True)
        await s.commit()
        ranks = await points.ranking(s, "2026-12")
    assert points.ranking_lines(ranks) == ["1. 周六 3 分", "1. 张三 3 分", "3. 老刘 2 分", "4. QQ尾号5678 1 分"]


async def test_monthly_ranking_on_the_first_at_ten(db, study_org) -> None:  # type: ignore[no-untyped-def]
    async with db() as s:
        await points.award(s, "30001", "checkin", "m", at(2026, 11, 5, 10, 0))
        await points.award(s, "30002", "answer", "m#1", at(2026, 11, 20, 10, 0))
        await points.award(s, "30002", "answer", "m#2", at(2026, 11, 20, 10, 0))
        await points.award(s, "30001", "checkin", "n", at(2026, 12, 1, 8, 0))  # December's: not counted
        await points.award(s, "20003", "checkin", "m", at(2026, 11, 5, 10, 0))  # never opted in: not listed
        await points.set_public(s, "30001", True)
        await points.set_public(s, "30002", True)
        await s.commit()
    await tick(at(2026, 12, 1, 9, 59))
    assert await ledger(db, "study-star") == []
    await tick(at(2026, 12, 1, 10, 0))
    await tick(at(2026, 12, 1, 10, 1))
    assert await ledger(db, "study-star") == [("study-star", "2026-11", "group", g) for g in ("40001", "40003", "40004", "40005", "40006")]
    (part,) = await payload(db, "study-star", "40001")
    assert part["text"] == (
        "【学习之星】2026年11月学习积分排行（只列愿意公开的同事）\n1. 周六 2 分\n2. 张三 1 分\n\n"
        "感谢大家认真学习！新的一月，学习日见。发送 /积分 可以查看自己的积分。"
    )
    # Nobody had points in October: nothing is posted for it.
    posting.forget()
    await tick(at(2026, 11, 1, 10, 0))
    assert len(await ledger(db, "study-star")) == 5


# --- check-in -------------------------------------------------------------------------------


async def test_check_in_once_per_material_with_points(db, lib) -> None:  # type: ignore[no-untyped-def]
    group = runtime.org().groups["40001"]
    now = at(2026, 12, 5, 10, 0)
    first = await data_source.check_in(lib, Where("30001", group, "张三"), "", now)
    assert first == "张三打卡成功：《安全生产测试材料》。积分 +1。\n私聊我发送 /答题 参加本期测验（共 3 题），答对还有积分。"
    again = await data_source.check_in(lib, Where("30001", None, "张三"), "", now + timedelta(days=2))
    assert again == "你已经打过卡了：《安全生产测试材料》（12月5日）。"
    old = await data_source.check_in(lib, Where("30001", None, "张三"), "十一月", now)
    assert old == "打卡成功：《十一月测试材料》。积分 +1（本月共 2 分）。"
    # The daily cap (2) is reached: the third check-in of the day counts but earns nothing.
    await data_source.check_in(lib, Where("30002", None, "周六"), "十一月", now)
    await data_source.check_in(lib, Where("30002", None, "周六"), "安全生产", now)
    extra = Library(lib.materials + [lib.materials[0].__class__(**{**lib.materials[0].__dict__, "id": "x", "title": "额外材料"})])
    capped = await data_source.check_in(extra, Where("30002", None, "周六"), "额外材料", now)
    assert capped == "打卡成功：《额外材料》。今天的打卡积分已满（每天最多 2 分），这次不再加分。"


async def test_check_in_without_material_or_with_several(db, youth_lib) -> None:  # type: ignore[no-untyped-def]
    assert await data_source.check_in(youth_lib, Where("30001", None), "", at(2026, 10, 20, 9, 0)) == "本月还没有学习材料，材料发布后再来打卡吧。"
    assert await data_source.check_in(youth_lib, Where("30001", None), "", at(2027, 2, 3, 9, 0)) == (
        "本月还没有学习材料，材料发布后再来打卡吧。最近一期是《新年测试材料》（2027年1月），发送 /已学 新年测试材料 即可。"
    )
    # Private chat in a month with a general and a 青年职工 material: which one?
    assert await data_source.check_in(youth_lib, Where("30001", None), "", at(2026, 12, 5, 9, 0)) == (
        "本期有 2 份材料：《安全生产测试材料》《青年理论学习》。请发送 /已学 标题 说明是哪一份。"
    )
    assert await data_source.check_in(youth_lib, Where("30001", None), "不存在的", at(2026, 12, 5, 9, 0)) == (
        "没有找到标题含“不存在的”的学习材料。发送 /学习 查看本期材料。"
    )
    # A group without the tag sees only the general material, so no question arises.
    plain_group = runtime.org().groups["40001"]
    assert (await data_source.check_in(youth_lib, Where("30001", plain_group, "张三"), "", at(2026, 12, 5, 9, 0))).startswith("张三打卡成功：《安全生产测试材料》")


# --- the quiz -------------------------------------------------------------------------------


async def test_quiz_one_question_at_a_time_with_points_and_bonus(db, lib) -> None:  # type: ignore[no-untyped-def]
    me = Where("30001", None, "张三")
    now = at(2026, 12, 5, 10, 0)
    assert await data_source.answer(lib, me, "A", now) is None  # no quiz open: not ours
    start = await data_source.start_quiz(lib, me, "", now)
    assert start == (
        "《安全生产测试材料》测验开始，共 3 题。回复选项字母（如 A）即可，每题请在 10 分钟内作答；发送“退出”可以随时结束。\n"
        "第 1/3 题：第一题问什么？\nA. 甲\nB. 乙\nC. 丙"
    )
    assert await data_source.answer(lib, me, "今天吃什么", now) == "正在答题：请回复 A–C 中的一个字母（也可以回复 1–3），发送“退出”结束答题。"
    assert await data_source.answer(lib, me, "D", now) == "这道题只有 A–C 3 个选项，请回复其中一个字母（或 1–3）。"
    assert await data_source.answer(lib, me, "ｂ", now) == "回答正确！积分 +1。\n\n第 2/3 题：第二题对不对？\nA. 对\nB. 错"
    # A restart: the session is in the database, /答题 picks it up again.
    assert await data_source.start_quiz(lib, me, "", now) == "继续上次的测验：\n第 2/3 题：第二题对不对？\nA. 对\nB. 错"
    assert await data_source.answer(lib, me, "选A", now) == "回答正确！积分 +1。\n解析：解析内容。\n\n第 3/3 题：第三题选几？\nA. 一\nB. 二\nC. 三\nD. 四"
    assert await data_source.answer(lib, me, "4", now) == (
        "回答正确！积分 +1。\n\n全部答对，真棒！额外奖励 2 分。\n测验结束：答对 3/3 题，本次获得 5 分，本月累计 5 分。"
    )
    assert await data_source.answer(lib, me, "A", now) is None
    # A second attempt: the same questions earn nothing again, and no second bonus.
    await data_source.start_quiz(lib, me, "", now)
    await data_source.answer(lib, me, "B", now)
    await data_source.answer(lib, me, "A", now)
    assert await data_source.answer(lib, me, "D", now) == (
        "回答正确！\n\n全部答对，真棒！\n测验结束：答对 3/3 题，本次获得 0 分，本月累计 5 分。"
    )


async def test_quiz_wrong_answers_timeout_and_exit(db, lib) -> None:  # type: ignore[no-untyped-def]
    me = Where("30002", None, "周六")
    now = at(2026, 12, 5, 10, 0)
    await data_source.start_quiz(lib, me, "安全生产", now)
    assert await data_source.answer(lib, me, "A", now) == "回答错误，正确答案是 B. 乙。\n\n第 2/3 题：第二题对不对？\nA. 对\nB. 错"
    # Eleven minutes later the question has timed out: said once, then the quiz is gone.
    late = now + timedelta(minutes=11)
    assert await data_source.answer(lib, me, "A", late) == (
        "上一题超过 10 分钟没有作答，本次测验已经结束（答对 0/1 题，获得 0 分）。发送 /答题 可以重新开始。"
    )
    assert await data_source.answer(lib, me, "A", late) is None
    # Timed out and the next message is not an answer: left for other features, quiz closed.
    await data_source.start_quiz(lib, me, "", late)
    assert await data_source.answer(lib, me, "你好", late + timedelta(minutes=20)) is None
    async with db() as s:
        assert await s.get(StudyQuizSession, "30002") is None
    await data_source.start_quiz(lib, me, "", late)
    assert await data_source.answer(lib, me, "退出", late) == "已结束本次测验（答对 0/0 题，获得 0 分）。发送 /答题 可以重新开始。"


async def test_quiz_without_questions_and_unknown_titles(db, lib) -> None:  # type: ignore[no-untyped-def]
    me = Where("30001", None)
    assert await data_source.start_quiz(lib, me, "十一月", at(2026, 12, 5, 10, 0)) == "《十一月测试材料》没有测验题。"
    assert await data_source.start_quiz(lib, me, "", at(2026, 11, 5, 10, 0)) == "本期材料《十一月测试材料》没有测验题。"
    assert await data_source.start_quiz(lib, me, "没有这份", at(2026, 12, 5, 10, 0)) == (
        "没有找到标题含“没有这份”的学习材料。发送 /学习 查看本期材料。"
    )


def test_parse_answer() -> None:
    assert [data_source.parse_answer(t) for t in ("A", " b ", "Ｃ", "2", "选B", "答案：C。", "我选 d", "AB", "好的", "10")] == [
        "A", "B", "C", "2", "B", "C", "D", None, None, None,
    ]


# --- /发布学习 --------------------------------------------------------------------------------


async def test_publish_shows_the_plan_and_sends_only_on_confirmation(db, study_org, youth_lib) -> None:  # type: ignore[no-untyped-def]
    org, cadre = runtime.org(), "20002"
    now = at(2026, 12, 3, 15, 0)
    offer = await posting.publish_offer(youth_lib, org, cadre, "安全生产", now)
    assert offer == (
        "将把《安全生产测试材料》（2026年12月）发到 5 个群：质量科职工群、青年职工群、执法大队群、理论学习小组、季度讲堂群\n"
        "确认发布请在 30 分钟内发送“/发布学习 确认”；不发就不用回复。"
    )
    assert await ledger(db) == []  # nothing is sent before the confirmation
    reply = await posting.publish_confirm(youth_lib, org, cadre, now + timedelta(minutes=2))
    assert reply == (
        "《安全生产测试材料》：\n· 质量科职工群：已排队发送\n· 青年职工群：已排队发送\n· 执法大队群：已排队发送\n"
        "· 理论学习小组：已排队发送\n· 季度讲堂群：已排队发送\n会逐个发送，群与群之间间隔几秒；发完后我会私聊告诉你每个群的结果。"
    )
    summaries = await ledger(db, "study-publish")
    assert [t for _, _, _, t in summaries] == ["40001", "40003", "40004", "40005", "40006"]
    assert {p for _, p, _, _ in summaries} == {"20261203/2026-12/2026-12-安全"}
    assert (await payload(db, "study-publish", "40001"))[0]["text"].startswith("【学习材料】2026年12月学习材料\n《安全生产测试材料》")
    # A second tap on 确认 sends nothing more.
    assert (await posting.publish_confirm(youth_lib, org, cadre, now + timedelta(minutes=3))).startswith("没有等待确认的发布")
    assert len(await ledger(db, "study-publish")) == 5
    # Asked again: every group has it (queued counts), so there is nothing to confirm.
    assert await posting.publish_offer(youth_lib, org, cadre, "《安全生产测试材料》", now) == (
        "《安全生产测试材料》各学习群都已经有了，不需要再发。\n"
        + "\n".join(f"不再发：{g}（正在发送中，稍后就到）" for g in ("质量科职工群", "青年职工群", "执法大队群", "理论学习小组", "季度讲堂群"))
    )


async def test_publish_skips_groups_that_had_it_on_their_study_day_and_reports_per_group(db, study_org, youth_lib) -> None:  # type: ignore[no-untyped-def]
    org, cadre = runtime.org(), "20002"
    await tick(at(2026, 12, 5, 9, 0))  # the study day of three groups (the biweekly one is at 16:00)
    async with db() as s:
        await s.execute(update(Outbox).where(Outbox.purpose == "study").values(status="sent"))
        await s.execute(update(Outbox).where(Outbox.purpose == "study", Outbox.target_id == "40004").values(status="failed"))
        await s.commit()
    now = at(2026, 12, 7, 10, 0)
    offer = await posting.publish_offer(youth_lib, org, cadre, "", now)
    assert offer.startswith(
        "将把《安全生产测试材料》（2026年12月）发到 3 个群：执法大队群、理论学习小组、季度讲堂群\n"
        "不再发：质量科职工群（12月5日学习日已收到）\n不再发：青年职工群（12月5日学习日已收到）\n"
        "《青年理论学习》各学习群都已经有了，不需要再发。\n不再发：青年职工群（12月5日学习日已收到）\n"
    )
    assert "确认发布请在 30 分钟内" in offer
    await posting.publish_confirm(youth_lib, org, cadre, now)
    assert [t for _, _, _, t in await ledger(db, "study-publish")] == ["40004", "40005", "40006"]  # 40004: its post failed
    # Not done yet: no report. Once the sends are done, the cadre hears how each went.
    assert await posting.publish_reports(now) == 0
    async with db() as s:
        await s.execute(update(Outbox).where(Outbox.purpose == "study-publish", Outbox.target_id.in_(["40004", "40005"])).values(status="sent"))
        await s.execute(update(Outbox).where(Outbox.purpose == "study-publish", Outbox.target_id == "40006").values(status="unknown"))
        await s.commit()
    assert await posting.publish_reports(now) == 1
    assert await posting.publish_reports(now) == 0  # once
    report = (await payload(db, "study-publish-report", str(cadre)))[0]["text"]
    assert report == (
        "【发布学习结果】\n《安全生产测试材料》：\n· 执法大队群：已发出\n· 理论学习小组：已发出\n"
        "· 季度讲堂群：不确定是否发出（没有收到 QQ 的确认；到群里看一眼，没有的话发送 /重发）"
    )


async def test_a_mistyped_title_of_another_month_is_shown_and_needs_confirmation(db, lib) -> None:  # type: ignore[no-untyped-def]
    org, cadre = runtime.org(), "20002"
    now = at(2026, 12, 3, 9, 0)
    offer = await posting.publish_offer(lib, org, cadre, "十一月", now)  # meant December's
    assert offer.startswith("注意：《十一月测试材料》是2026年11月的材料，不是本期的。\n将把《十一月测试材料》（2026年11月）发到 1 个群：质量科职工群\n")
    assert await ledger(db) == []
    # Typed again with the right title: that is the offer 确认 sends, not November's.
    await posting.publish_offer(lib, org, cadre, "安全生产", now)
    await posting.publish_confirm(lib, org, cadre, now)
    assert [p for _, p, _, _ in await ledger(db, "study-publish")] == ["20261203/2026-12/2026-12-安全"]
    # An offer left too long is not sent.
    await posting.publish_offer(lib, org, cadre, "新年", now)
    assert (await posting.publish_confirm(lib, org, cadre, now + timedelta(minutes=31))).startswith("没有等待确认的发布")
    assert len(await ledger(db, "study-publish")) == 1


async def test_publish_bad_input(db, lib) -> None:  # type: ignore[no-untyped-def]
    org = runtime.org()
    assert await posting.publish_offer(lib, org, "20002", "不存在", at(2026, 12, 3, 9, 0)) == (
        "没有找到标题含“不存在”的学习材料。现有材料：《新年测试材料》《安全生产测试材料》《十一月测试材料》。"
    )
    assert await posting.publish_offer(lib, org, "20002", "测试材料", at(2026, 12, 3, 9, 0)) == (
        "有 3 份材料符合“测试材料”：《新年测试材料》《安全生产测试材料》《十一月测试材料》。请写出完整标题。"
    )
    assert await posting.publish_offer(lib, org, "20002", "", at(2026, 10, 3, 9, 0)) == "本月还没有学习材料。可以发送 /发布学习 标题 发布指定的材料。"
    assert (await posting.publish_confirm(lib, org, "20002", at(2026, 12, 3, 9, 0))).startswith("没有等待确认的发布")
    assert await ledger(db) == []


async def test_upcoming_for_status(db, lib) -> None:  # type: ignore[no-untyped-def]
    items = await posting.upcoming(at(2026, 12, 5, 9, 30))
    assert items == [
        (at(2027, 1, 5, 9, 0), "学习日 质量科职工群《新年测试材料》"),
        (at(2027, 1, 1, 10, 0), "学习之星排行"),
    ]
    items = await posting.upcoming(at(2026, 12, 1, 8, 0))
    assert items == [(at(2026, 12, 5, 9, 0), "学习日 质量科职工群《安全生产测试材料》"), (at(2026, 12, 1, 10, 0), "学习之星排行")]


# --- a study day without material: the cadres are told a few days before -------------------


async def test_cadres_are_warned_once_a_few_days_before_a_study_day_without_material(db, study_org, lib) -> None:  # type: ignore[no-untyped-def]
    await tick(at(2026, 12, 2, 10, 0))  # December's study day has its material: nothing to say
    assert await ledger(db, "study-missing") == []
    await tick(at(2027, 2, 2, 8, 59))  # February has none; not before 09:00
    assert await ledger(db, "study-missing") == []
    await tick(at(2027, 2, 2, 9, 0))
    assert await ledger(db, "study-missing") == [("study-missing", "2027-02-05", "private", "20002")]  # the one cadre
    assert (await payload(db, "study-missing", "20002"))[0]["text"] == (
        "【学习材料提醒】2月5日（周五）是学习日，质量科职工群、青年职工群、执法大队群、理论学习小组要推送2027年2月的学习材料，但材料目录里还没有。\n"
        "请在那之前把材料文件交给系统管理员，放进材料目录后重启连心；没有材料，那天就不会推送。"
    )
    # Later ticks, the next day, a restart (memo forgotten): still once per study day.
    await tick(at(2027, 2, 2, 9, 1))
    posting.forget()
    await tick(at(2027, 2, 3, 9, 0))
    assert len(await ledger(db, "study-missing")) == 1
    # Nothing goes to the groups on the day either.
    await tick(at(2027, 2, 5, 9, 0))
    assert await ledger(db, "study") == []
