"""Anonymous concerns: intake, routing, leader actions, relays, escalation, batching, retention,
and the anonymity promises of DESIGN invariant 1, each with a test."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot import clock, outbox, runtime
from bot.models import Outbox
from plugins.concerns import core, flow, intake, leader, receipts, relay, ticks
from tests.plugins.concerns.test_concerns_handlers import Matching
from plugins.concerns.models import (
    Concern,
    ConcernCounter,
    ConcernDraft,
    ConcernEvent,
    ConcernRoute,
)
from tests.fakes import RecordingPort, fields, queued
from tests.helpers import MONDAY

WORKER, OTHER_WORKER = "30001", "30002"
PAY_LEADER, CANTEEN_LEADER, DEPT_HEAD, HEAD = "20002", "20004", "20001", "20000"
CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")


@pytest.fixture
def relays(monkeypatch):  # type: ignore[no-untyped-def]
    sent: list[tuple[str, str, str]] = []

    async def fake(platform: str, bot_id: str, user_id: str, message: str) -> str:
        sent.append((bot_id, user_id, message))
        return "sent"

    monkeypatch.setattr(relay, "_send_private", fake)
    return sent


async def submit(text: str = "这个月的绩效工资比上月少了三百元，没有任何说明", user: str = WORKER) -> intake.Submitted:
    return await intake.submit(user_id=user, bot_id="10000", text=text)


async def release() -> None:
    """Half an hour on: the next batch slot's digest tells the leader, and the concern becomes
    visible to leaders (it is not before)."""
    clock.set_now(clock.now() + timedelta(minutes=core.policy().digest_minutes))
    await ticks.digest_tick()


async def all_rows(db) -> list[tuple[str, tuple]]:  # type: ignore[no-untyped-def]
    out = []
    async with db() as s:
        for table in ("concerns_concern", "concerns_event", "outbox"):
            for row in (await s.execute(text(f"SELECT * FROM {table}"))).all():
                out.append((table, tuple(row)))
    return out


# --- receipt codes -----------------------------------------------------------------------


def test_receipt_codes_are_random_unambiguous_and_60_bits() -> None:
    assert len(receipts.ALPHABET) == 32 and receipts.LENGTH == 12  # 32**12 = 2**60
    assert not set("IO01") & set(receipts.ALPHABET)
    codes = {receipts.new_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(CODE.fullmatch(c) for c in codes)
    assert receipts.parse_code(" abcd efgh-jkmn ") == "ABCD-EFGH-JKMN"
    for bad in ("", "ABCD-EFGH", "ABCD-EFGH-JKL0", "ABCD-EFGH-JKLM-NPQR", "我的回执码"):
        assert receipts.parse_code(bad) is None


# --- intake and routing ------------------------------------------------------------------


async def test_submission_is_committed_routed_and_answered_with_a_code(db, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    assert CODE.fullmatch(done.code) and done.category_name == "工资福利"
    async with db() as s:
        c = await s.get(Concern, done.concern_id)
    assert c.category == "pay" and c.leader == PAY_LEADER and c.status == "new"
    assert c.created_at == MONDAY.replace(minute=0)  # hour precision only


@pytest.mark.parametrize(
    ("words", "category"),
    [("食堂的饭菜太咸了，价格还涨了", "canteen"), ("今年的奖金什么时候发", "pay"), ("办公室窗户关不上", "other")],
)
def test_categorisation_by_keywords_falls_back_to_other(words: str, category: str) -> None:
    assert intake.categorize(words) == category


async def test_empty_too_long_and_over_the_daily_limit_are_refused_and_nothing_is_stored(db, monday) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(core.ConcernError, match="内容是空的"):
        await submit("   ")
    long = "字" * 2001
    with pytest.raises(core.ConcernError, match="共 2001 字，超过了 2000 字的上限，这次没有提交"):
        await submit(long)
    for _ in range(3):
        await submit()
    with pytest.raises(core.ConcernError, match="上限"):
        await submit()
    async with db() as s:
        assert len((await s.scalars(select(Concern))).all()) == 3


# --- anonymity ---------------------------------------------------------------------------


async def test_no_row_holds_the_submitter_id_name_or_a_keyed_hash(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    await intake.supplement(done.code, "补充：其他同事也一样")
    await leader.acknowledge(PAY_LEADER, str(done.concern_id))
    await leader.reply(PAY_LEADER, str(done.concern_id), "已向财务核实，下月补发")
    await leader.close(PAY_LEADER, str(done.concern_id), "已补发")
    await intake.rate(done.code, "5")
    clock.set_now(MONDAY + timedelta(hours=1))
    await ticks.digest_tick()
    forbidden = {
        str(WORKER),
        runtime.org().display_name(WORKER),
        receipts.person_key("quota", WORKER, MONDAY.date().isoformat()),
        receipts.person_key("draft", WORKER),
        done.code,
    }
    for table, row in await all_rows(db):
        for value in row:
            for f in forbidden:
                assert f not in str(value), f"{table} holds {f!r}"
    # The route is sealed: neither the id nor the code appear in its bytes.
    async with db() as s:
        route = await s.get(ConcernRoute, done.concern_id)
    assert str(WORKER).encode() not in route.sealed and done.code.encode() not in route.sealed
    assert receipts.open_route(done.concern_id, route.sealed)[2] == WORKER


async def test_leader_facing_text_carries_no_id(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    listing = await leader.todo(PAY_LEADER)
    assert f"#{done.concern_id} 工资福利｜待受理｜11-16 提交" in listing
    assert str(WORKER) not in listing and runtime.org().display_name(WORKER) not in listing


async def test_leaders_are_told_in_batches_not_at_submission(db, monday) -> None:  # type: ignore[no-untyped-def]
    async with db() as s:  # the slot of "now" has already been handled
        from plugins.concerns.models import ConcernState

        s.add(ConcernState(name="digest_slot", value=int(MONDAY.timestamp() // 1800)))
        await s.commit()
    done = await submit()
    assert await ticks.digest_tick() == 0  # same slot: nothing goes out yet
    async with db() as s:
        assert (await s.scalars(select(Outbox))).all() == []
    clock.set_now(MONDAY + timedelta(minutes=31))
    assert await ticks.digest_tick() == 1
    assert await ticks.digest_tick() == 0  # once per slot, whatever the number of processes
    async with db() as s:
        rows = (await s.scalars(select(Outbox))).all()
    assert [(r.purpose, r.target_id) for r in rows] == [("concern-digest", str(PAY_LEADER))]
    # The ledger holds a reference, never the text: it is rendered from the concern when sent.
    assert rows[0].payload == [{"type": "ref", "renderer": "concern", "data": {"view": "digest", "concerns": [done.concern_id], "events": []}}]
    sent = (await outbox.render(rows[0].payload))[0].text  # type: ignore[union-attr]
    assert f"#{done.concern_id}" in sent and "绩效工资" in sent and str(WORKER) not in sent


async def test_route_is_destroyed_and_text_purged_after_retention(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    await leader.close(PAY_LEADER, str(done.concern_id), "已处理")
    clock.set_now(MONDAY + timedelta(days=89))
    await ticks.retention_tick()
    async with db() as s:
        assert await s.get(ConcernRoute, done.concern_id) is not None
    clock.set_now(MONDAY + timedelta(days=91))
    await ticks.retention_tick()
    async with db() as s:
        c = await s.get(Concern, done.concern_id)
        assert await s.get(ConcernRoute, done.concern_id) is None
        texts = (await s.scalars(select(ConcernEvent.text).where(ConcernEvent.concern_id == c.id))).all()
    assert c.text is None and c.purged_at is not None and c.category == "pay" and c.status == "closed"
    assert set(texts) == {None}
    assert "已按规定删除" in await intake.progress(done.code)


async def test_rate_counters_are_short_lived_and_unlinked(db, monday) -> None:  # type: ignore[no-untyped-def]
    await submit()
    clock.set_now(MONDAY + timedelta(days=1, hours=1))
    await ticks.retention_tick()
    async with db() as s:
        assert (await s.scalars(select(ConcernCounter))).all() == []


# --- leader actions and relays ------------------------------------------------------------


async def test_leader_walk_relays_each_step_to_the_submitter_with_the_code(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    n = str(done.concern_id)
    assert "已受理" in await leader.acknowledge(PAY_LEADER, n)
    assert "已转达提交人" in await leader.reply(PAY_LEADER, n, "[CQ:at,qq=all] 已核实，下月补发")
    assert "已办结" in await leader.close(PAY_LEADER, n, "已补发到位")
    assert [u for _, u, _ in relays] == [WORKER] * 3
    assert all(done.code in m for _, _, m in relays)
    assert "[CQ:at,qq=all] 已核实，下月补发" in relays[1][2]
    progress = await intake.progress(done.code)
    assert "领导答复：[CQ:at,qq=all] 已核实，下月补发" in progress and "已办结：已补发到位" in progress
    assert "/评价" in progress
    assert await intake.rate(done.code, "4") == "谢谢你的评价（4 分）！"
    with pytest.raises(core.ConcernError, match="已经评价过"):
        await intake.rate(done.code, "5")


async def test_another_leader_cannot_touch_it_and_bad_numbers_get_answers(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    with pytest.raises(core.ConcernError, match="没有找到你负责的"):
        await leader.acknowledge(CANTEEN_LEADER, str(done.concern_id))
    with pytest.raises(core.ConcernError, match="编号"):
        await leader.acknowledge(PAY_LEADER, "abc")
    with pytest.raises(core.ConcernError, match="没有找到你负责的 #999"):
        await leader.acknowledge(PAY_LEADER, "999")


async def test_transfer_by_category_and_by_person(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    n = str(done.concern_id)
    assert "食堂后勤" in await leader.transfer(PAY_LEADER, n, "食堂后勤")
    async with db() as s:
        c = await s.get(Concern, done.concern_id)
    assert (c.category, c.leader) == ("canteen", CANTEEN_LEADER)
    await leader.transfer(CANTEEN_LEADER, n, str(DEPT_HEAD))
    async with db() as s:
        assert (await s.get(Concern, done.concern_id)).leader == DEPT_HEAD
    with pytest.raises(core.ConcernError, match="组织名单里没有 QQ 号 99999"):
        await leader.transfer(DEPT_HEAD, n, "99999")


async def test_supplement_and_bad_codes(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    assert "补充内容已收到" in await intake.supplement(done.code.lower().replace("-", " "), "还有加班费")
    with pytest.raises(core.ConcernError, match="格式不对"):
        await intake.progress("12345")
    with pytest.raises(core.ConcernError, match="没有找到"):
        await intake.progress(receipts.new_code())


# --- escalation --------------------------------------------------------------------------


async def notices(db, purpose: str = "concern-escalation") -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Each queued notice of `purpose` as (target, text), rendered as the outbox would send it."""
    return [(r.target_id, "".join(p.text for p in await outbox.render(r.payload))) for r in await queued(db, purpose)]


async def test_the_leader_is_reminded_before_the_deadline_and_the_deadline_never_moves(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()  # Monday 10:00: to be acknowledged within 2 working days
    await release()
    cid, deadline = done.concern_id, "受理期限：11月18日（周三）10:00"
    assert deadline in await leader.todo(PAY_LEADER)
    clock.set_now(datetime(2026, 11, 17, 8, 59, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 0
    clock.set_now(datetime(2026, 11, 17, 9, 0, tzinfo=clock.zone()))  # Tuesday 09:00: the day before
    assert await ticks.escalation_tick() == 1
    assert await ticks.escalation_tick() == 0  # one step per deadline, not per tick
    assert await notices(db) == [
        (str(PAY_LEADER), Matching(r"^【诉求提醒】#\d+ 的受理期限是 11月18日（周三）10:00，现在还没有受理，请抓紧处理。\n"))
    ]
    assert relays[-1][2].split("\n")[1] == "你反映的诉求将于 11月18日（周三）10:00 到受理期限，已提醒分管领导抓紧办理。"
    clock.set_now(datetime(2026, 11, 18, 9, 59, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 0  # nothing more until the deadline has passed
    clock.set_now(datetime(2026, 11, 18, 10, 0, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 1
    clock.set_now(datetime(2026, 11, 19, 10, 0, tzinfo=clock.zone()))  # the department head's own day is up
    assert await ticks.escalation_tick() == 1
    assert await ticks.escalation_tick() == 0  # the head was the last step
    # The department head, then the head: the only cadre is the leader himself, so the cadres'
    # step reaches nobody new and is skipped. Each is told who is late and their own deadline.
    sent = await notices(db)
    assert [t for t, _ in sent] == [str(PAY_LEADER), str(DEPT_HEAD), str(HEAD)]
    assert sent[1][1].startswith(
        f"【诉求上报】#{cid} 由 李四（工资福利分管领导）负责，已超过受理期限（11月18日（周三）10:00）还没有受理。"
        "请在 11月19日（周四）10:00 前督促办理，也可以直接处理。\n"
    )
    assert "请在 11月20日（周五）10:00 前督促办理" in sent[2][1] and "由 李四（工资福利分管领导）负责" in sent[2][1]
    # What the leader, the department head and the submitter see of the deadline stays the same.
    assert deadline + "，已超期" in await leader.todo(PAY_LEADER)
    assert deadline + "，已超期\n负责：李四（工资福利分管领导）" in await leader.todo(DEPT_HEAD)
    assert "受理期限：11月18日（周三）10:00" in await intake.progress(done.code)
    for _, text_ in sent:
        assert "受理期限：11月18日（周三）10:00" in text_
    told = [m.split("\n")[1] for _, _, m in relays]
    assert told[1:] == ["你反映的诉求超过受理期限，已上报部门负责人督促办理。", "你反映的诉求超过受理期限，已上报单位主要负责人督促办理。"]
    assert not any("政工干部" in m for m in told)


async def test_a_step_that_reaches_the_leader_again_is_skipped(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    """The canteen's leader is the office's department head: the ladder goes on to the cadres."""
    done = await submit("食堂的饭菜越来越咸了")
    await release()
    for day in (datetime(2026, 11, 17, 9), datetime(2026, 11, 18, 10), datetime(2026, 11, 19, 10)):
        clock.set_now(day.replace(tzinfo=clock.zone()))
        assert await ticks.escalation_tick() == 1
    assert [t for t, _ in await notices(db)] == [str(CANTEEN_LEADER), str(PAY_LEADER), str(HEAD)]  # PAY_LEADER: the cadre
    cadre = (await notices(db))[1][1]
    assert cadre.startswith(f"【诉求上报】#{done.concern_id} 由 孙主任（食堂后勤分管领导）负责，已超过受理期限")
    told = "\n".join(m for _, _, m in relays)
    assert "部门负责人" not in told and "已上报政工干部督促办理" in told and "已上报单位主要负责人督促办理" in told


async def test_when_nobody_is_above_the_leader_the_submitter_is_told_so(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    await leader.transfer(PAY_LEADER, str(done.concern_id), str(HEAD))
    clock.set_now(datetime(2026, 11, 17, 9, 0, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 1  # the reminder
    clock.set_now(datetime(2026, 11, 18, 10, 0, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 1
    clock.set_now(datetime(2026, 11, 30, 10, 0, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 0  # and no more
    sent = await notices(db)
    assert [t for t, _ in sent] == [str(HEAD), str(HEAD)]
    assert sent[1][1].startswith(f"【诉求提醒】#{done.concern_id} 已超过受理期限（11月18日（周三）10:00），请尽快处理。")
    assert relays[-1][2].split("\n")[1] == "你反映的诉求超过受理期限，已再次催促负责的领导（没有更上一级可以上报）。"
    assert not any("已上报" in m for _, _, m in relays)


async def test_a_cadre_acting_on_someone_elses_concern_tells_its_owner(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit("食堂的饭菜越来越咸了")
    await release()
    n = str(done.concern_id)
    for day in (datetime(2026, 11, 17, 9), datetime(2026, 11, 18, 10)):  # reminder, then to the cadres
        clock.set_now(day.replace(tzinfo=clock.zone()))
        await ticks.escalation_tick()
    answer = await leader.reply(PAY_LEADER, n, "已和食堂沟通，下周起少放盐")
    assert answer == "已答复 #%s，已转达提交人。已通知负责的 孙主任（食堂后勤分管领导）。" % n
    assert await notices(db, "concern-action") == [
        (str(CANTEEN_LEADER), Matching(
            rf"^【诉求动态】你负责的 #{n} 已由 李四（政工干部）答复。\n答复内容：已和食堂沟通，下周起少放盐\n#{n} 食堂后勤｜已答复"
        ))
    ]
    # The owner acting on their own concern tells nobody else.
    await leader.close(CANTEEN_LEADER, n, "已调整")
    assert len(await notices(db, "concern-action")) == 1
    assert str(WORKER) not in "".join(t for _, t in await notices(db, "concern-action"))


async def test_a_concern_handed_over_late_keeps_its_deadline_and_the_new_owner_gets_a_day(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    n = str(done.concern_id)
    clock.set_now(datetime(2026, 11, 18, 15, 0, tzinfo=clock.zone()))  # past the deadline, before any tick
    await leader.transfer(PAY_LEADER, n, "孙主任")
    clock.set_now(datetime(2026, 11, 18, 15, 1, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 1  # the new owner is reminded at once
    assert "受理期限：11月18日（周三）10:00，已超期" in await leader.todo(CANTEEN_LEADER)
    clock.set_now(datetime(2026, 11, 19, 14, 59, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 0  # a working day to act before it goes up
    clock.set_now(datetime(2026, 11, 19, 15, 0, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 1
    sent = await notices(db)
    assert [t for t, _ in sent] == [str(CANTEEN_LEADER), str(PAY_LEADER)]  # 孙主任 heads the office: to the cadre
    assert sent[0][1].startswith(f"【诉求提醒】#{n} 已超过受理期限（11月18日（周三）10:00），请尽快处理。")
    assert "受理期限：11月18日（周三）10:00" in await intake.progress(done.code)


async def test_a_reminder_before_the_deadline_is_not_overdue_in_the_report(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    from plugins.concerns.section import concerns_section

    done = await submit()
    await release()
    month = (datetime(2026, 11, 1, tzinfo=clock.zone()), datetime(2026, 12, 1, tzinfo=clock.zone()))
    clock.set_now(datetime(2026, 11, 17, 9, 0, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 1  # reminded the day before
    assert (await concerns_section(*month)).notes == ["逾期未办（截至生成时）：无"]
    clock.set_now(datetime(2026, 11, 18, 10, 0, tzinfo=clock.zone()))
    assert (await concerns_section(*month)).notes == [f"逾期未办（截至生成时）：1 件（#{done.concern_id}）"]


async def test_acknowledgement_sets_the_reply_deadline_shown_once(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    answer = await leader.acknowledge(PAY_LEADER, str(done.concern_id))
    assert answer.startswith(f"已受理 #{done.concern_id}，请在 11月25日（周三）10:00 前答复。")
    clock.set_now(datetime(2026, 11, 24, 8, 0, tzinfo=clock.zone()))
    assert await ticks.escalation_tick() == 0
    clock.set_now(datetime(2026, 11, 24, 9, 0, tzinfo=clock.zone()))  # reminded the working day before
    assert await ticks.escalation_tick() == 1
    assert fields(await queued(db, "concern-escalation"), "period", "target_id") == [(f"{done.concern_id}:acknowledged:1", str(PAY_LEADER))]
    assert "答复期限：11月25日（周三）10:00" in await leader.todo(PAY_LEADER)


async def test_holidays_do_not_count_but_the_seven_day_ceiling_does(db, relays) -> None:  # type: ignore[no-untyped-def]
    """Submitted before National Day 2026: 2 working days would be 9 October; the ceiling is 7 days."""
    clock.set_now(datetime(2026, 9, 30, 10, 0, tzinfo=clock.zone()))
    try:
        done = await submit()
        await release()
        clock.set_now(datetime(2026, 10, 6, 8, 0, tzinfo=clock.zone()))
        assert await ticks.escalation_tick() == 0
        clock.set_now(datetime(2026, 10, 6, 9, 0, tzinfo=clock.zone()))  # the day before the ceiling
        assert await ticks.escalation_tick() == 1
        clock.set_now(datetime(2026, 10, 7, 10, 1, tzinfo=clock.zone()))
        assert await ticks.escalation_tick() == 1
    finally:
        clock.set_now(None)
    assert fields(await queued(db, "concern-escalation"), "period", "target_id") == [
        (f"{done.concern_id}:new:1", str(PAY_LEADER)), (f"{done.concern_id}:new:4", str(HEAD))
    ]


# --- the guided flow ---------------------------------------------------------------------


async def test_guided_flow_keeps_its_draft_in_the_database(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    assert "1. 工资福利" in await flow.start(WORKER)
    assert "请写下" in await flow.step(WORKER, "10000", "1")
    async with db() as s:  # a restart loses nothing: the state is a row
        drafts = (await s.scalars(select(ConcernDraft))).all()
    assert [(d.step, d.category) for d in drafts] == [("text", "pay")]
    assert "是否愿意留下" in await flow.step(WORKER, "10000", "夜班补贴一直没有发")
    confirm = await flow.step(WORKER, "10000", "质量科")
    assert "署名：质量科" in confirm and "内容：夜班补贴一直没有发" in confirm
    receipt = await flow.step(WORKER, "10000", "1")
    assert CODE.search(receipt)
    async with db() as s:
        assert (await s.scalars(select(ConcernDraft))).all() == []
        c = (await s.scalars(select(Concern))).one()
    assert (c.category, c.disclosed) == ("pay", "质量科")
    assert await flow.step(WORKER, "10000", "随便说点什么") is None  # no open flow any more


async def test_guided_flow_can_be_cancelled_and_validates_answers(db, monday) -> None:  # type: ignore[no-untyped-def]
    await flow.start(OTHER_WORKER)
    assert "请回复 1 到 3" in await flow.step(OTHER_WORKER, "10000", "9")
    assert "已取消" in await flow.step(OTHER_WORKER, "10000", "取消")
    async with db() as s:
        assert (await s.scalars(select(ConcernDraft))).all() == []


async def test_a_relay_is_sent_once_even_when_the_retry_tick_races_the_handler(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    async with db() as s:
        event = ConcernEvent(concern_id=done.concern_id, at=clock.utcnow(), kind="reply", actor=PAY_LEADER, text="答复", relay="pending")
        s.add(event)
        await s.flush()
        eid = event.id
        await s.commit()
    import asyncio

    await asyncio.gather(relay.relay(done.concern_id, eid, "答复"), ticks.relay_retry_tick(), ticks.relay_retry_tick())
    assert len(relays) == 1


# --- retention leaves no copy; times are to the hour (issue 10, item 5) -----------------------


async def dump(db) -> list[tuple[str, str, object]]:  # type: ignore[no-untyped-def]
    """Every value of every table the bot knows, as (table, column, value)."""
    from bot.models import Base

    out = []
    async with db() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings().all():
                out.extend((table.name, col, value) for col, value in row.items())
    return out


DISCLOSED, SUPPLEMENT, REPLY, RESULT = "质量科王师傅", "夜班的同事也一样", "已向财务核实，下月补发", "已补发到位"
TEXT = "这个月的绩效工资比上月少了三百元，没有任何说明"


async def test_after_retention_no_table_holds_the_text_disclosure_or_replies(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    worker = outbox.Worker(port_for=lambda _: port, interval=0, jitter=0)  # type: ignore[arg-type]
    port = RecordingPort()
    done = await intake.submit(user_id=WORKER, bot_id="10000", text=TEXT, disclosed=DISCLOSED)
    await release()
    await intake.supplement(done.code, SUPPLEMENT)
    clock.set_now(MONDAY + timedelta(days=2, minutes=1))  # acknowledgement overdue: a reminder
    assert await ticks.escalation_tick() == 1
    clock.set_now(MONDAY + timedelta(days=2, minutes=31))
    await ticks.digest_tick()  # the supplement
    await worker.drain("10000")
    n = str(done.concern_id)
    await leader.acknowledge(PAY_LEADER, n)
    await leader.reply(PAY_LEADER, n, REPLY)
    await leader.close(PAY_LEADER, n, RESULT)
    await intake.rate(done.code, "5")
    clock.set_now(MONDAY + timedelta(days=3, minutes=1))
    await ticks.digest_tick()  # the rating
    await worker.drain("10000")
    # The leader did read it all: the notices are rendered from the concern when sent.
    told = "\n".join(port.texts())
    assert TEXT in told and DISCLOSED in told and SUPPLEMENT in told and "【诉求提醒】" in told and "评价：5 分" in told
    async with db() as s:
        assert {r.status for r in (await s.scalars(select(Outbox))).all()} == {"sent"}

    clock.set_now(MONDAY + timedelta(days=95))
    await ticks.retention_tick()
    rows = await dump(db)
    for table, col, value in rows:
        for words in (TEXT, DISCLOSED, SUPPLEMENT, REPLY, RESULT, str(WORKER), done.code):
            assert words not in str(value), f"{table}.{col} still holds {words!r}"
    # Every time stored about a concern is to the hour.
    for table, col, value in rows:
        if table.startswith("concerns_") and isinstance(value, datetime):
            assert value == value.replace(minute=0, second=0, microsecond=0), f"{table}.{col} = {value}"
    assert "已按规定删除" in await intake.progress(done.code)


async def test_a_notice_whose_concern_was_purged_is_dropped_not_sent(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    port = RecordingPort()
    worker = outbox.Worker(port_for=lambda _: port, interval=0, jitter=0)  # type: ignore[arg-type]
    done = await submit()
    await release()  # the digest is queued, but the bot is offline for months
    async with db() as s:
        await s.execute(text("UPDATE concerns_concern SET status = 'closed', closed_at = :t"), {"t": MONDAY.replace(tzinfo=None)})
        await s.commit()
    clock.set_now(MONDAY + timedelta(days=95))
    await ticks.retention_tick()
    await worker.drain("10000")
    assert port.sent() == []
    async with db() as s:
        row = (await s.scalars(select(Outbox))).one()
        assert row.status == "dropped" and (await s.get(Concern, done.concern_id)).text is None


# --- relays: refused, stuck ----------------------------------------------------------------


async def test_a_relay_refused_again_and_again_ends_failed_and_the_leader_sees_it(db, monkeypatch, monday) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def refusing(platform: str, bot_id: str, user_id: str, message: str) -> str:
        calls.append(message)
        return "refused"

    monkeypatch.setattr(relay, "_send_private", refusing)
    done = await submit()
    await release()
    assert "暂时没能发给提交人，我会继续尝试" in await leader.acknowledge(PAY_LEADER, str(done.concern_id))
    await ticks.relay_retry_tick()
    await ticks.relay_retry_tick()
    await ticks.relay_retry_tick()  # given up after 3 refusals: not tried a 4th time
    assert len(calls) == 3
    assert "转达提交人：受理通知（11-16）未能送达" in await leader.todo(PAY_LEADER)


async def test_a_relay_left_sending_by_a_dead_process_becomes_unknown_not_resent(db, relays, monday) -> None:  # type: ignore[no-untyped-def]
    done = await submit()
    await release()
    async with db() as s:
        s.add(ConcernEvent(concern_id=done.concern_id, at=core.hour(clock.utcnow()), kind="reply", actor=PAY_LEADER,
                           text="答复", relay="sending", relay_at=core.hour(clock.utcnow())))
        await s.commit()
    await ticks.relay_retry_tick()
    assert "正在发送" in await leader.todo(PAY_LEADER)
    clock.set_now(MONDAY + timedelta(hours=2))
    await ticks.relay_retry_tick()
    assert relays == []
    assert "转达提交人：答复（11-16）不确定是否送达" in await leader.todo(PAY_LEADER)


# --- the migration -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_migration_truncates_times_and_takes_texts_out_of_the_outbox(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from bot import db
    from tests.conftest import PG_URL, _drop_pg_database, make_engine

    if backend == "postgresql" and not PG_URL:
        pytest.skip("LIANXIN_TEST_PG not set")
    engine, url, name = await make_engine(backend, tmp_path)
    at = datetime(2026, 11, 16, 2, 37, 12, 345678)  # naive UTC: what SQLite holds; PG takes it as UTC
    try:
        await db.alembic(command.upgrade, "e693a08ffae7", url=url)
        async with engine.begin() as conn:
            when = at.replace(tzinfo=UTC) if backend == "postgresql" else at.isoformat(" ")
            await conn.execute(text(
                "INSERT INTO concerns_concern (id, receipt_digest, category, leader, text, status, created_at, acknowledged_at,"
                f" level, notified) VALUES (1, 'd', 'pay', {PAY_LEADER}, :t, 'acknowledged', :at, :at, 0, true)"
            ), {"t": TEXT, "at": when})
            await conn.execute(text(
                "INSERT INTO concerns_event (id, concern_id, at, kind, notified) VALUES (1, 1, :at, 'submitted', false)"
            ), {"at": when})
            await conn.execute(text(
                "INSERT INTO concerns_event (id, concern_id, at, kind, text, notified) VALUES (2, 1, :at, 'supplement', :t, true)"
            ), {"at": when, "t": SUPPLEMENT})
            await conn.execute(text(
                "INSERT INTO outbox (purpose, period, target_kind, target_id, payload, status, attempts, not_before, created_at)"
                f" VALUES ('concern-digest', 'slot-1', 'private', '{PAY_LEADER}', :p, 'sent', 1, :at, :at)"
            ), {"p": json.dumps([{"type": "text", "text": f"【连心·诉求通知】\n\n新诉求 #1 工资福利\n{TEXT}\n\n#1 提交人补充：{SUPPLEMENT}\n\n发送 /待办 查看并处理。"}]), "at": when})
        await db.alembic(command.upgrade, "head", url=url)
        async with engine.connect() as conn:
            created, acked, visible = (await conn.execute(text("SELECT created_at, acknowledged_at, visible FROM concerns_concern"))).one()
            event_at = (await conn.execute(text("SELECT at FROM concerns_event WHERE id = 1"))).scalar_one()
            payload = (await conn.execute(text("SELECT payload FROM outbox"))).scalar_one()
        for t in (created, acked, event_at):
            t = datetime.fromisoformat(t) if isinstance(t, str) else t
            assert (t.minute, t.second, t.microsecond) == (0, 0, 0) and t.hour in (2, 10), t
        assert bool(visible)
        payload = json.loads(payload) if isinstance(payload, str) else payload
        assert payload == [{"type": "ref", "renderer": "concern", "data": {"view": "digest", "concerns": [1], "events": [2]}}]
    finally:
        await engine.dispose()
        if name:
            await _drop_pg_database(PG_URL or "", name)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_migration_keeps_the_deadline_of_concerns_not_yet_escalated(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from bot import db
    from tests.conftest import PG_URL, _drop_pg_database, make_engine

    if backend == "postgresql" and not PG_URL:
        pytest.skip("LIANXIN_TEST_PG not set")
    engine, url, name = await make_engine(backend, tmp_path)
    at, step = datetime(2026, 11, 16, 2), datetime(2026, 11, 18, 2)
    try:
        await db.alembic(command.upgrade, "a0fd0a44c427", url=url)
        async with engine.begin() as conn:
            for cid, level in ((1, 0), (2, 2)):
                when = (at.replace(tzinfo=UTC), step.replace(tzinfo=UTC)) if backend == "postgresql" else (at.isoformat(" "), step.isoformat(" "))
                await conn.execute(text(
                    "INSERT INTO concerns_concern (id, receipt_digest, category, leader, text, status, created_at, level,"
                    f" next_step_at, notified, visible) VALUES ({cid}, 'd{cid}', 'pay', {PAY_LEADER}, 't', 'new', :at, {level}, :step, true, true)"
                ), {"at": when[0], "step": when[1]})
        await db.alembic(command.upgrade, "head", url=url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, due_at FROM concerns_concern ORDER BY id"))).all()
        first = rows[0][1]
        first = datetime.fromisoformat(first) if isinstance(first, str) else first
        assert first.replace(tzinfo=None) == step and rows[1][1] is None
    finally:
        await engine.dispose()
        if name:
            await _drop_pg_database(PG_URL or "", name)
