"""Report sections: what a plugin gives the report, and the registry the report reads.

The types and the registry live in the core so that each plugin contributes its own section
without depending on the reports plugin, and the reports plugin depends on none of them.

A section is computed by an async function of the period, `[start, end)` as aware datetimes
in the organisation's zone. It returns raw counts: the report suppresses every figure about
fewer than 5 people centrally (plugins/reports/suppress.py), so a provider never decides what
is safe to show and never renders "<5" itself.

    from bot.reports import Metric, Section, Table, register_section

    async def study_section(start, end) -> Section | None:
        return Section(
            title="学习参与",
            tables=[Table("各群学习打卡（人）", rows=["质量科职工群", ...], columns=["已打卡", "未打卡"],
                          cells=[[23, 4], ...])],
            metrics=[Metric("答题平均分", value=86.5, n=19, unit=" 分", row="质量科职工群", col="答题平均分")],
            grid_title="各群答题平均分",
        )

    register_section("study", study_section, title="学习参与", order=20)   # in the plugin's __init__

- `Table` cells are counts of people (or of things each about one person). Rows, columns
  and the grand total are added and protected: cells of 1–4 show as "<5", and further cells
  are hidden ("*") wherever a total minus the visible cells would reveal them.
- `Metric` is an average or rate over `n` people: shown only when n >= 5.
- `texts` feed the report's hot words (jieba TF-IDF), which only lists words that appear in
  at least 5 of the texts. `notes` are lines shown as they are: put no figure about people there.
- Sections appear in `order` (then name). A provider that returns None or an empty section
  renders as its `title` and "暂无数据"; so does one that raises (the error is logged without
  its message).
- The report's worker process unpickles these types (the chart, the export): this module must
  stay importable without NoneBot running and without any plugin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from nonebot import logger

# A table's total row or column in a `Figure.key`: (TOTAL, 3) is the column total of column 3,
# (TOTAL, TOTAL) the grand total.
TOTAL = "T"


@dataclass
class Table:
    title: str
    rows: list[str]
    columns: list[str]
    cells: list[list[int]]
    # Row totals (a "合计" column), column totals (a "合计" row) and the grand total.
    totals: bool = True
    unit: str = "人"
    # Draw this table in the chart (stacked bars per row).
    chart: bool = False
    # Header of the row labels' column in the text ("类别", "群").
    row_label: str = "项目"


@dataclass
class Metric:
    label: str
    value: float | None
    n: int  # how many people (or items about one person each) the value is computed from
    unit: str = ""
    digits: int = 1
    # How to show the value (e.g. "18 小时"); default: the value rounded to `digits`, then `unit`.
    text: str | None = None
    # A cell of the section's metrics grid (row "李四", column "受理"): shown as one line per
    # row under `Section.grid_title`, and drawn as grouped bars in the chart. Without them the
    # metric is a line of its own, "label：value".
    row: str | None = None
    col: str | None = None
    # What `n` counts ("人", "件"): the text says "不足5件，未计算", never a bare "<5" that reads
    # like a value (受理 <5 looked like "under 5 hours").
    count_unit: str = "人"

    def words(self) -> str:
        """The value as the report's text says it."""
        if self.value is None or self.n == 0:
            return "无"
        if self.n < 5:
            return f"不足5{self.count_unit}（未计算）"
        return self.shown()

    def shown(self) -> str:
        if self.value is None or self.n == 0:
            return "—"
        if self.n < 5:
            return "<5"
        return self.text or f"{self.value:.{self.digits}f}{self.unit}"


@dataclass
class Figure:
    """One figure of the report's opening summary: a cell of one of the section's tables
    (default: the first table's grand total), or one of its metrics by label; suppressed
    exactly as where it appears in the section."""

    label: str
    table: int = 0
    key: tuple[int | str, int | str] | None = None  # None: the table's grand total (see TOTAL)
    metric: str | None = None


@dataclass
class Section:
    title: str
    tables: list[Table] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    # Title of the metrics grid (metrics with row and col), in the text and as a chart panel.
    grid_title: str | None = None
    # The section's part of the summary the report opens with: figures, or plain phrases with
    # no figure about people. Empty: the first table's total under the section's title.
    summary: list[Figure | str] = field(default_factory=list)


Provider = Callable[[datetime, datetime], Awaitable[Section | None]]


@dataclass(frozen=True)
class Registered:
    name: str
    title: str
    fn: Provider
    order: int


_sections: dict[str, Registered] = {}


def register_section(name: str, fn: Provider, *, title: str, order: int = 50) -> None:
    """Add (or replace, e.g. in tests) the section called `name`: `title` is what the report
    shows when the section has nothing, `order` where it comes (lower first)."""
    _sections[name] = Registered(name, title, fn, order)


def unregister_section(name: str) -> Registered | None:
    """Remove the section called `name`; returns what was registered, to put back in tests."""
    return _sections.pop(name, None)


def registered() -> list[Registered]:
    return sorted(_sections.values(), key=lambda r: (r.order, r.name))


NO_DATA = "暂无数据"


async def collect(start: datetime, end: datetime) -> list[Section]:
    """Every registered section in order; "暂无数据" where there is nothing."""
    out: list[Section] = []
    for reg in registered():
        section: Section | None = None
        try:
            section = await reg.fn(start, end)
        except Exception as e:  # noqa: BLE001 - one broken section must not sink the report
            logger.error(f"report section {reg.name} failed: {type(e).__name__}")
        if section is None or not (section.tables or section.metrics or section.notes):
            section = Section(title=reg.title, notes=[NO_DATA], texts=section.texts if section else [])
        out.append(section)
    return out
