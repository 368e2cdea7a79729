"""/导出: the report as a spreadsheet a person would print (openpyxl), run in the worker process.

One sheet per section (and 概况 first, 热词 last), each a small table per figure set with its
unit in the header, figures as numbers where shown and as words where suppressed ("不足5",
"隐去"), all-zero rows and columns left out, set up to print on A4 portrait, one page wide, with the
organisation and period in the page header. The same figures as the text: nothing about
fewer than 5 people.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from bot.reports import Section
from plugins.reports.report import NUMERALS, Report, explanation, summary_lines
from plugins.reports.suppress import PRIMARY, SECONDARY, SHOWN, TOTAL, Key, Protected

WORDS = {PRIMARY: "不足5", SECONDARY: "隐去"}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_FILE_BAD = re.compile(r'[\\/:*?"<>|\s]')


def file_name(report: Report, org_name: str, ext: str = "xlsx") -> str:
    """"青山县市场监督管理局2026年11月月报.xlsx": what a person would name it."""
    return _FILE_BAD.sub("", f"{org_name}{report.period.label}{report.period.title}") + f".{ext}"


def _cell(p: Protected, key: Key) -> int | str:
    return p.value(key) if p.state[key] == SHOWN else WORDS[p.state[key]]


def render_xlsx(report: Report, org_name: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    title_font = Font(bold=True, size=14)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    heading = f"{org_name} {report.period.label}{report.period.title}"

    wb = Workbook()
    ws = wb.active

    def setup(sheet, widths: list[int]) -> None:  # type: ignore[no-untyped-def]
        for i, w in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(i)].width = w
        sheet.page_setup.orientation = "portrait"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_options.horizontalCentered = True
        sheet.oddHeader.center.text = heading
        sheet.oddFooter.center.text = "第 &P 页，共 &N 页"

    def table(sheet, head: list[str], rows: list[list[object]], total: list[object] | None) -> None:  # type: ignore[no-untyped-def]
        sheet.append(head)
        for cell in sheet[sheet.max_row]:
            cell.font, cell.fill, cell.border = bold, head_fill, box
        for row in rows + ([total] if total else []):
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                cell.border = box
        if total:
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        sheet.append([])

    # 概况
    ws.title = "概况"
    setup(ws, [90])
    ws.append([heading])
    ws["A1"].font = title_font
    ws.append([f"统计期间：{report.period.span}" + ("（尚未结束，统计到生成时）" if report.partial else "")])
    g = report.generated
    ws.append([f"生成时间：{g.year}年{g.month}月{g.day}日 {g:%H:%M}"])
    ws.append([])
    ws.append(["概况"])
    ws.cell(ws.max_row, 1).font = bold
    for line in summary_lines(report):
        ws.append([line.removeprefix("· ")])
    ws.append([])
    ws.append([explanation(report)])
    ws.cell(ws.max_row, 1).alignment = wrap
    ws.row_dimensions[ws.max_row].height = 48

    used: set[str] = {"概况"}
    for i, (section, tables) in enumerate(report.sections):
        sheet = wb.create_sheet(_sheet_name(section.title, used))
        setup(sheet, [22, 14, 14, 14, 14, 14])
        sheet.append([f"{NUMERALS[i] if i < len(NUMERALS) else i + 1}、{section.title}"])
        sheet.cell(1, 1).font = title_font
        sheet.append([])
        _section(sheet, section, tables, table, bold)

    words = wb.create_sheet(_sheet_name("热词", used))
    setup(words, [22, 18])
    words.append(["热词（诉求和建议中至少 5 条提到的词）"])
    words.cell(1, 1).font = title_font
    words.append([])
    if report.hot_words:
        table(words, ["词", "提到的条数"], [[w, n] for w, n in report.hot_words], None)
    else:
        words.append(["暂无（提到同一个词的不足 5 条）"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _section(sheet, section: Section, tables: Sequence[Protected | None], table, bold) -> None:  # type: ignore[no-untyped-def]
    for t, p in zip(section.tables, tables):
        if p is None:
            continue
        sheet.append([f"{t.title}（单位：{t.unit}）"])
        sheet.cell(sheet.max_row, 1).font = bold
        shown = [r for r in range(len(t.rows)) if any(t.cells[r])]
        if not shown:
            sheet.append(["无"])
            sheet.append([])
            continue
        with_totals = p.row_totals is not None
        cols = [c for c in range(len(t.columns)) if any(row[c] for row in t.cells)]  # all-zero columns left out
        head = [t.row_label or "项目", *[t.columns[c] for c in cols]] + (["合计"] if with_totals else [])
        rows = [[t.rows[r], *[_cell(p, (r, c)) for c in cols]] + ([_cell(p, (r, TOTAL))] if with_totals else []) for r in shown]
        total = None
        if p.col_totals is not None:
            total = ["合计", *[_cell(p, (TOTAL, c)) for c in cols]]
            if with_totals and p.grand is not None:
                total.append(_cell(p, (TOTAL, TOTAL)))
        table(sheet, head, rows, total)
    grid = [m for m in section.metrics if m.row and m.col]
    if grid:
        sheet.append([section.grid_title or "分项"])
        sheet.cell(sheet.max_row, 1).font = bold
        grid_cols = list(dict.fromkeys(m.col or "" for m in grid))
        rows_of: dict[str, dict[str, str]] = {}
        for m in grid:
            rows_of.setdefault(m.row or "", {})[m.col or ""] = m.words()
        table(sheet, ["", *grid_cols], [[row, *[v.get(c, "") for c in grid_cols]] for row, v in rows_of.items()], None)
    single = [m for m in section.metrics if not (m.row and m.col)]
    if single:
        table(sheet, ["项目", "数值"], [[m.label, m.words()] for m in single], None)
    for note in section.notes:
        sheet.append([note])


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique."""
    name = _SHEET_BAD.sub("", title)[:31] or "部分"
    base, k = name, 2
    while name in used:
        name = f"{base[:28]}{k}"
        k += 1
    used.add(name)
    return name
