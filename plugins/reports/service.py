"""Plain functions behind /月报, /周报, /导出 and the scheduled monthly report."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import hashlib
from collections import OrderedDict
from datetime import time
from time import monotonic

from nonebot import logger

from bot import clock, offload, outbox, runtime
from bot.org import Role
from bot.platform import Image, Part, Port, SendFailed, SendUnknown, Target, Text, capabilities
from plugins.reports import chart
from plugins.reports.config import config
from plugins.reports.report import (
    PACKAGES,
    Period,
    Report,
    build,
    month_period,
    previous_month,
    render_csv,
    render_text,
)

MONTHLY = "reports-monthly"
MONTHLY_AT = time(9, 0)
# A report missed because the bot was down on the 1st still goes out on the 2nd or 3rd; later
# than that it would surprise more than help (a new deployment must not send last month's).
CATCH_UP_DAYS = 3
NO_CHART = "（图表这次没有生成出来，已记录，文字部分不受影响。）"


def font_file() -> str | None:
    """LIANXIN_FONT, for the chart worker (it reads no settings of its own)."""
    given = config().lianxin_font
    return str(given) if given else None


def recipients() -> list[str]:
    org = runtime.org()
    return sorted(set(org.with_role(Role.cadre)) | {org.head})


# The chart of each period, drawn once and reused while everything it shows is the same.
_charts: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
CHARTS = 8  # periods kept (a PNG is ~100-200 KB)


def _without_texts(report: Report) -> Report:
    """The report without the hot words' source texts: neither the chart nor the CSV shows
    them, and the worker process need not receive thousands of them."""
    sections = [(dataclasses.replace(s, texts=[]), tables) for s, tables in report.sections]
    return dataclasses.replace(report, sections=sections)


def _shown(report: Report) -> Report:
    """What the chart draws (not when it was generated): its cache key."""
    return dataclasses.replace(_without_texts(report), generated=report.period.start)


async def chart_png(report: Report) -> bytes | None:
    """The period's chart: from memory, else from the database (a new process), else drawn in
    the worker process and stored, keyed by a digest of everything it shows."""
    from plugins.reports import cache

    name = runtime.org().name
    shown = _shown(report)
    digest = hashlib.sha256(repr((name, chart.VERSION, shown)).encode()).hexdigest()
    key = report.period.key
    cached = _charts.get(key)
    if cached is not None and cached[0] == digest:
        _charts.move_to_end(key)
        return cached[1]
    png = await cache.get(key, "chart", digest)
    if png is None:
        try:
            png = await offload.run(chart.render, shown, name, font_file(), packages=PACKAGES)
        except Exception as e:
            logger.error(f"report chart failed: {type(e).__name__}")
            return None
        await cache.put(key, "chart", digest, png)
    _charts[key] = (digest, png)
    while len(_charts) > CHARTS:
        _charts.popitem(last=False)
    return png


# The worker process is started and warmed this long after start-up: not during it (start-up
# stays lean and quick), but well before a cadre's first report as a rule.
WARM_AFTER = 5.0
warm_task: asyncio.Task[None] | None = None


async def _warm() -> None:
    await asyncio.sleep(WARM_AFTER)
    # What is alive by now (modules, the organisation, NoneBot, the screening index) lives as
    # long as the process. Frozen, it is left out of the full garbage collections that a
    # report's allocations trigger: scanning its ~200,000 objects held the loop ~0.4 s each time
    # (bench/stall.py), delaying every message behind it.
    gc.freeze()
    try:
        await offload.run(chart.warm_up, font_file(), packages=PACKAGES)
    except Exception as e:  # noqa: BLE001 - a report then warms the worker itself
        logger.warning(f"report worker warm-up failed: {type(e).__name__}")
        return
    await keep_ahead()


# How often the background brings this month's and last month's report up to date.
KEEP_AHEAD_EVERY = 300.0
_kept_at: float | None = None


async def keep_ahead() -> None:
    """Prepare this month's and last month's hot words and chart in the background (worker
    process, stored in reports_cache) as concerns come in: a cadre's first /月报 of a period
    then finds them ready instead of waiting seconds while thousands of texts are segmented;
    only what arrived since is segmented. Once the worker is warm, at most every
    KEEP_AHEAD_EVERY seconds (called from the reports tick and after the warm-up)."""
    global _kept_at
    if _kept_at is not None and monotonic() - _kept_at < KEEP_AHEAD_EVERY:
        return
    _kept_at = monotonic()
    now = clock.now()
    for period in (previous_month(now), month_period(now.year, now.month)):
        try:
            await report_parts(period)
        except Exception as e:  # noqa: BLE001 - a cadre's own /月报 computes it then
            logger.warning(f"report {period.key} not prepared in advance: {type(e).__name__}")


def start_warm_up() -> None:
    """Warm the worker in the background, once per process (bot start-up)."""
    global warm_task
    if warm_task is None:
        warm_task = asyncio.get_running_loop().create_task(_warm(), name="reports-warm-up")


def stop_warm_up() -> None:
    global warm_task
    if warm_task is not None:
        warm_task.cancel()
        warm_task = None


async def report_parts(period: Period) -> list[Part]:
    report = await build(period)
    text = render_text(report)
    png = await chart_png(report)
    if png is None:
        return [Text(text + "\n" + NO_CHART)]
    return [Text(text), Image(png)]


async def monthly_tick() -> int:
    """From the 1st, 09:00 (to the 3rd), last month's report to every cadre and the head, once."""
    now = clock.now()
    if now.day > CATCH_UP_DAYS or (now.day == 1 and now.time() < MONTHLY_AT):
        return 0
    period = previous_month(now)
    targets = [Target.private(q) for q in recipients()]
    if set(targets) <= await outbox.existing_targets(MONTHLY, period.key):
        return 0
    parts = await report_parts(period)
    return await outbox.enqueue(MONTHLY, period.key, [outbox.Item(t, parts) for t in targets])


async def export(port: Port, user_id: str, period: Period, as_csv: bool = False) -> str:
    """Send the report as an .xlsx file (one sheet per section), or a CSV when asked or when
    openpyxl is missing; where the platform cannot send files, answer with the CSV as text."""
    from plugins.reports import export as xlsx

    report = await build(period)
    org = runtime.org().name
    slim = _without_texts(report)
    data: bytes | None = None
    name = xlsx.file_name(report, org, "csv" if as_csv else "xlsx")
    if not as_csv:
        try:
            data = await offload.run(xlsx.render_xlsx, slim, org, packages=PACKAGES)
        except ImportError:
            logger.warning("openpyxl is not installed: /导出 sends a CSV instead (pip install -e .)")
            name = xlsx.file_name(report, org, "csv")
    if data is None:
        data = await offload.run(render_csv, slim, org, packages=PACKAGES)
    what = f"{period.label}{period.title}"
    send_file = getattr(port, "send_file", None) if capabilities(port).files else None
    if send_file is not None:
        try:
            await send_file(Target.private(user_id), name, data)
            if name.endswith(".xlsx"):
                return f"已发送表格文件“{name}”：{what}，每个部分一页，可直接用 Excel 或 WPS 打开、打印。不足 5 人（件）的数字已写作“不足5”。"
            return f"已发送 CSV 表格“{name}”：{what}，可用 Excel 或 WPS 打开。不足 5 人（件）的数字已写作“<5”。"
        except SendUnknown:
            return f"文件“{name}”发送超时，可能稍后才到；如果一直没有收到，请再发送一次 /导出。"
        except SendFailed as e:
            logger.info(f"file upload refused ({type(e).__name__}); answering with text")
    if not name.endswith(".csv"):
        data = await offload.run(render_csv, slim, org, packages=PACKAGES)
    text = data.decode("utf-8").lstrip("\ufeff")
    return "抱歉，当前平台不支持发送文件。下面是同样内容的 CSV 文本，复制后保存为 .csv 文件即可用表格软件打开：\n" + text
