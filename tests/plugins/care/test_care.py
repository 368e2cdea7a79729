"""Care and culture without NoneBot: greetings through the outbox (exactly once, at the right
time, to the right groups), commendations through review into the Monday digest, suggestions
to the right leader and the year-end summary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import delete, select

from bot import clock, runtime
from bot.models import Outbox
from bot.org import build_org
from plugins.care import commend, greet, greetings, suggest
from plugins.care.common import CareError
from plugins.care.models import Commendation, Suggestion
from tests.fakes import queued

ZHANG, ZHOU, WANG, CADRE, HEAD = "30001", "30002", "20003", "20002", "20000"
QUALITY_GROUP, OFFICE_GROUP = "40001", "40002"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=clock.zone())  # type: ignore[misc]


@contextmanager
def org_with(**changes: object) -> Iterator[None]:
    """The test org with some top-level lists replaced (people, groups…)."""
    old = runtime.org()
    spec = old.spec.model_copy(update=changes)
    runtime.set_org(build_org(old.source, spec))
    try:
        yield
    finally:
        runtime.set_org(old)


def text_of(row: Outbox) -> str:
    return "".join(p.get("text", "") for p in row.payload)


# --- birthdays ---------------------------------------------------------------------------


async def test_birthday_greeting_waits_for_0830_then_is_enqueued_once(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 3, 12, 8, 29))
    assert await greet.birthday_tick() == 0
    clock.set_now(at(2026, 3, 12, 8, 30))
    assert await greet.birthday_tick() == 1
    clock.set_now(at(2026, 3, 12, 21, 0))
    assert await greet.birthday_tick() == 0  # every later tick, any process: nothing new
    rows = await queued(db, greet.BIRTHDAY)
    assert [(r.period, r.target_kind, r.target_id) for r in rows] == [("2026-03-12:30001", "group", QUALITY_GROUP)]
    assert rows[0].payload[0] == {"type": "mention", "user_id": ZHANG}
    expected = greetings.choose(greetings.configured().birthday, "birthday", ZHANG, QUALITY_GROUP, 2026)
    assert text_of(rows[0]) == " " + expected.format(name="张三", org="测试局", group="质量科职工群")
    assert "张三" in text_of(rows[0])


async def test_a_greeting_missed_while_down_goes_out_later_the_same_day_not_the_next(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 3, 12, 23, 50))
    assert await greet.birthday_tick() == 1
    clock.set_now(at(2026, 3, 13, 9, 0))
    assert await greet.birthday_tick() == 0
    assert len(await queued(db, greet.BIRTHDAY)) == 1


async def test_lunar_birthday_in_the_department_group(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 9, 25, 9, 0))  # 农历八月十五
    await greet.birthday_tick()
    rows = await queued(db, greet.BIRTHDAY)
    assert [(r.period, r.target_id) for r in rows] == [("2026-09-25:30002", OFFICE_GROUP)]
    assert "周六" in text_of(rows[0])


async def test_moderated_groups_count_and_people_without_a_group_are_greeted_privately(db) -> None:  # type: ignore[no-untyped-def]
    spec = runtime.org().spec
    people = [p.model_copy(update={"birthday": "1990-07-01"}) if p.qq in (WANG, HEAD) else p for p in spec.people]
    groups = [g.model_copy(update={"moderators": [WANG]}) for g in spec.groups]  # 王五 moderates both
    people = [p.model_copy(update={"department": None}) if p.qq == HEAD else p for p in people]
    with org_with(people=people, groups=groups):
        clock.set_now(at(2026, 7, 1, 8, 30))
        assert await greet.birthday_tick() == 3
    rows = await queued(db, greet.BIRTHDAY)
    assert sorted((r.period, r.target_kind, r.target_id) for r in rows) == [
        ("2026-07-01:20000", "private", HEAD),
        ("2026-07-01:20003", "group", QUALITY_GROUP),
        ("2026-07-01:20003", "group", OFFICE_GROUP),
    ]
    private = next(r for r in rows if r.target_kind == "private")
    assert private.payload[0]["type"] == "text" and "赵局长" in text_of(private)


async def test_two_birthdays_in_one_group_get_different_texts(db) -> None:  # type: ignore[no-untyped-def]
    spec = runtime.org().spec
    people = [p.model_copy(update={"birthday": "1991-05-20"}) if p.qq in (ZHANG, WANG) else p for p in spec.people]
    with org_with(people=people):
        clock.set_now(at(2026, 5, 20, 8, 30))
        assert await greet.birthday_tick() == 2
    rows = await queued(db, greet.BIRTHDAY)
    texts = [text_of(r).replace("张三", "X").replace("王五", "X") for r in rows]
    assert len(rows) == 2 and texts[0] != texts[1]


# --- festivals ---------------------------------------------------------------------------


async def test_festival_greeting_to_every_group_once_from_0800(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 9, 25, 7, 59))
    assert await greet.festival_tick() == 0
    clock.set_now(at(2026, 9, 25, 8, 0))
    assert await greet.festival_tick() == 2
    assert await greet.festival_tick() == 0
    rows = await queued(db, greet.FESTIVAL)
    assert [(r.period, r.target_id) for r in rows] == [("2026-09-25:中秋节", "40001"), ("2026-09-25:中秋节", "40002")]
    for r in rows:
        expected = greetings.choose(greetings.configured().festivals["中秋节"], "中秋节", r.target_id, 2026)
        group = runtime.org().groups[r.target_id].name
        assert text_of(r) == expected.format(org="测试局", group=group, year=2026, zodiac="马")


async def test_spring_festival_names_the_new_zodiac_and_ordinary_days_send_nothing(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 9, 24, 12, 0))
    assert await greet.festival_tick() == 0
    clock.set_now(at(2027, 2, 6, 8, 0))
    assert await greet.festival_tick() == 2
    rows = await queued(db, greet.FESTIVAL)
    assert {r.period for r in rows} == {"2027-02-06:春节"}
    assert all("马" not in text_of(r) for r in rows)  # 2027 is the year of the goat (羊)


# --- commendations -----------------------------------------------------------------------


async def nominate(deed: str = "主动留下来帮大家修好了打印机", nominee: str = ZHANG, nominator: str = ZHOU, group: str | None = QUALITY_GROUP) -> int:
    done = await commend.nominate(nominator=nominator, nominator_name=None, nominee=nominee, nominee_name=None, group_id=group, deed=deed)
    return done.id


async def test_nomination_is_stored_and_cadres_are_told_through_the_outbox(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 11, 17, 10, 0))  # a Tuesday
    n = await nominate()
    async with db() as s:
        row = await s.get(Commendation, n)
    assert (row.nominee, row.nominee_name, row.nominator_name, row.status) == (ZHANG, "张三", "周六", "pending")
    told = await queued(db, commend.NOMINATED)
    assert [(r.period, r.target_id) for r in told] == [(str(n), CADRE)]
    assert f"#{n} 表扬 张三（质量科）｜11月17日由周六（办公室）推荐" in text_of(told[0])
    assert f"/通过 {n}" in text_of(told[0])


async def test_bad_nominations_are_refused_and_nothing_is_stored(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 11, 17, 10, 0))
    with pytest.raises(CareError, match="不能表扬自己"):
        await nominate(nominee=ZHOU)
    with pytest.raises(CareError, match="请写上要表扬的事迹"):
        await nominate(deed="   ")
    with pytest.raises(CareError, match="事迹共 501 字，超过了 500 字的上限，这次没有提交"):
        await nominate(deed="好" * 501)
    for _ in range(commend.DAILY_LIMIT):
        await nominate()
    with pytest.raises(CareError, match="达到每天 5 次的上限"):
        await nominate()
    async with db() as s:
        assert len((await s.scalars(select(Commendation))).all()) == commend.DAILY_LIMIT


async def test_a_cadre_nominee_is_not_asked_to_review_praise_of_themselves(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 11, 17, 10, 0))
    n = await nominate(nominee=CADRE)
    assert await queued(db, commend.NOMINATED) == []  # the only cadre is the nominee
    with pytest.raises(CareError, match="表扬的是你本人"):
        await commend.approve(CADRE, str(n))
    assert "表扬的是你本人，请由其他政工干部审核" in await commend.pending_list(CADRE)


async def test_approval_and_rejection_tell_the_nominator(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 11, 17, 10, 0))
    a, b = await nominate(), await nominate("帮同事搬家")
    assert await commend.approve(CADRE, f"#{a}") == (
        f"已通过 #{a}（表扬 张三（质量科）），将在11月23日（周一）09:00 的“好人好事”里发到被表扬人所在的群，已告知推荐人。"
    )
    assert await commend.reject(CADRE, f"{b} 事迹请写具体一些") == f"已退回 #{b}（表扬 张三（质量科）），已告知推荐人。"
    results = await queued(db, commend.RESULT)
    assert [(r.period, r.target_id) for r in results] == [(str(a), ZHOU), (str(b), ZHOU)]
    assert "已审核通过，将在11月23日（周一）" in text_of(results[0])
    assert "没有通过审核" in text_of(results[1]) and "说明：事迹请写具体一些" in text_of(results[1])
    with pytest.raises(CareError, match="已经审核过了（已通过）"):
        await commend.reject(CADRE, str(a))
    with pytest.raises(CareError, match="没有找到 #99 号"):
        await commend.approve(CADRE, "99")
    with pytest.raises(CareError, match="请写明编号"):
        await commend.approve(CADRE, "abc")
    assert await commend.pending_list(CADRE) == "目前没有待审核的表扬推荐。"


async def test_weekly_digest_on_monday_0900_to_the_nominees_groups_exactly_once(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 11, 17, 10, 0))  # Tuesday of ISO week 47
    first = await nominate("主动留下来帮大家修好了打印机", nominee=ZHANG, group=None)
    second = await nominate("[CQ:at,qq=all] 连夜写好了材料", nominee=ZHOU, nominator=ZHANG, group=QUALITY_GROUP)
    await commend.approve(CADRE, str(first))
    await commend.approve(CADRE, str(second))
    assert await commend.digest_tick() == 0  # this week's Monday 09:00 was before the approvals
    clock.set_now(at(2026, 11, 23, 8, 59))
    assert await commend.digest_tick() == 0
    clock.set_now(at(2026, 11, 23, 9, 0))
    assert await commend.digest_tick() == 2
    assert await commend.digest_tick() == 0
    clock.set_now(at(2026, 11, 23, 9, 30))
    late = await nominate("帮新同事熟悉业务", nominee=ZHANG)
    await commend.approve(CADRE, str(late))
    assert await commend.digest_tick() == 0  # approved after this week's digest: next Monday
    rows = await queued(db, commend.DIGEST)
    # 张三's department group; 周六's department group and the group it was typed in.
    assert sorted((r.period, r.target_id) for r in rows) == [("2026-W48", "40001"), ("2026-W48", "40002")]
    quality = next(r for r in rows if r.target_id == "40001")
    assert text_of(quality).startswith("【连心·好人好事】这一周，同事们推荐、经审核的好人好事有 2 件：")
    assert {"type": "mention", "user_id": ZHANG} in quality.payload
    assert "[CQ:at,qq=all] 连夜写好了材料" in text_of(quality)  # a text part: no live markup
    office = next(r for r in rows if r.target_id == "40002")
    assert "有 1 件" in text_of(office) and "修好了打印机" not in text_of(office)
    clock.set_now(at(2026, 11, 30, 9, 0))
    assert await commend.digest_tick() == 1
    assert [r.period for r in await queued(db, commend.DIGEST)][-1] == "2026-W49"


async def test_a_nominee_in_no_group_nominated_in_private_hears_the_digest_in_person(db) -> None:  # type: ignore[no-untyped-def]
    spec = runtime.org().spec
    people = [p.model_copy(update={"department": None}) if p.qq == HEAD else p for p in spec.people]
    with org_with(people=people):
        clock.set_now(at(2026, 11, 17, 10, 0))
        n = await nominate("周末带队检查，连续三天没休息", nominee=HEAD, group=None)
        await commend.approve(CADRE, str(n))
        clock.set_now(at(2026, 11, 23, 9, 0))
        assert await commend.digest_tick() == 1
    rows = await queued(db, commend.DIGEST)
    assert [(r.target_kind, r.target_id) for r in rows] == [("private", HEAD)]


async def test_messages_lost_between_commit_and_enqueue_are_sent_by_the_tick(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 11, 17, 10, 0))
    n = await nominate()
    s_id = (await suggest.submit(author=ZHANG, author_name=None, group_id=None, text="食堂晚饭能不能晚一点")).id
    async with db() as s:
        await s.execute(delete(Outbox))
        await s.commit()
    await commend.resend_tick()
    await suggest.resend_tick()
    assert [r.period for r in await queued(db, commend.NOMINATED)] == [str(n)]
    assert [r.period for r in await queued(db, suggest.FORWARD)] == [str(s_id)]


# --- suggestions -------------------------------------------------------------------------


async def test_suggestion_is_classified_and_forwarded_to_the_category_leader(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 11, 17, 10, 0))
    done = await suggest.submit(author=ZHANG, author_name=None, group_id=QUALITY_GROUP, text="建议食堂晚饭延长到七点，照顾加班的同事")
    assert suggest.receipt(done) == (
        f"谢谢你的建议！已登记为第 {done.id} 号建议，归入“食堂后勤”类，已转给负责的领导孙主任。\n"
        "建议是署名的，好建议会被推荐表扬；想匿名反映问题，请私聊我发送 /诉求。"
    )
    async with db() as s:
        row = await s.get(Suggestion, done.id)
    assert (row.category, row.leader, row.author_name) == ("canteen", "20004", "张三")
    rows = await queued(db, suggest.FORWARD)
    assert [(r.period, r.target_id) for r in rows] == [(str(done.id), "20004")]
    assert "提出人：张三（质量科），QQ 30001" in text_of(rows[0]) and "建议食堂晚饭延长到七点" in text_of(rows[0])


async def test_a_named_category_beats_keyword_counts(db) -> None:  # type: ignore[no-untyped-def]
    """With the example org's seven categories: 值班 and 加班 must not pull a canteen
    suggestion into 工作任务分配."""
    from pathlib import Path

    from bot import text as textutil
    from bot.org import load_org

    old = runtime.org()
    example = load_org(Path(__file__).resolve().parents[3] / "data" / "org.example.yaml")
    runtime.set_org(example)
    try:
        canteen = "食堂晚上留一个窗口，方便加班值班的同事吃饭"
        assert textutil.categorize(canteen, example.spec.categories) == "tasks"  # counting alone
        assert suggest.classify(canteen) == "canteen"
        clock.set_now(at(2026, 11, 17, 10, 0))
        done = await suggest.submit(author="30001", author_name=None, group_id=None, text=canteen)
        assert done.category_name == "食堂后勤"
        assert suggest.classify("工资条和食堂饭卡能不能合并") == "pay"  # the first one named
        assert suggest.classify("打印机经常卡纸，硒鼓也该换了") == "equipment"  # no name: counts
        assert suggest.classify("其他同事也觉得路灯太暗") == "other"
    finally:
        runtime.set_org(old)


async def test_unclassified_suggestions_go_to_other_and_bad_ones_are_refused(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2026, 11, 17, 10, 0))
    done = await suggest.submit(author="99999", author_name="路人甲", group_id=None, text="单位门口的路灯坏了")
    assert done.category_name == "其他" and done.leader_name == "钱科长"
    with pytest.raises(CareError, match="请在 /建议 后面写下你的建议"):
        await suggest.submit(author=ZHANG, author_name=None, group_id=None, text=" \x00 ")
    with pytest.raises(CareError, match="建议共 1001 字，超过了 1000 字的上限，这次没有提交"):
        await suggest.submit(author=ZHANG, author_name=None, group_id=None, text="字" * 1001)
    for _ in range(suggest.DAILY_LIMIT):
        await suggest.submit(author=ZHANG, author_name=None, group_id=None, text="建议多开展培训")
    with pytest.raises(CareError, match="达到每天 10 条的上限"):
        await suggest.submit(author=ZHANG, author_name=None, group_id=None, text="建议多开展培训")
    rows = await queued(db, suggest.FORWARD)
    assert "提出人：路人甲，QQ 99999" in text_of(rows[0])


async def test_year_summary_per_category_and_the_year_end_send(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2025, 12, 31, 23, 0))
    await suggest.submit(author=ZHANG, author_name=None, group_id=None, text="去年的建议：食堂换个厨师")
    for i, text in enumerate(["建议食堂每周公布菜单", "建议工资条增加绩效明细", "建议食堂增加面食窗口"]):
        clock.set_now(at(2026, 3 + i, 2, 10, 0))
        await suggest.submit(author=ZHOU, author_name=None, group_id=None, text=text)
    texts = await suggest.summary(2026)
    assert texts[0] == "【连心·献一策】2026 年建议汇总：共 3 条，食堂后勤 2 条，工资福利 1 条。"
    assert texts[1].startswith("食堂后勤（2 条）") and "第 2 号｜周六（办公室）｜3月2日：建议食堂每周公布菜单" in texts[1]
    assert texts[2].startswith("工资福利（1 条）")
    assert await suggest.summary(2024) == []
    clock.set_now(at(2026, 12, 31, 15, 59))
    assert await suggest.summary_tick() == 0
    clock.set_now(at(2026, 12, 31, 16, 0))
    assert await suggest.summary_tick() == 1
    assert await suggest.summary_tick() == 0
    rows = await queued(db, suggest.SUMMARY)
    assert [(r.period, r.target_id) for r in rows] == [("2026", CADRE)]
    assert rows[0].payload[0]["type"] == "forward" and rows[0].payload[0]["nodes"] == texts
    with pytest.raises(CareError, match="年份请写四位数字"):
        suggest.parse_year("明年")
    assert suggest.parse_year("2025年") == 2025


@pytest.mark.parametrize("raw", ["²⁰²⁶", "२०२६", "2026²"])
def test_a_year_in_other_digits_gets_the_usage_not_a_crash(raw: str) -> None:
    from plugins.care.common import CareError
    from plugins.care.suggest import parse_year

    with pytest.raises(CareError, match="年份请写四位数字"):
        parse_year(raw)
    assert parse_year("２０２６年") == 2026  # full-width digits, as a Chinese keyboard types them


@pytest.mark.parametrize("raw", ["²", "#³", "١٢"])
def test_a_number_in_other_digits_gets_the_usage_not_a_crash(raw: str) -> None:
    from plugins.care.common import CareError, parse_number

    with pytest.raises(CareError, match="请写明编号"):
        parse_number(raw, "/通过 3")
    assert parse_number("＃３", "/通过 3") == 3
