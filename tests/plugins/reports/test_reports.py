"""Reports without NoneBot: small-number suppression (primary and complementary), medians,
periods, hot words, sections from other plugins, text, CSV, chart, and the monthly send."""

from __future__ import annotations

import csv
import io
import itertools
import warnings
from datetime import datetime

import pytest
from sqlalchemy import select

from bot import clock
from bot.models import Outbox
from bot import reports as sections
from bot.reports import Metric, Section, Table
from plugins.concerns import intake, leader, relay, ticks
from plugins.reports import chart, report, service
from plugins.reports.suppress import PRIMARY, SECONDARY, SHOWN, SMALL, TOTAL, protect, protect_table, unsafe

PAY_LEADER, CANTEEN_LEADER, OTHER_LEADER, CADRE, HEAD = "20002", "20004", "20001", "20002", "20000"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=clock.zone())  # type: ignore[misc]


def shown(p, rows: int, cols: int) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The table as a reader sees it, margins included."""
    out = []
    for r in [*range(rows), TOTAL] if p.col_totals is not None else range(rows):
        line = [p.shows((r, c)) for c in range(cols)]
        if p.row_totals is not None:
            line.append(p.shows((r, TOTAL)) if r != TOTAL or p.grand is not None else "")
        out.append(line)
    return out


# --- suppression -------------------------------------------------------------------------


def test_counts_of_one_to_four_are_primary_suppressed_zero_is_shown() -> None:
    p = protect_table([[0], [5], [12]], totals=False)
    assert [p.shows((r, 0)) for r in range(3)] == ["0", "5", "12"]
    p = protect_table([[1], [4], [5]], totals=False)
    assert [p.shows((r, 0)) for r in range(3)] == ["<5", "<5", "5"]


def test_one_hidden_cell_in_a_row_with_a_visible_total_gets_a_complement() -> None:
    # 工资福利: 3 pending, 7 acknowledged, 10 closed, total 20. Hiding only the 3 would leave
    # 20 - 7 - 10 = 3 for anyone to work out.
    p = protect_table([[3, 7, 10]])
    assert shown(p, 1, 3) == [["<5", "*", "10", "20"]]
    assert p.state[(0, 1)] == SECONDARY


def test_two_small_cells_summing_below_five_are_not_left_as_a_difference() -> None:
    # 2 + 2 = 4: "total minus visible" would tell a figure about 4 people.
    p = protect_table([[2, 2, 9, 6]])
    assert shown(p, 1, 4) == [["<5", "<5", "9", "*", "19"]]  # the smallest other cell goes too


def test_four_plus_four_behind_a_difference_of_eight_is_pinned_and_gets_a_complement() -> None:
    # Both hidden cells are at most 4, and they add up to 8: each must be 4.
    p = protect_table([[4, 4, 9, 6]])
    assert p.state[(0, 2)] == SECONDARY or p.state[(0, 3)] == SECONDARY
    assert shown(p, 1, 4)[0][:2] == ["<5", "<5"]


def test_small_sums_of_small_cells_that_do_not_pin_anything_stay_primary_only() -> None:
    # 3 + 2 = 5: each hidden cell could be 1..4; nothing more needs hiding.
    p = protect_table([[3, 2, 9]])
    assert shown(p, 1, 3) == [["<5", "<5", "9", "14"]]


def test_complements_are_checked_again_across_columns_and_margins() -> None:
    cells = [[10, 3, 7], [8, 9, 6], [12, 11, 0]]
    p = protect_table(cells)
    hidden = {k for k, st in p.state.items() if st != SHOWN}
    assert p.state[(0, 1)] == PRIMARY
    # The complement in row 0 is itself alone in its column, so that column gets another.
    assert len([k for k in hidden if k[1] == 1 and k[0] != TOTAL]) >= 2
    assert_every_sum_safe(p)


def test_a_row_total_below_five_is_protected_in_the_row_totals_column_too() -> None:
    p = protect_table([[3, 0, 0], [10, 8, 9], [12, 7, 6]])
    assert p.shows((0, TOTAL)) == "<5" and p.shows((0, 0)) == "<5"
    # Grand total minus the other row totals must not give the 3 back.
    visible_row_totals = [p.visible((r, TOTAL)) for r in range(3)]
    assert visible_row_totals.count(None) >= 2
    assert_every_sum_safe(p)


def test_a_single_column_with_a_total() -> None:
    p = protect_table([[3], [10], [8]])
    assert [p.shows((r, 0)) for r in range(3)] + [p.shows((TOTAL, 0))] == ["<5", "10", "*", "21"]
    assert p.row_totals is None and p.grand is None


def test_all_zero_and_all_large_tables_hide_nothing() -> None:
    assert protect_table([[0, 0], [0, 0]]).hidden == 0
    assert protect_table([[5, 6], [7, 8]]).hidden == 0


def assert_every_sum_safe(p) -> None:  # type: ignore[no-untyped-def]
    """No sum with a visible total leaves 1-4 as a difference, and no hidden figure is pinned."""
    rows, cols = len(p.cells), len(p.cells[0])
    values = {k: p.value(k) for k in p.state}
    sums = []
    if p.row_totals is not None:
        sums += [((r, TOTAL), [(r, c) for c in range(cols)]) for r in range(rows)]
    if p.col_totals is not None:
        sums += [((TOTAL, c), [(r, c) for r in range(rows)]) for c in range(cols)]
    if p.grand is not None:
        sums += [((TOTAL, TOTAL), [(r, TOTAL) for r in range(rows)]), ((TOTAL, TOTAL), [(TOTAL, c) for c in range(cols)])]
    ceiling = max(values.values())
    for total, members in sums:
        assert not unsafe(total, members, values, p.state, ceiling), (total, members)


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_come_out_safe(seed: int) -> None:
    import random

    rng = random.Random(seed)
    rows, cols = rng.randint(1, 6), rng.randint(1, 4)
    cells = [[rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 14, 30]) for _ in range(cols)] for _ in range(rows)]
    p = protect_table(cells)
    for k, st in p.state.items():
        v = p.value(k)
        if 0 < v < SMALL:
            assert st == PRIMARY  # every small figure hidden
        if st == SECONDARY:
            assert v >= SMALL  # complements are never small (so "*" never hides a "<5")
    assert_every_sum_safe(p)


def test_exhaustive_small_rows_never_leak_a_small_difference() -> None:
    for cells in itertools.product([0, 1, 2, 3, 4, 5, 8], repeat=3):
        p = protect_table([list(cells)])
        total = sum(cells)
        if p.visible((0, TOTAL)) is not None:
            hidden = [c for c in range(3) if p.visible((0, c)) is None]
            assert sum(cells[c] for c in hidden) == 0 or sum(cells[c] for c in hidden) >= SMALL
            assert len(hidden) != 1
        elif 0 < total < SMALL:
            assert p.state[(0, TOTAL)] == PRIMARY


def test_protect_accepts_any_sums() -> None:
    a, b, t = (0, 0), (0, 1), (0, TOTAL)
    assert protect({a: 3, b: 9, t: 12}, [(t, [a, b])]) == {a: PRIMARY, b: SECONDARY, t: SHOWN}


def test_metrics_over_fewer_than_five_are_hidden() -> None:
    assert Metric("满意度", 4.25, 5, unit=" 分").shown() == "4.2 分"
    assert Metric("满意度", 4.25, 4, unit=" 分").shown() == "<5"
    assert Metric("满意度", None, 0).shown() == "—"
    assert Metric("受理", 30.0, 6, text="30 小时").shown() == "30 小时"


# --- periods -----------------------------------------------------------------------------


def test_month_and_week_periods() -> None:
    now = at(2026, 12, 15, 10, 0)
    assert report.parse_month("", now).key == "2026-11"
    assert report.parse_month("本月", now).key == "2026-12"
    assert report.parse_month("2026-3", now).label == "2026年3月"
    assert report.parse_month("2026年10月", now).key == "2026-10"
    jan = at(2027, 1, 3, 9, 0)
    assert report.parse_month("11月", jan).key == "2026-11"  # last November, not next
    assert report.parse_month("", jan).key == "2026-12"
    p = report.parse_month("2026-02", now)
    assert (p.start, p.end, p.span) == (at(2026, 2, 1), at(2026, 3, 1), "2月1日—2月28日")
    w = report.parse_week("", now)  # Tuesday 15 Dec: last week is 7–13 Dec
    assert (w.start, w.end, w.key, w.span) == (at(2026, 12, 7), at(2026, 12, 14), "2026-W50", "12月7日—12月13日")
    assert report.parse_week("本周", now).start == at(2026, 12, 14)
    for bad in ("下个月", "2026-13", "2027-01"):
        with pytest.raises(report.ReportError):
            report.parse_month(bad, now)
    with pytest.raises(report.ReportError, match="本周"):
        report.parse_week("下周", now)


def test_months_are_ascii_or_fullwidth_digits_and_invisible_text_is_no_month() -> None:
    now = at(2026, 12, 15, 10, 0)
    assert report.parse_month("２０２６－１１", now).key == "2026-11"  # a Chinese keyboard's digits
    assert report.parse_month("１１月", now).key == "2026-11"
    assert report.parse_month("\u200b\ufeff", now).key == "2026-11"  # nothing visible: the default
    assert report.parse_month("2026-\u202e11", now).key == "2026-11"
    assert report.parse_week("\u2060", now).key == "2026-W50"
    # Superscripts and other scripts' digits are refused (int() would read "٢٠٢٦" as 2026);
    # year 0 used to crash the handler (datetime has no year 0).
    for bad in ("²⁰²⁶-11", "٢٠٢٦-١١", "0000-01", "1999-12"):
        with pytest.raises(report.ReportError):
            report.parse_month(bad, now)


# --- hot words ---------------------------------------------------------------------------


def test_hot_words_need_five_texts_and_skip_stop_words() -> None:
    texts = ["食堂饭菜太咸"] * 5 + ["打印机坏了"] * 4 + ["希望解决"] * 6
    words = dict(report.hot_words(texts))
    assert words.get("食堂") == 5 and "打印机" not in words and "希望" not in words
    assert report.hot_words(["食堂"] * 4) == []


# --- the concerns section, with real concerns --------------------------------------------


@pytest.fixture
def relays(monkeypatch):  # type: ignore[no-untyped-def]
    async def fake(platform: str, bot_id: str, user_id: str, message: str) -> str:
        return "sent"

    monkeypatch.setattr(relay, "_send_private", fake)


async def seed_november() -> None:
    """Pay: 8 concerns, 6 acknowledged after 4 h, 5 closed after 2 days and rated; canteen: 2."""
    users = itertools.count(31000)
    for i in range(8):
        clock.set_now(at(2026, 11, 2 + i, 10, 0))
        done = await intake.submit(user_id=str(next(users)), bot_id="10000", text=f"绩效工资少发了，第{i}次反映", category="pay")
        clock.set_now(at(2026, 11, 2 + i, 10, 30))
        await ticks.digest_tick()  # the batch slot: the leader is told, the concern becomes visible
        if i < 6:
            clock.set_now(at(2026, 11, 2 + i, 14, 0))
            await leader.acknowledge(PAY_LEADER, str(done.concern_id))
        if i < 5:
            clock.set_now(at(2026, 11, 4 + i, 10, 0))
            await leader.close(PAY_LEADER, str(done.concern_id), "已补发")
            await intake.rate(done.code, "4" if i % 2 else "5")
    for i in range(2):
        clock.set_now(at(2026, 11, 20, 10 + i, 0))
        await intake.submit(user_id=str(next(users)), bot_id="10000", text="食堂饭菜太咸", category="canteen")
    clock.set_now(at(2026, 11, 20, 12, 0))
    await ticks.digest_tick()
    clock.set_now(at(2026, 12, 1, 9, 0))


async def test_concerns_section_counts_medians_and_suppresses(db, relays) -> None:  # type: ignore[no-untyped-def]
    from plugins.concerns.section import concerns_section

    await seed_november()
    section = await concerns_section(at(2026, 11, 1), at(2026, 12, 1))
    table = section.tables[0]
    assert table.rows == ["工资福利", "食堂后勤", "其他"] and table.columns == ["待受理", "已受理", "已答复", "已办结"]
    assert table.cells == [[2, 1, 0, 5], [2, 0, 0, 0], [0, 0, 0, 0]]
    by_label = {m.label: m for m in section.metrics}
    ack = by_label["李四 受理用时中位数"]
    assert (ack.n, ack.value, ack.shown()) == (6, 4.0, "4 小时")
    close = by_label["李四 办结用时中位数"]
    assert (close.n, close.value, close.shown()) == (5, 48.0, "2.0 天")
    assert by_label["办结诉求满意度（1–5 分）"].shown() == "4.6 分"
    assert section.notes == ["逾期未办（截至生成时）：5 件（#6、#7、#8、#9、#10）"]
    assert len(section.texts) == 10

    built = await report.build(report.month_period(2026, 11))
    text = report.render_text(built)
    assert "【连心·月报】测试局 2026年11月" in text
    # 2 + 1 hidden with 5 and 8 shown would leave 8 - 5 = 3: a difference about 3 people.
    assert "已办结 5 件，合计 8 件" not in text


async def test_report_text_hides_small_categories_and_the_differences(db, relays) -> None:  # type: ignore[no-untyped-def]
    await seed_november()
    built = await report.build(report.month_period(2026, 11))
    text = report.render_text(built)
    lines = text.splitlines()
    # A three-line summary opens it, each figure with its unit, suppressed as in the section.
    at_summary = lines.index("概况")
    assert lines[at_summary + 1] == "· 职工诉求：收到诉求 10 件，已办结 隐去，逾期未办 5 件，满意度 4.6 分。"
    assert lines[at_summary + 2] == "· 提到最多的：少发（8 条）、绩效工资（8 条）。"
    assert lines[at_summary + 3] == "· 学习参与暂无；群内谣言与不文明言论处置暂无；献一策与表扬暂无。"
    assert lines[at_summary + 4] == ""
    # Suppression explained once, in words; no bare symbols a reader must decode.
    assert text.count("为保护个人") == 1 and lines[at_summary + 5].startswith("说明：为保护个人，不足 5 人（件）的数字只写“不足5”")
    assert "“隐去”" in lines[at_summary + 5]
    assert "<5" not in text and "*" not in text and "｜" not in text
    # Pay: 2 pending and 1 acknowledged are "不足5"; the 5 closed go too (else 8 - 5 = 3), and
    # so does the pay total (else the grand total 10 - 8 gives the canteen's 2 back).
    assert "· 工资福利：待受理 不足5件，已受理 不足5件，已办结 隐去，合计 隐去" in lines
    assert "· 食堂后勤：待受理 不足5件，合计 不足5件" in lines  # zero cells left out
    assert not any(line.startswith("· 其他") for line in lines)  # an all-zero row is hidden
    # Closed: only pay's 5, so the column total would give it back: hidden as well.
    assert "· 合计：待受理 不足5件，已受理 不足5件，已办结 隐去，共 10 件" in lines
    assert "· 李四：受理 4 小时，办结 2.0 天" in lines
    assert "二、学习参与\n暂无数据" in text and "三、群内谣言与不文明言论处置\n暂无数据" in text
    assert "绩效工资（8）" in text.split("热词（诉求和建议中至少 5 条提到的词")[1]
    assert "食堂" not in text.split("热词（")[1]  # only 2 texts mention it


async def test_a_leader_with_few_cases_reads_as_a_count_not_as_hours(db, relays) -> None:  # type: ignore[no-untyped-def]
    # The canteen leader acknowledged 2: "受理 <5" read as "under 5 hours".
    await seed_november()
    for cid in (9, 10):
        clock.set_now(at(2026, 11, 21, 9, 0))
        await leader.acknowledge(CANTEEN_LEADER, str(cid))
    clock.set_now(at(2026, 12, 1, 9, 0))
    text = report.render_text(await report.build(report.month_period(2026, 11)))
    line = next(line for line in text.splitlines() if line.startswith("· 孙主任："))
    assert line == "· 孙主任：受理 不足5件（未计算），办结 无"


async def test_a_plugin_section_is_included_and_a_broken_one_shows_no_data(db) -> None:  # type: ignore[no-untyped-def]
    async def study(start: datetime, end: datetime) -> Section:
        return Section(
            "学习参与",
            tables=[Table("各群学习打卡", rows=["质量科职工群", "办公室群"], columns=["已打卡", "未打卡"], cells=[[12, 3], [2, 9]], row_label="群")],
            metrics=[Metric("答题平均分", 86.0, 12, unit=" 分", row="质量科职工群", col="答题平均分"),
                     Metric("答题平均分", 90.0, 2, unit=" 分", row="办公室群", col="答题平均分")],
            grid_title="各群答题平均分",
        )

    async def broken(start: datetime, end: datetime) -> Section:
        raise RuntimeError("boom")

    real = {r.name: r for r in sections.registered()}
    sections.register_section("study", study, title="学习参与", order=20)
    sections.register_section("moderation", broken, title="群内谣言与不文明言论处置", order=30)
    try:
        clock.set_now(at(2026, 12, 1, 9, 0))
        text = report.render_text(await report.build(report.month_period(2026, 11)))
    finally:
        for name in ("study", "moderation"):  # the plugins' own sections back for later tests
            sections.register_section(name, real[name].fn, title=real[name].title, order=real[name].order)
    assert "各群学习打卡：\n· 质量科职工群：已打卡 12 人，未打卡 不足5人，合计 15 人" not in text  # the 3 would be 15 - 12
    assert "各群答题平均分：\n· 质量科职工群：答题平均分 86.0 分\n· 办公室群：答题平均分 不足5人（未计算）" in text
    assert "三、群内谣言与不文明言论处置\n暂无数据" in text


async def test_csv_export_has_the_same_suppressed_figures(db, relays) -> None:  # type: ignore[no-untyped-def]
    await seed_november()
    built = await report.build(report.month_period(2026, 11))
    data = report.render_csv(built)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["报表", "部分", "项目", "行", "列", "数值"]
    cells = {(r[2], r[3], r[4]): r[5] for r in rows[1:]}
    title = "各类别诉求件数及截至期末的办理状态"
    assert cells[(title, "工资福利", "已办结")] == "*" and cells[(title, "工资福利", "合计")] == "*"
    assert cells[(title, "合计", "合计")] == "10"
    assert cells[(title, "食堂后勤", "待受理")] == "<5"
    assert cells[("各位领导的受理、办结用时中位数（从提交算起）", "李四", "受理")] == "4 小时"
    assert all(len(r) == 6 for r in rows)


async def test_chart_is_a_png_with_a_chinese_font(db, relays) -> None:  # type: ignore[no-untyped-def]
    await seed_november()
    built = await report.build(report.month_period(2026, 11))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = chart.render(built)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    # The font ships with the Python dependencies: no system font needed, no boxes drawn.
    assert chart.cjk_font() == "Noto Sans CJK SC"
    assert not [w for w in caught if "missing from font" in str(w.message)]


# --- the monthly send --------------------------------------------------------------------


async def test_monthly_report_goes_to_cadres_and_head_once_from_the_first_at_0900(db, relays, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    await seed_november()
    builds = 0
    real_build = report.build

    async def counting(period):  # type: ignore[no-untyped-def]
        nonlocal builds
        builds += 1
        return await real_build(period)

    monkeypatch.setattr(service, "build", counting)
    clock.set_now(at(2026, 12, 1, 8, 59))
    assert await service.monthly_tick() == 0
    clock.set_now(at(2026, 12, 1, 9, 0))
    assert await service.monthly_tick() == 2
    clock.set_now(at(2026, 12, 2, 9, 0))
    assert await service.monthly_tick() == 0
    assert builds == 1  # once recorded, later ticks do not even render it again
    clock.set_now(at(2026, 12, 4, 9, 0))
    assert await service.monthly_tick() == 0
    async with db() as s:
        rows = (await s.scalars(select(Outbox).where(Outbox.purpose == service.MONTHLY).order_by(Outbox.target_id))).all()
    assert [(r.period, r.target_id) for r in rows] == [("2026-11", HEAD), ("2026-11", CADRE)]
    assert [p["type"] for p in rows[0].payload] == ["text", "image"]
    assert rows[0].payload[0]["text"].startswith("【连心·月报】测试局 2026年11月")


async def test_missed_first_is_caught_up_on_the_second_but_not_after_the_third(db) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(at(2027, 1, 2, 15, 0))
    assert await service.monthly_tick() == 2
    async with db() as s:
        assert {r.period for r in (await s.scalars(select(Outbox))).all()} == {"2026-12"}
    clock.set_now(at(2027, 2, 4, 9, 0))
    assert await service.monthly_tick() == 0


# --- off the event loop ------------------------------------------------------------------


async def test_offloaded_work_runs_in_another_process_while_the_loop_serves() -> None:
    import asyncio
    import os

    from bot import offload

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    import time

    # Functions of the standard library: the worker imports a job's function by name.
    pid = await offload.run(os.getpid, packages=report.PACKAGES)  # the worker is up
    task = asyncio.create_task(ticker())
    await offload.run(time.sleep, 0.5, packages=report.PACKAGES)
    task.cancel()
    assert pid != os.getpid()
    assert ticks >= 10  # the loop kept running while the job held its process


async def test_hot_words_chart_and_csv_of_a_report_are_computed_off_the_loop(db, relays, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot import offload

    ran: list[str] = []
    real = offload.run

    async def recording(fn, *args, **kw):  # type: ignore[no-untyped-def]
        ran.append(fn.__name__)
        return await real(fn, *args, **kw)

    monkeypatch.setattr(offload, "run", recording)
    # Earlier tests built the same month: start from cold caches.
    monkeypatch.setattr(report, "_hot_cache", type(report._hot_cache)())
    monkeypatch.setattr(service, "_charts", type(service._charts)())
    await seed_november()
    period = report.month_period(2026, 11)
    parts = await service.report_parts(period)
    assert any(type(p).__name__ == "Image" for p in parts)
    assert {"hot_words_from", "render"} <= set(ran)
    ran.clear()
    await service.report_parts(period)  # same data: the chart is reused, not drawn again
    assert "render" not in ran
    # A new process (empty memory caches) reads both from the database: no worker job at all.
    monkeypatch.setattr(report, "_hot_cache", type(report._hot_cache)())
    monkeypatch.setattr(service, "_charts", type(service._charts)())
    again = await service.report_parts(period)
    assert ran == []
    assert [p.data for p in again if type(p).__name__ == "Image"] == [p.data for p in parts if type(p).__name__ == "Image"]  # type: ignore[attr-defined]


async def test_this_and_last_months_reports_are_prepared_in_the_background(db, relays, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot import offload

    monkeypatch.setattr(report, "_hot_cache", type(report._hot_cache)())
    monkeypatch.setattr(service, "_charts", type(service._charts)())
    await seed_november()
    clock.set_now(at(2026, 12, 4, 10, 0))
    monkeypatch.setattr(service, "_kept_at", None)
    await service.keep_ahead()  # what the reports tick does in the background

    # A cadre's first /月报 of November, in a new process (empty memory caches): ready, with
    # its hot words and chart, and nothing left for the worker to do while the cadre waits.
    monkeypatch.setattr(report, "_hot_cache", type(report._hot_cache)())
    monkeypatch.setattr(service, "_charts", type(service._charts)())

    async def not_now(fn, *args, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError(f"{fn.__name__} ran while the cadre waited")

    monkeypatch.setattr(offload, "run", not_now)
    parts = await service.report_parts(report.month_period(2026, 11))
    assert any(type(p).__name__ == "Image" for p in parts)
    assert "绩效工资" in "".join(p.text for p in parts if type(p).__name__ == "Text")  # type: ignore[attr-defined]
    await service.keep_ahead()  # within KEEP_AHEAD_EVERY: nothing again


def test_hot_words_from_stored_counts_segment_only_the_added_texts(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    texts = [f"食堂饭菜太咸，打印机卡纸，第{i}次" for i in range(8)] + ["绩效工资不透明"] * 5
    words, state = report.hot_words_from(texts, 10, ["食堂"], None)
    assert words == report.hot_words(texts, 10, ["食堂"])
    segmented: list[str] = []
    real = report._count

    def counting(tfidf, text: str):  # type: ignore[no-untyped-def]
        segmented.append(text)
        return real(tfidf, text)

    monkeypatch.setattr(report, "_count", counting)
    monkeypatch.setattr(report, "_tokens", {})  # as in a new worker process
    more = [*texts, "绩效工资考核细则希望公开"]
    words, state = report.hot_words_from(more, 10, ["食堂"], state)
    assert segmented == ["绩效工资考核细则希望公开"]
    assert words == report.hot_words(more, 10, ["食堂"]) and ("绩效工资", 6) in words
    # A text gone (purged): counted afresh, never from stale counts.
    segmented.clear()
    monkeypatch.setattr(report, "_tokens", {})
    fewer = more[1:]
    words, _ = report.hot_words_from(fewer, 10, ["食堂"], state)
    assert set(segmented) == set(fewer) and words == report.hot_words(fewer, 10, ["食堂"])


async def test_xlsx_has_a_sheet_per_section_with_the_suppressed_figures_in_words(db, relays) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from plugins.reports import export

    await seed_november()
    built = await report.build(report.month_period(2026, 11))
    book = load_workbook(io.BytesIO(export.render_xlsx(built, "测试局")))
    assert book.sheetnames == ["概况", "职工诉求", "学习参与", "群内谣言与不文明言论处置", "献一策与表扬", "热词"]
    rows = [list(r) for r in book["职工诉求"].iter_rows(values_only=True)]
    head = next(r for r in rows if r and r[0] == "类别")
    assert head[:5] == ["类别", "待受理", "已受理", "已办结", "合计"]  # 已答复 is 0 throughout: left out
    pay = next(r for r in rows if r and r[0] == "工资福利")
    assert pay[:5] == ["工资福利", "不足5", "不足5", "隐去", "隐去"]
    assert not any(r and r[0] == "其他" for r in rows)  # all zero: left out
    total = next(r for r in rows if r and r[0] == "合计")
    assert total[4] == 10  # shown figures are numbers a spreadsheet can add
    assert export.file_name(built, "测试局") == "测试局2026年11月月报.xlsx"
