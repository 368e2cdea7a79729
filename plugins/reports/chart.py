"""The report chart: one portrait PNG (matplotlib, Agg, no pyplot), panels one under another
for a phone: each charted table, the per-leader median times and the hot words. It draws only what the text shows: suppressed
cells are never plotted by value; a row whose total is visible gets one grey hatched segment
for its hidden part (that width is the visible difference, at least 5 by construction).

Chinese needs a CJK font. LIANXIN_FONT may name a font file; otherwise Noto Sans CJK SC from the
`mplfonts` dependency is used, so a machine with no system fonts still draws Chinese. Failing
both, the first CJK font among matplotlib's fonts, then among the system's font files
(matplotlib's cache predates fonts installed after it was built); without any, the chart still
renders, with boxes for Chinese, and a warning says what to install.
"""

from __future__ import annotations

import io
import re
import threading
from functools import cache
from typing import Any

from nonebot import logger

from bot import runtime
from bot.reports import Metric, Section, Table
from plugins.reports.report import Report
from plugins.reports.suppress import PRIMARY, SECONDARY, TOTAL, Protected

PREFERRED = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "Sarasa Gothic SC", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC",
    "Droid Sans Fallback", "Noto Sans CJK JP", "Noto Sans CJK TC", "AR PL UMing CN",
)
FONT_FILES = re.compile(r"(?i)(notosanscjk|notoserifcjk|notosanssc|sourcehansans|wqy|simhei|msyh|pingfang|droidsansfallback|sarasa|uming|ukai)")
STATUS_COLOURS = {"待受理": "#d9534f", "已受理": "#f0ad4e", "已答复": "#5bc0de", "已办结": "#5cb85c"}
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"]
HIDDEN = "#bbbbbb"
WORDS = {PRIMARY: "不足5", SECONDARY: "隐去"}
# Part of the stored charts' version (plugins/reports/cache.py): change it when the drawing
# changes, so charts stored by an older release are drawn again.
VERSION = "portrait-2"
_lock = threading.Lock()  # rcParams are global: one chart at a time


@cache
def cjk_font(given: str | None = None) -> str | None:
    """The family name of the font file `given` (LIANXIN_FONT), else of an installed CJK font,
    or None (warned once)."""
    from matplotlib import font_manager

    if given:
        try:
            font_manager.fontManager.addfont(given)
            return font_manager.FontProperties(fname=given).get_name()
        except (OSError, RuntimeError, ValueError):
            logger.warning(f"LIANXIN_FONT={given!r} 不是可用的字体文件，改为自动查找中文字体")
    bundled = bundled_font()
    if bundled is not None:
        try:
            font_manager.fontManager.addfont(bundled)
            return font_manager.FontProperties(fname=bundled).get_name()
        except (OSError, RuntimeError, ValueError):
            pass
    found = _known(font_manager)
    if found:
        return found
    for path in font_manager.findSystemFonts():
        if FONT_FILES.search(path):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    found = _known(font_manager)
    if found is None:
        logger.warning(
            "报表图表没有找到中文字体，图中的中文会显示成方框。请重新安装依赖（pip install -e .，含 mplfonts），"
            "或安装 fonts-noto-cjk，或用 LIANXIN_FONT 指定字体文件"
        )
    return found


def bundled_font() -> str | None:
    """Path of the Noto Sans CJK SC file shipped in the `mplfonts` package, if installed.

    Found through the import system without importing mplfonts (its import pulls in a CLI)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("mplfonts")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "fonts" / "NotoSansCJKsc-Regular.otf"
        if path.is_file():
            return str(path)
    return None


def _known(font_manager) -> str | None:  # type: ignore[no-untyped-def]
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in PREFERRED if n in names), None)


def warm_up(font_file: str | None = None) -> None:
    """In the worker process, soon after start: the imports and tables a first report needs
    (jieba's dictionary and IDF table, matplotlib and the CJK font, openpyxl), so a cadre's
    first /月报 or /导出 does not wait for them."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401

    from bot import text as textutil

    tfidf = textutil.tfidf()
    tfidf.tokenizer.initialize()
    list(tfidf.tokenizer.cut("食堂饭菜太咸"))
    cjk_font(font_file)
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        pass


# --- panels ------------------------------------------------------------------------------


def _panels(report: Report) -> list[tuple[str, object]]:
    panels: list[tuple[str, object]] = []
    for section, tables in report.sections:
        for t, p in zip(section.tables, tables):
            if t.chart and p is not None:
                panels.append(("table", (t, p)))
        if section.grid_title and any(m.row and m.col for m in section.metrics):
            panels.append(("metrics", (section.grid_title, section)))
    panels.append(("words", report.hot_words))
    return panels


def render(report: Report, org_name: str | None = None, font_file: str | None = None) -> bytes:
    """The chart as PNG bytes. CPU-bound and holding the GIL: the bot runs it in the worker
    process (`service.chart_png`), where neither the organisation nor the settings are loaded:
    hence `org_name` and `font_file` (LIANXIN_FONT)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = cjk_font(font_file)
    families = ([font] if font else []) + ["DejaVu Sans"]
    panels = _panels(report)
    # Portrait, one panel under another, sized by its bars: a phone shows it full width,
    # scrolling down, with labels still readable (about 1,100 px wide).
    heights = [max(2.0, 0.45 * _bars(kind, data) + 1.0) for kind, data in panels]
    with _lock, rc_context({"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}):
        fig = Figure(figsize=(7.2, sum(heights) + 1.4), dpi=DPI)
        FigureCanvasAgg(fig)
        name = org_name or runtime.org().name
        fig.suptitle(f"{name}\n{report.period.label}{report.period.title}（{report.period.span}）", fontsize=15)
        axes = fig.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": heights})
        for ax, (kind, data) in zip(axes.flat, panels):
            if kind == "table":
                _table_panel(ax, *data)  # type: ignore[misc]
            elif kind == "metrics":
                _metrics_panel(ax, *data)  # type: ignore[misc]
            else:
                _words_panel(ax, data)  # type: ignore[arg-type]
        fig.text(0.5, 0.006, "为保护个人，不足 5 人（件）的数字不画出，只写“不足5”；\n灰色斜线：这一行合计中，细分已隐去的部分",
                 ha="center", va="bottom", fontsize=9, color="#666666")
        fig.tight_layout(rect=(0, 0.035, 1, 1 - 0.75 / (sum(heights) + 1.4)))
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


DPI = 150


def _bars(kind: str, data: Any) -> int:
    if kind == "table":
        table: Table = data[0]
        return sum(1 for row in table.cells if any(row))
    if kind == "metrics":
        section: Section = data[1]
        return 2 * len({m.row for m in section.metrics if m.row and m.col and m.n >= 5})
    return len(data)


def _no_data(ax, title: str, why: str = "暂无数据") -> None:  # type: ignore[no-untyped-def]
    ax.set_title(title, fontsize=12)
    ax.text(0.5, 0.5, why, ha="center", va="center", fontsize=13, color="#888888", transform=ax.transAxes)
    ax.set_axis_off()


def _table_panel(ax, table: Table, p: Protected) -> None:  # type: ignore[no-untyped-def]
    if p.grand == 0 or not any(any(r) for r in p.cells):
        _no_data(ax, table.title)
        return
    ax.set_title(f"{table.title}（{table.unit}）", fontsize=12)
    n_cols = len(table.columns)
    shown_rows = [r for r in range(len(table.rows)) if any(table.cells[r])]  # all-zero rows left out
    ys = list(range(len(shown_rows)))[::-1]
    colours = [STATUS_COLOURS.get(c, PALETTE[i % len(PALETTE)]) for i, c in enumerate(table.columns)]
    widest = 0
    for r, y in zip(shown_rows, ys):
        left = 0
        hidden = [c for c in range(n_cols) if p.visible((r, c)) is None]
        for c in range(n_cols):
            v = p.visible((r, c))
            if v:
                ax.barh(y, v, left=left, color=colours[c], edgecolor="white", height=0.6)
                left += v
        if p.row_totals is not None:
            total = p.visible((r, TOTAL))
            if hidden and total is not None and total > left:
                # The hidden part's width is total minus visible: readers can subtract it anyway.
                ax.barh(y, total - left, left=left, color="white", edgecolor=HIDDEN, hatch="///", height=0.6)
                left = total
            label = str(total) if total is not None else WORDS[p.state[(r, TOTAL)]]
        else:
            label = WORDS[p.state[(r, hidden[0])]] if hidden else str(left)
        ax.text(left, y, f" {label}", va="center", fontsize=11)
        widest = max(widest, left)
    ax.set_yticks(ys, [table.rows[r] for r in shown_rows], fontsize=11)
    ax.set_xlim(0, max(widest * 1.25, 5))
    ax.set_ylim(-0.7, len(shown_rows) - 0.3)  # the lowest row's label clear of the axis
    ax.spines[["top", "right"]].set_visible(False)
    if n_cols > 1:
        # Only colours that are drawn, under the panel (not over its bars).
        drawn = [c for c in range(n_cols) if any(p.visible((r, c)) for r in shown_rows)]
        handles = [_patch(colours[c], table.columns[c]) for c in drawn]
        if p.hidden:
            handles.append(_patch("white", "细分已隐去", hatch="///", edge=HIDDEN))
        ax.legend(handles=handles, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False, ncol=len(handles))


def _patch(colour: str, label: str, hatch: str | None = None, edge: str | None = None):  # type: ignore[no-untyped-def]
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, label=label, hatch=hatch, edgecolor=edge or colour)


def _metrics_panel(ax, title: str, section: Section) -> None:  # type: ignore[no-untyped-def]
    shown: list[Metric] = [m for m in section.metrics if m.row and m.col and m.value is not None and m.n >= 5]
    if not shown:
        _no_data(ax, title, "暂无数据（不足 5 件的不显示）")
        return
    unit = shown[0].unit
    title = title.split("（")[0]  # the text's explanation in brackets is too long for a panel
    ax.set_title(f"{title}（{unit}）" if unit else title, fontsize=11)
    rows = list(dict.fromkeys(m.row for m in shown))
    cols = list(dict.fromkeys(m.col for m in section.metrics if m.row and m.col and m.col))
    height = 0.8 / max(len(cols), 1)
    ys = list(range(len(rows)))[::-1]
    for j, col in enumerate(cols):
        for row, y in zip(rows, ys):
            m = next((m for m in shown if (m.row, m.col) == (row, col)), None)
            if m is None or m.value is None:
                continue
            yy = y + (len(cols) - 1) / 2 * height - j * height
            ax.barh(yy, m.value, height=height * 0.9, color=PALETTE[j % len(PALETTE)])
            ax.text(m.value, yy, f" {m.shown()}", va="center", fontsize=10)
    ax.set_yticks(ys, rows, fontsize=11)
    ax.legend(handles=[_patch(PALETTE[j % len(PALETTE)], c) for j, c in enumerate(cols)], fontsize=10, loc="upper center",
              bbox_to_anchor=(0.5, -0.1), frameon=False, ncol=len(cols))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(0, max(m.value or 0 for m in shown) * 1.3)


def _words_panel(ax, words: list[tuple[str, int]]) -> None:  # type: ignore[no-untyped-def]
    title = "热词（至少 5 条诉求或建议提到）"
    if not words:
        _no_data(ax, title, "暂无（提到同一个词的不足 5 条）")
        return
    ax.set_title(title, fontsize=12)
    ys = list(range(len(words)))[::-1]
    ax.barh(ys, [n for _, n in words], color=PALETTE[0], height=0.6)
    for y, (_, n) in zip(ys, words):
        ax.text(n, y, f" {n}", va="center", fontsize=10)
    ax.set_yticks(ys, [w for w, _ in words], fontsize=11)
    ax.set_xlim(0, max(n for _, n in words) * 1.2)
    ax.spines[["top", "right"]].set_visible(False)
