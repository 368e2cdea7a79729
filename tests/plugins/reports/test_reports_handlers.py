"""/月报, /周报 and /导出 through NoneBot: text plus an image segment, refusals, the file upload
and its text fallback."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest
from nonebot.adapters.onebot.v11 import ActionFailed, Bot
from nonebug import App

from bot import clock
from tests.helpers import group_event, private_event, text

CADRE, HEAD, WORKER = 20002, 20000, 30001
BOT = "10000"


@pytest.fixture(autouse=True)
async def _no_outbox_worker(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    from bot import outbox

    if outbox.worker is not None:
        await outbox.worker.stop()
    monkeypatch.setattr(outbox, "worker", None)
    yield


@pytest.fixture(autouse=True)
def _december() -> Iterator[None]:
    clock.set_now(datetime(2026, 12, 1, 10, 0, tzinfo=clock.zone()))
    yield
    clock.set_now(None)


class ReportMessage:
    """A message of a text segment (the report) followed by an image segment (the chart)."""

    def __init__(self, starts: str) -> None:
        self.starts = starts
        self.got: object = None

    def __eq__(self, other: object) -> bool:
        self.got = other
        segments = list(other)  # type: ignore[call-overload]
        return (
            [s.type for s in segments] == ["text", "image"]
            and str(segments[0].data["text"]).startswith(self.starts)
            and base64.b64decode(str(segments[1].data["file"]).removeprefix("base64://"))[:8] == b"\x89PNG\r\n\x1a\n"
        )

    def __repr__(self) -> str:
        return f"ReportMessage({self.starts!r})"


class StartsWith:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __eq__(self, other: object) -> bool:
        return str(other).startswith(self.prefix)

    def __repr__(self) -> str:
        return f"StartsWith({self.prefix!r})"


async def test_monthly_and_weekly_reports_are_text_and_a_chart(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        e1 = private_event(CADRE, "/月报")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(e1, ReportMessage("【连心·月报】测试局 2026年11月\n统计期间：11月1日—11月30日"), result={"message_id": 1})
        e2 = private_event(HEAD, "/周报 本周")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, ReportMessage("【连心·周报】测试局 2026年第49周\n统计期间：11月30日—12月6日（尚未结束，统计到生成时）"), result={"message_id": 2})


async def test_reports_are_refused_to_workers_in_groups_and_for_bad_months(app: App, db) -> None:  # type: ignore[no-untyped-def]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        e1 = private_event(WORKER, "/月报")
        ctx.receive_event(bot, e1)
        ctx.should_call_send(e1, text("抱歉，/月报 只有政工干部、主要负责人可以使用。"), result={"message_id": 1})
        e2 = group_event(40001, CADRE, "/月报")
        ctx.receive_event(bot, e2)
        ctx.should_call_send(e2, text("/月报 请私聊我使用。"), result={"message_id": 2})
        e3 = private_event(CADRE, "/月报 2026-13")
        ctx.receive_event(bot, e3)
        ctx.should_call_send(e3, text("月份应在 1 到 12 之间，例如：/月报 2026-11"), result={"message_id": 3})
        e4 = private_event(CADRE, "/周报 下周")
        ctx.receive_event(bot, e4)
        ctx.should_call_send(e4, text("周报可以写“本周”或“上周”；不写就是上一周（周一到周日）。"), result={"message_id": 4})
        e5 = private_event(CADRE, "/月报 0000-01")  # crashed the handler: datetime has no year 0
        ctx.receive_event(bot, e5)
        ctx.should_call_send(e5, text("年份请写四位数字，例如：/月报 2026-12"), result={"message_id": 5})
        e6 = private_event(CADRE, "/导出 ²⁰²⁶-11")
        ctx.receive_event(bot, e6)
        ctx.should_call_send(e6, text("月份请写成 2026-11 或 11月，也可以写“本月”“上月”；不写就是上个月。"), result={"message_id": 6})


class CsvFile:
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str) or not other.startswith("base64://"):
            return False
        data = base64.b64decode(other.removeprefix("base64://"))
        return data.startswith("\ufeff报表,部分,项目,行,列,数值".encode())

    def __repr__(self) -> str:
        return "CsvFile()"


class XlsxFile:
    """An .xlsx workbook, as openpyxl reads it back."""

    def __init__(self) -> None:
        self.book = None

    def __eq__(self, other: object) -> bool:
        import io

        from openpyxl import load_workbook

        if not isinstance(other, str) or not other.startswith("base64://"):
            return False
        self.book = load_workbook(io.BytesIO(base64.b64decode(other.removeprefix("base64://"))))
        return True

    def __repr__(self) -> str:
        return "XlsxFile()"


async def test_export_uploads_a_printable_xlsx_with_one_sheet_per_section(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = private_event(CADRE, "/导出 2026-11")
    xlsx = XlsxFile()
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        ctx.receive_event(bot, event)
        ctx.should_call_api("upload_private_file", {"user_id": CADRE, "group_id": 40001, "file": xlsx, "name": "测试局2026年11月月报.xlsx"}, result=None)
        ctx.should_call_send(
            event,
            text("已发送表格文件“测试局2026年11月月报.xlsx”：2026年11月月报，每个部分一页，可直接用 Excel 或 WPS 打开、打印。不足 5 人（件）的数字已写作“不足5”。"),
            result={"message_id": 1},
        )
    book = xlsx.book
    assert book is not None
    assert book.sheetnames == ["概况", "职工诉求", "学习参与", "群内谣言与不文明言论处置", "献一策与表扬", "热词"]
    overview = [row[0] for row in book["概况"].iter_rows(values_only=True)]
    assert overview[0] == "测试局 2026年11月月报" and "概况" in overview
    concerns = book["职工诉求"]
    assert concerns["A1"].value == "一、职工诉求"
    assert concerns.page_setup.orientation == "portrait" and concerns.page_setup.fitToWidth == 1
    assert "测试局 2026年11月月报" in concerns.oddHeader.center.text


async def test_export_csv_on_request(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = private_event(CADRE, "/导出 2026-11 CSV")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "upload_private_file", {"user_id": CADRE, "group_id": 40001, "file": CsvFile(), "name": "测试局2026年11月月报.csv"}, result=None
        )
        ctx.should_call_send(
            event,
            text("已发送 CSV 表格“测试局2026年11月月报.csv”：2026年11月月报，可用 Excel 或 WPS 打开。不足 5 人（件）的数字已写作“<5”。"),
            result={"message_id": 1},
        )


async def test_export_falls_back_to_text_when_the_platform_refuses_files(app: App, db) -> None:  # type: ignore[no-untyped-def]
    event = private_event(CADRE, "/导出")
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, self_id=BOT)
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "upload_private_file",
            {"user_id": CADRE, "group_id": 40001, "file": XlsxFile(), "name": "测试局2026年11月月报.xlsx"},
            exception=ActionFailed(retcode=1404, wording="unsupported action"),
        )
        ctx.should_call_send(
            event,
            StartsWith("抱歉，当前平台不支持发送文件。下面是同样内容的 CSV 文本，复制后保存为 .csv 文件即可用表格软件打开：\n报表,部分,项目,行,列,数值\r\n"),
            result={"message_id": 1},
        )


class _NoFilesBot(Bot):
    """A platform whose bot cannot send files."""


async def test_export_sends_text_without_trying_where_the_platform_has_no_files(app: App, db) -> None:  # type: ignore[no-untyped-def]
    from bot import platform
    from bot.platform.onebot_v11 import OneBotV11Port

    platform.register(_NoFilesBot, OneBotV11Port, platform.Capabilities(files=False), "测试平台")  # type: ignore[arg-type]
    try:
        event = private_event(CADRE, "/导出")
        async with app.test_matcher() as ctx:
            bot = ctx.create_bot(base=_NoFilesBot, self_id=BOT)
            ctx.receive_event(bot, event)
            # No upload_private_file: nonebug fails on a call not expected here.
            ctx.should_call_send(event, StartsWith("抱歉，当前平台不支持发送文件。"), result={"message_id": 1})
    finally:
        platform._FACTORIES.pop(_NoFilesBot, None)
        platform._CAPABILITIES.pop(_NoFilesBot, None)
        platform._CAPABILITIES_BY_TYPE.clear()
