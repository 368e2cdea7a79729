"""The report: period parsing, gathering the sections, suppression, text and CSV.

Everything shown goes through `suppress.protect_table` (counts) or `Metric.shown` (statistics
over n people): no figure about fewer than 5 people leaves this module, and neither does a
difference between two shown figures that would isolate fewer than 5.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from bot import clock, runtime
from bot import text as textutil
from bot.errors import Refusal
from bot.reports import Figure, Metric, Section, Table, collect
from plugins.reports.suppress import PRIMARY, SECONDARY, SHOWN, SMALL, TOTAL, Key, Protected, protect_table

NUMERALS = "一二三四五六七八九十"
LEGEND = "说明：「<5」表示不足 5 人（件），为保护个人不予显示；「*」表示为防止用合计反推而一并隐去的数字；「—」表示没有数据。"
HOT_WORDS = 10
# Words everybody writes whatever the subject: a hot-word list of them tells a cadre nothing.
STOPWORDS = frozenset(
    "建议 希望 能不能 不能 可以 能否 问题 反映 一下 没有 什么 时候 怎么 为什么 现在 目前 已经 还是 一直 经常 总是 "
    "比较 非常 特别 有点 感觉 觉得 大家 我们 他们 同事 单位 领导 工作 情况 事情 这个 那个 一些 有些 好几 好久 "
    "上个月 这个月 今年 去年 每次 每天 增加 提前 通知 公开".split()
)


class ReportError(Refusal):
    """A malformed or future period (answered by the dispatcher, shown by the console)."""


@dataclass(frozen=True)
class Period:
    kind: Literal["month", "week"]
    start: datetime
    end: datetime
    key: str  # "2026-11", "2026-W48": the outbox period and the export file name
    label: str  # "2026年11月"

    @property
    def span(self) -> str:
        last = (self.end - timedelta(days=1)).date()
        return f"{_md(self.start.date())}—{_md(last)}"

    @property
    def title(self) -> str:
        return f"{'月报' if self.kind == 'month' else '周报'}"


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def month_period(year: int, month: int) -> Period:
    zone = clock.zone()
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return Period("month", start, end, f"{year}-{month:02d}", f"{year}年{month}月")


def week_period(monday: date) -> Period:
    start = datetime.combine(monday, time(0), tzinfo=clock.zone())
    year, week, _ = monday.isocalendar()
    return Period("week", start, start + timedelta(days=7), f"{year}-W{week:02d}", f"{year}年第{week}周")


def previous_month(now: datetime) -> Period:
    first = now.date().replace(day=1)
    last = first - timedelta(days=1)
    return month_period(last.year, last.month)


_DIGITS = textutil.DIGITS
_YEAR_MONTH = re.compile(rf"({_DIGITS}{{4}})[-－年/.．]({_DIGITS}{{1,2}})月?")
_MONTH = re.compile(rf"({_DIGITS}{{1,2}})月?")
FIRST_YEAR = 2000


def _number(digits: str) -> int:
    n = textutil.parse_int(digits)
    assert n is not None  # the patterns above match only digits parse_int reads
    return n


def parse_month(arg: str, now: datetime) -> Period:
    arg = textutil.clean(arg).replace(" ", "")
    if arg in ("", "上月", "上个月"):
        return previous_month(now)
    if arg in ("本月", "这个月", "当月"):
        return month_period(now.year, now.month)
    m = _YEAR_MONTH.fullmatch(arg) or _MONTH.fullmatch(arg)
    if not m:
        raise ReportError("月份请写成 2026-11 或 11月，也可以写“本月”“上月”；不写就是上个月。")
    if m.lastindex == 2:
        year, month = _number(m.group(1)), _number(m.group(2))
    else:
        year, month = now.year, _number(m.group(1))
        if 1 <= month <= 12 and (year, month) > (now.year, now.month):
            year -= 1  # "11月" typed in January means last November
    if not 1 <= month <= 12:
        raise ReportError("月份应在 1 到 12 之间，例如：/月报 2026-11")
    if year < FIRST_YEAR:
        raise ReportError(f"年份请写四位数字，例如：/月报 {now.year}-{now.month:02d}")
    if (year, month) > (now.year, now.month):
        raise ReportError(f"{year}年{month}月还没到，没有可统计的数据。")
    return month_period(year, month)


def split_format(arg: str) -> tuple[str, bool]:
    """"2026-11 csv" -> ("2026-11", True): /导出 asked for a CSV instead of .xlsx."""
    words = textutil.clean(arg).split()
    if words and words[-1].lower() in ("csv", "ｃｓｖ"):
        return " ".join(words[:-1]), True
    return " ".join(words), False


def parse_week(arg: str, now: datetime) -> Period:
    arg = textutil.clean(arg).replace(" ", "")
    monday = now.date() - timedelta(days=now.weekday())
    if arg in ("", "上周", "上一周"):
        return week_period(monday - timedelta(days=7))
    if arg in ("本周", "这周", "这一周"):
        return week_period(monday)
    raise ReportError("周报可以写“本周”或“上周”；不写就是上一周（周一到周日）。")


# --- building --------------------------------------------------------------------------


@dataclass
class Report:
    period: Period
    generated: datetime
    sections: list[tuple[Section, list[Protected]]]
    hot_words: list[tuple[str, int]]

    @property
    def partial(self) -> bool:
        return self.generated < self.period.end


async def build(period: Period) -> Report:
    sections = await collect(period.start, period.end)
    protected = [(s, [protect_table(t.cells, t.totals) if t.rows and t.columns else None for t in s.tables]) for s in sections]
    texts = [t for s in sections for t in s.texts]
    return Report(period, clock.now(), protected, await cached_hot_words(texts, period.key))  # type: ignore[arg-type]


# The report's modules, imported in the worker process without the plugin's __init__.
PACKAGES = ["plugins.reports"]
_hot_cache: OrderedDict[str, list[tuple[str, int]]] = OrderedDict()
HOT_CACHE = 32  # periods' worth of results kept (a few hundred bytes each)


async def cached_hot_words(texts: list[str], period: str = "") -> list[tuple[str, int]]:
    """`hot_words(texts)`, computed in the worker process and cached by the texts' content, in
    memory and in the database (`plugins.reports.cache`, per period): the same texts (an
    unchanged period) are not segmented again, not in a new process either; any added, removed
    or edited text is a different version, so a stale list is never shown."""
    if len(texts) < SMALL:
        return []
    import json

    from bot import offload
    from plugins.reports import cache

    extra = sorted({k for c in runtime.org().spec.categories for k in c.keywords})
    digest = await _texts_digest(extra, texts)
    if digest in _hot_cache:
        _hot_cache.move_to_end(digest)
        return _hot_cache[digest]
    stored = await cache.get(period, "hot_words", digest) if period else None
    if stored is not None:
        words = [(str(w), int(n)) for w, n in json.loads(stored)]
    elif period:
        # The period's word counts so far: only texts added since are segmented.
        state = await cache.get(period, "hot_state", "counts")
        words, counts = await offload.run(hot_words_from, texts, HOT_WORDS, extra, state, packages=PACKAGES)
        await cache.put(period, "hot_state", "counts", counts)
        await cache.put(period, "hot_words", digest, json.dumps(words, ensure_ascii=False).encode())
    else:
        words = await offload.run(hot_words, texts, HOT_WORDS, extra, packages=PACKAGES)
    _hot_cache[digest] = words
    while len(_hot_cache) > HOT_CACHE:
        _hot_cache.popitem(last=False)
    return words


async def _texts_digest(extra: list[str], texts: list[str], batch: int = 1000) -> str:
    """A digest of the dictionary's extra words and the texts, in batches with the loop served
    between them (thousands of texts are a few MB)."""
    h = hashlib.sha256("\x00".join([*extra, "\x01"]).encode())
    for i in range(0, len(texts), batch):
        h.update("".join(t + "\x00" for t in texts[i : i + batch]).encode())
        await asyncio.sleep(0)
    return h.hexdigest()


def hot_words(texts: list[str], top: int = HOT_WORDS, extra_words: Iterable[str] = ()) -> list[tuple[str, int]]:
    """TF-IDF keywords (jieba) that at least 5 different texts contain, with that count.

    A word used by one or two people could point at them, so it is never listed, whatever its
    weight; the count shown is the number of texts, never below 5. CPU-heavy: reports call it
    in the worker process (`cached_hot_words`). `extra_words` join jieba's dictionary first
    (the organisation's category keywords, as when concerns are sorted).
    """
    if len(texts) < SMALL:
        return []
    return _listed(texts, keywords(texts, top * 4, extra_words), top)


def _listed(texts: list[str], candidates: list[tuple[str, float]], top: int) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for word, _ in candidates:
        n = sum(1 for t in texts if word in t)
        if n >= SMALL and not word.isdigit() and word not in STOPWORDS:
            out.append((word, n))
        if len(out) >= top:
            break
    # Most-mentioned first (ties keep the TF-IDF order): the count is what a reader compares.
    return sorted(out, key=lambda wn: -wn[1])


# Each text's counted words, kept in the process that segments (the worker): a month's report
# asked again after one more concern segments that one text only. Cleared when the dictionary
# changes (a segmentation depends on it) and when it grows past TOKEN_CACHE texts.
_tokens: dict[str, dict[str, float]] = {}
_dictionary: set[str] = set()
TOKEN_CACHE = 200_000


def keywords(texts: list[str], top: int, extra_words: Iterable[str] = ()) -> list[tuple[str, float]]:
    """Exactly `jieba.analyse.extract_tags("\\n".join(texts), topK=top, withWeight=True)`, from
    per-text counts: jieba segments each line on its own, so the joined text's word counts are
    the sum of the texts' (and the first-seen order, which breaks ties, is the same)."""
    _use_dictionary(extra_words)
    return _weights(_add_counts({}, texts), top)


def _use_dictionary(extra_words: Iterable[str]) -> None:
    new = set(extra_words) - _dictionary
    if new:
        textutil.add_words(sorted(new))
        _dictionary.update(new)
        _tokens.clear()
    if len(_tokens) > TOKEN_CACHE:
        _tokens.clear()


def _weights(freq: dict[str, float], top: int) -> list[tuple[str, float]]:
    tfidf = textutil.tfidf()
    total = sum(freq.values()) or 1.0
    idf, median = tfidf.idf_freq, tfidf.median_idf
    weights = {w: n * (idf.get(w, median) / total) for w, n in freq.items()}
    return sorted(weights.items(), key=lambda wn: wn[1], reverse=True)[:top]


def _add_counts(freq: dict[str, float], texts: Iterable[str]) -> dict[str, float]:
    tfidf = textutil.tfidf()
    for text in texts:
        counted = _tokens.get(text)
        if counted is None:
            counted = _tokens[text] = _count(tfidf, text)
        for w, n in counted.items():
            freq[w] = freq.get(w, 0.0) + n
    return freq


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def hot_words_from(
    texts: list[str], top: int, extra_words: list[str], state: bytes | None
) -> tuple[list[tuple[str, int]], bytes]:
    """`hot_words(texts, top, extra_words)` (in the worker), starting from a period's stored word
    counts: when the stored texts are all still there (a month only gains concerns as a rule),
    only the added texts are segmented, so a new process after one more concern does not
    segment thousands again. Anything else (a text gone, a new dictionary) counts afresh.
    Returns the words and the state to store: compressed JSON of texts' digests and counts,
    no text. (Words tied exactly in weight may come in another order than counted afresh.)"""
    import json
    import zlib
    from collections import Counter

    _use_dictionary(extra_words)
    digests = [_digest(t) for t in texts]
    freq: dict[str, float] = {}
    new = texts
    if state is not None:
        try:
            old = json.loads(zlib.decompress(state))
            kept, now = Counter(old["digests"]), Counter(digests)
            if old["extra"] == list(extra_words) and not kept - now:
                freq = {str(w): float(n) for w, n in old["freq"].items()}
                new = []
                for text, d in zip(texts, digests):
                    if kept[d] > 0:
                        kept[d] -= 1
                    else:
                        new.append(text)
        except (ValueError, KeyError, TypeError, zlib.error):
            freq, new = {}, texts
    freq = _add_counts(freq, new)
    words = _listed(texts, _weights(freq, top * 4), top) if len(texts) >= SMALL else []
    out = {"extra": list(extra_words), "digests": digests, "freq": freq}
    return words, zlib.compress(json.dumps(out, ensure_ascii=False).encode())


def _count(tfidf, text: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    counted: dict[str, float] = {}
    for w in tfidf.tokenizer.cut(text):
        if len(w.strip()) < 2 or w.lower() in tfidf.stop_words:
            continue
        counted[w] = counted.get(w, 0.0) + 1.0
    return counted


# --- text -------------------------------------------------------------------------------


HIDDEN_WORDS = {PRIMARY: "不足5", SECONDARY: "隐去"}


def explanation(report: Report) -> str:
    """Suppression, said once, in words."""
    secondary = any(p is not None and SECONDARY in p.state.values() for _, tables in report.sections for p in tables)
    return (
        "说明：为保护个人，不足 5 人（件）的数字只写“不足5”，用时、平均分也只在 5 人（件）以上时计算"
        + ("；个别数字会被合计反推出来，也一并写作“隐去”" if secondary else "")
        + "。没有数据的项目不列出。"
    )


def cell_words(p: Protected, key: Key, unit: str) -> str:
    """A protected figure with its unit: "19 件", "不足5件", "隐去"."""
    state = p.state[key]
    if state == SHOWN:
        return f"{p.value(key)} {unit}"
    return HIDDEN_WORDS[state] + (unit if state == PRIMARY else "")


def total_key(p: Protected) -> Key | None:
    if p.grand is not None:
        return (TOTAL, TOTAL)
    if p.col_totals is not None:
        return (TOTAL, 0)
    if p.row_totals is not None and len(p.cells) == 1:
        return (0, TOTAL)
    return None


def table_lines(t: Table, p: Protected) -> list[str]:
    """A table as a phone shows it well: one line per row that has anything, zero cells left
    out, every figure with its unit; a one-column table on a single line."""
    rows = [r for r in range(len(t.rows)) if any(t.cells[r])]
    if not rows:
        return [f"{t.title}：无"]
    if len(t.columns) == 1:
        items = [f"{t.rows[r]} {cell_words(p, (r, 0), t.unit)}" for r in rows]
        total = total_key(p)
        return [f"{t.title}：" + "、".join(items) + (f"；合计 {cell_words(p, total, t.unit)}" if total else "")]
    lines = [f"{t.title}："]
    for r in rows:
        cells = [f"{t.columns[c]} {cell_words(p, (r, c), t.unit)}" for c in range(len(t.columns)) if t.cells[r][c]]
        if p.row_totals is not None:
            cells.append(f"合计 {cell_words(p, (r, TOTAL), t.unit)}")
        lines.append(f"· {t.rows[r]}：" + "，".join(cells))
    if p.col_totals is not None and len(rows) > 1:
        cells = [f"{t.columns[c]} {cell_words(p, (TOTAL, c), t.unit)}" for c in range(len(t.columns)) if p.col_totals[c]]
        if p.grand is not None:
            cells.append(f"共 {cell_words(p, (TOTAL, TOTAL), t.unit)}")
        lines.append("· 合计：" + "，".join(cells))
    return lines


def summary_items(section: Section, tables: Sequence[Protected | None]) -> list[str]:
    """The section's figures for the opening summary, suppressed as in the section."""
    items: list[str] = []
    figures = section.summary or ([Figure(section.title)] if section.tables else [])
    for f in figures:
        if isinstance(f, str):
            items.append(f)
        elif f.metric is not None:
            m = next((m for m in section.metrics if m.label == f.metric), None)
            if m is not None and m.value is not None and m.n:
                items.append(f"{f.label} {m.words()}" if m.n >= SMALL else f"{f.label}{m.words()}")
        elif f.table < len(tables) and (p := tables[f.table]) is not None:
            key = f.key or total_key(p)
            # A zero says nothing worth a line of the summary: "暂无" says it shorter.
            if key is not None and key in p.state and not (p.state[key] == SHOWN and p.value(key) == 0):
                items.append(f"{f.label} {cell_words(p, key, section.tables[f.table].unit)}")
    return items


def summary_lines(report: Report) -> list[str]:
    """Three lines: the first section (concerns), what people write about most, the rest."""
    parts = [(s, summary_items(s, tables)) for s, tables in report.sections]
    lines: list[str] = []
    if parts:
        first, items = parts[0]
        lines.append(f"· {first.title}：" + ("，".join(items) if items else "暂无") + "。")
    words = "、".join(f"{w}（{n} 条）" for w, n in report.hot_words[:3])
    lines.append(f"· 提到最多的：{words}。" if words else "· 提到最多的：暂无（同一个词不足 5 条）。")
    rest = ["，".join(items) if items else f"{s.title}暂无" for s, items in parts[1:]]
    if rest:
        lines.append("· " + "；".join(rest) + "。")
    return lines


def render_text(report: Report) -> str:
    period = report.period
    org = runtime.org()
    g = report.generated
    when = f"{g.month}月{g.day}日 {g:%H:%M}"
    lines = [
        f"【连心·{period.title}】{org.name} {period.label}",
        f"统计期间：{period.span}" + ("（尚未结束，统计到生成时）" if report.partial else "") + f"　生成：{when}",
        "",
        "概况",
        *summary_lines(report),
        "",
        explanation(report),
    ]
    for i, (section, tables) in enumerate(report.sections):
        lines += ["", f"{NUMERALS[i] if i < len(NUMERALS) else i + 1}、{section.title}"]
        for t, p in zip(section.tables, tables):
            if p is not None:
                lines += table_lines(t, p)
        lines += metric_lines(section)
        lines += section.notes
    n = len(report.sections)
    lines += ["", f"{NUMERALS[n] if n < len(NUMERALS) else n + 1}、热词（诉求和建议中至少 5 条提到的词，括号内为条数）"]
    lines.append("、".join(f"{w}（{c}）" for w, c in report.hot_words) if report.hot_words else "暂无（提到同一个词的不足 5 条）")
    return "\n".join(lines)


def metric_lines(section: Section) -> list[str]:
    lines: list[str] = []
    grid = [m for m in section.metrics if m.row is not None and m.col is not None]
    if grid:
        lines.append(f"{section.grid_title or '分项'}：")
        rows: dict[str, list[Metric]] = {}
        for m in grid:
            rows.setdefault(m.row or "", []).append(m)
        for row, items in rows.items():
            lines.append(f"· {row}：" + "，".join(f"{m.col} {m.words()}" for m in items))
    lines += [f"{m.label}：{m.words()}" for m in section.metrics if m.row is None or m.col is None]
    return lines


# --- CSV --------------------------------------------------------------------------------


def render_csv(report: Report, org_name: str | None = None) -> bytes:
    """The report's figures as shown (suppressed the same way), one per line, for spreadsheets.

    UTF-8 with a byte-order mark so Excel opens the Chinese correctly. `org_name` where the
    organisation is not loaded (the worker process).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["报表", "部分", "项目", "行", "列", "数值"])
    label = f"{org_name or runtime.org().name} {report.period.label}{report.period.title}"
    for section, tables in report.sections:
        for t, p in zip(section.tables, tables):
            if p is None:
                continue
            for r, row in enumerate(t.rows):
                for c, col in enumerate(t.columns):
                    w.writerow([label, section.title, t.title, row, col, p.shows((r, c))])
                if p.row_totals is not None:
                    w.writerow([label, section.title, t.title, row, "合计", p.shows((r, TOTAL))])
            if p.col_totals is not None:
                for c, col in enumerate(t.columns):
                    w.writerow([label, section.title, t.title, "合计", col, p.shows((TOTAL, c))])
                if p.grand is not None:
                    w.writerow([label, section.title, t.title, "合计", "合计", p.shows((TOTAL, TOTAL))])
        for m in section.metrics:
            if m.row is not None and m.col is not None:
                w.writerow([label, section.title, section.grid_title or m.label, m.row, m.col, m.shown()])
            else:
                w.writerow([label, section.title, m.label, "", "", m.shown()])
        for note in section.notes:
            w.writerow([label, section.title, "说明", "", "", note])
    for word, n in report.hot_words:
        w.writerow([label, "热词", word, "", "条数", n])
    w.writerow([label, "说明", "", "", "", LEGEND])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
