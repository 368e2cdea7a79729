"""Study materials: Markdown files with YAML front matter, validated once at start-up.

A material file looks like::

    ---
    title: 冬季安全生产，从身边的隐患查起
    period: 2026-11            # 2026-11 a month · 2026-11下 the second biweekly session · 2026-Q4 a quarter
    audience: 青年职工          # optional: only groups whose org `tags` include it
    summary: 一两句话的导读      # optional: else the first paragraph of the text
    quiz:                      # optional
      - question: 发现电梯困人，第一步应当怎么做？
        choices: [自行撬门救人, 拨打电梯内的应急电话或 96333, 等下班再说]
        answer: B              # a letter, the choice's number (1 = first) or its exact text
        explanation: 可选的解析
    ---
    正文（Markdown）……

Everything wrong with a file stops start-up with one line naming the file, the entry and the
problem, like a bad org file does: a material that would break on the study day at 09:00 is
better found by the deployer at start.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.checks import read_front_matter
from bot.errors import StartupError

Kind = Literal["month", "half", "quarter"]
LETTERS = "ABCDEF"
MAX_ID = 40  # the file name is part of outbox keys (64 characters)
NODE_CHARS = 1200  # one node of a merged message / one page of the paged fallback
SUMMARY_CHARS = 120

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_HALF = re.compile(r"^(\d{4})-(\d{1,2})下$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_QUARTER_NAMES = "一二三四"


@dataclass(frozen=True, order=True)
class Period:
    """When a material is for: a month, the second half of a month (biweekly), or a quarter."""

    start: date
    end: date  # exclusive
    kind: Kind
    text: str  # canonical spelling: "2026-12", "2026-12下", "2026-Q4"

    @classmethod
    def parse(cls, value: str) -> Period:
        value = value.strip()
        if m := _MONTH.match(value):
            return cls.month(int(m.group(1)), int(m.group(2)))
        if m := _HALF.match(value):
            year, month = int(m.group(1)), int(m.group(2))
            base = cls.month(year, month)
            return cls(date(year, month, 16), base.end, "half", f"{base.text}下")
        if m := _QUARTER.match(value):
            year, q = int(m.group(1)), int(m.group(2))
            start = date(year, 3 * q - 2, 1)
            end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
            return cls(start, end, "quarter", f"{year}-Q{q}")
        raise ValueError(value)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError(f"{year}-{month}")
        end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return cls(date(year, month, 1), end, "month", f"{year}-{month:02d}")

    @classmethod
    def quarter_of(cls, day: date) -> Period:
        return cls.parse(f"{day.year}-Q{(day.month - 1) // 3 + 1}")

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def label(self) -> str:
        """How people say it: 2026年12月, 2026年12月下半月, 2026年第四季度."""
        if self.kind == "quarter":
            return f"{self.start.year}年第{_QUARTER_NAMES[(self.start.month - 1) // 3]}季度"
        text = f"{self.start.year}年{self.start.month}月"
        return text + ("下半月" if self.kind == "half" else "")


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str = Field(min_length=1)
    choices: list[str] = Field(min_length=2, max_length=len(LETTERS))
    answer: int  # 0-based index after validation
    explanation: str | None = None

    @field_validator("choices", mode="before")
    @classmethod
    def _choices(cls, value: Any) -> Any:
        # YAML turns "- 119" into a number; a choice is whatever the author wrote.
        if isinstance(value, list):
            value = [str(v).strip() if isinstance(v, (int, float, str)) else v for v in value]
            if any(v == "" for v in value):
                raise ValueError("选项不能为空")
        return value

    @field_validator("answer", mode="before")
    @classmethod
    def _answer(cls, value: Any, info: Any) -> int:
        choices: list[str] = info.data.get("choices") or []
        n = len(choices)
        if n == 0:
            raise ValueError("请先写好 choices")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"答案应写选项字母（A–{LETTERS[n - 1]}）、序号（1–{n}）或某个选项的原文，当前为 {value!r}")
        raw = str(value).strip()
        # Cadres write the answer as the letter, the number or the choice's own text.
        found: set[int] = set()
        if len(raw) == 1 and raw.upper() in LETTERS[:n]:
            found.add(LETTERS.index(raw.upper()))
        if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= n:
            found.add(int(raw) - 1)
        found |= {i for i, c in enumerate(choices) if _same_text(c, raw)}
        if len(found) > 1:
            raise ValueError(f"答案 {raw} 既像序号（或字母）又像另一个选项的原文，请改写为选项字母（A–{LETTERS[n - 1]}）")
        if found:
            return found.pop()
        if (len(raw) == 1 and raw.upper() in LETTERS) or (raw.isascii() and raw.isdigit()):
            raise ValueError(f"答案 {raw} 超出选项范围（共 {n} 个选项，应为 A–{LETTERS[n - 1]}）")
        raise ValueError(f"答案应写选项字母（A–{LETTERS[n - 1]}）、序号（1–{n}）或某个选项的原文，当前为 {raw!r}")

    @property
    def answer_letter(self) -> str:
        return LETTERS[self.answer]


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=60)
    period: str
    audience: list[str] = []
    summary: str | None = None
    quiz: list[Question] = Field(default=[], max_length=20)

    @field_validator("title", "summary", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any) -> str:
        try:
            return Period.parse(str(value)).text
        except ValueError:
            raise ValueError(
                f"期次 {value!r} 格式不对：应为 2026-12（月度）、2026-12下（每两周学习的第二次）或 2026-Q4（季度）"
            ) from None

    @field_validator("audience", mode="before")
    @classmethod
    def _audience(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and any(not isinstance(v, str) or not v.strip() for v in value):
            raise ValueError("对象应为文字，如 青年职工")
        return [v.strip() for v in value] if isinstance(value, list) else value


@dataclass(frozen=True)
class Material:
    id: str  # the file name without .md: stable key for check-ins and the outbox
    path: Path
    title: str
    period: Period
    audience: tuple[str, ...]
    summary: str
    body: str  # the Markdown text after the front matter
    quiz: tuple[Question, ...] = ()

    @property
    def key(self) -> str:
        """Outbox period key of this material: "2026-12/2026-12-安全生产"."""
        return f"{self.period.text}/{self.id}"

    def for_group(self, tags: Iterable[str]) -> bool:
        """A material with an audience goes only to groups tagged with (one of) it."""
        return not self.audience or bool(set(self.audience) & set(tags))

    @property
    def audience_label(self) -> str:
        return "、".join(self.audience) if self.audience else "全体职工"

    def plain_text(self) -> str:
        return plain(self.body)

    def nodes(self, limit: int = NODE_CHARS) -> list[str]:
        """The full text as merged-message nodes: one per section (a chat bubble each), long
        sections cut at paragraphs; the title heads the first."""
        out: list[str] = []
        for section in re.split(r"\n\s*\n(?=【)", self.plain_text()):
            out += chunks(section, limit)
        head = f"《{self.title}》"
        if out and len(out[0]) + len(head) + 2 <= limit:
            out[0] = f"{head}\n\n{out[0]}"
        else:
            out.insert(0, head)
        return out


@dataclass
class Library:
    materials: list[Material] = field(default_factory=list)
    source: Path | None = None

    def by_id(self, material_id: str) -> Material | None:
        return next((m for m in self.materials if m.id == material_id), None)

    def of_period(self, text: str) -> list[Material]:
        return [m for m in self.materials if m.period.text == text]

    def started(self, today: date) -> list[Material]:
        """Materials whose period has begun (future ones stay hidden), newest first."""
        return sorted((m for m in self.materials if m.period.start <= today), key=lambda m: (m.period.start, m.id), reverse=True)

    def current(
        self,
        today: date,
        kinds: Iterable[Kind] = ("month", "half", "quarter"),
        tags: Iterable[str] | None = None,
        *,
        latest_only: bool = True,
    ) -> list[Material]:
        """The materials of the periods running today, general ones first.

        `tags` None means any audience (private chat: we do not know the person's groups).
        `latest_only` keeps the most specific period (the latest start: 2026-12下 over 2026-12).
        """
        kinds = set(kinds)
        found = [
            m for m in self.materials
            if m.period.kind in kinds and m.period.contains(today) and (tags is None or m.for_group(tags))
        ]
        if found and latest_only:
            latest = max(m.period.start for m in found)
            found = [m for m in found if m.period.start == latest]
        return sorted(found, key=lambda m: (-m.period.start.toordinal(), bool(m.audience), m.id))

    def find(self, title: str, today: date, *, include_future: bool = False) -> list[Material]:
        """Materials matching a title: exact first, else every one containing it. Future
        materials stay hidden unless asked for (a cadre publishing early)."""
        wanted = norm_title(title)
        if not wanted:
            return []
        pool = self.started(date.max) if include_future else self.started(today)
        exact = [m for m in pool if norm_title(m.title) == wanted]
        return exact or [m for m in pool if wanted in norm_title(m.title)]


def norm_title(text: str) -> str:
    return re.sub(r"[\s《》〈〉“”\"'「」]", "", text)


# --- loading ------------------------------------------------------------------------------


def load_library(folder: Path, *, required: bool = True) -> Library:
    """Read and validate every material; StartupError names file, entry and problem.

    `required` False (the default folder, not named by LIANXIN_MATERIALS) lets a deployment
    without materials start: study days then simply have nothing to post.
    """
    if not folder.is_dir():
        if required:
            raise StartupError(f"学习材料目录 {folder} 不存在（LIANXIN_MATERIALS 指定的路径）")
        return Library([], folder)
    files = sorted(p for p in folder.glob("*.md") if not _ignored(p))
    materials = [load_material(p) for p in files]
    _cross_check(materials)
    return Library(materials, folder)


def _ignored(path: Path) -> bool:
    # A README or a draft ("_草稿.md") next to the materials is not a material.
    return path.name.lower() == "readme.md" or path.name.startswith(("_", "."))


def load_material(path: Path) -> Material:
    where = f"学习材料 {path}"
    if len(path.stem) > MAX_ID:
        raise StartupError(f"{where}：文件名太长（不含 .md 最多 {MAX_ID} 个字），请改短一些")
    raw, body = read_front_matter(path, where, missing="：开头缺少 YAML 前置信息（第一行写 ---，接着 title、period 等，再以 --- 结束）")
    if not isinstance(raw, dict):
        raise StartupError(f"{where} 的前置信息应是键值对（title、period、quiz 等）")
    try:
        meta = FrontMatter.model_validate(raw)
    except ValidationError as e:
        raise StartupError(f"{where} 有误：" + "；".join(_describe(raw, err) for err in e.errors())) from None
    if not body.strip():
        raise StartupError(f"{where}：正文为空（前置信息之后应有学习内容）")
    return Material(
        id=path.stem,
        path=path,
        title=meta.title,
        period=Period.parse(meta.period),
        audience=tuple(meta.audience),
        summary=meta.summary or first_paragraph(body),
        body=body.strip(),
        quiz=tuple(meta.quiz),
    )


def _cross_check(materials: list[Material]) -> None:
    """One material per period and audience, so "this month's material" is never ambiguous."""
    seen: dict[tuple[str, tuple[str, ...]], Material] = {}
    for m in materials:
        key = (m.period.text, tuple(sorted(m.audience)))
        if key in seen:
            other = seen[key]
            raise StartupError(
                f"学习材料 {m.path} 与 {other.path.name} 重复：都是 {m.period.text} 面向{m.audience_label}的材料"
                "（同一期、同一对象只能有一份，请合并或改 period / audience）"
            )
        seen[key] = m
    titles: dict[str, Material] = {}
    for m in materials:
        t = norm_title(m.title)
        if t in titles:
            raise StartupError(f"学习材料 {m.path} 与 {titles[t].path.name} 标题相同（《{m.title}》），/发布学习 和 /已学 无法区分")
        titles[t] = m


_MESSAGES = {
    "extra_forbidden": "未知的键（可用：title、period、audience、summary、quiz；题目可用：question、choices、answer、explanation）",
    "missing": "缺少必填项",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "model_type": "应为键值对",
    "dict_type": "应为键值对",
    "too_short": "数量不够",
    "too_long": "太多了",
    "string_too_short": "不能为空",
    "string_too_long": "太长了",
}


def _describe(raw: Any, err: Any) -> str:
    path = ""
    for part in err["loc"]:
        path += f"[{part}]" if isinstance(part, int) else ("." if path else "") + str(part)
    kind = err["type"]
    if kind == "value_error":
        msg = str(err["ctx"].get("error", err["msg"])) if err.get("ctx") else err["msg"]
    elif kind == "too_short" and path.endswith("choices"):
        msg = "至少要有 2 个选项"
    elif kind == "too_long" and path.endswith("choices"):
        msg = f"最多 {len(LETTERS)} 个选项"
    elif kind == "too_long" and path == "quiz":
        msg = "题目太多（最多 20 题）"
    elif kind == "string_too_long" and path == "title":
        msg = "标题太长（最多 60 个字）"
    else:
        msg = _MESSAGES.get(kind, err["msg"])
    return f"{path or '前置信息'}：{msg}"


def _same_text(choice: str, answer: str) -> bool:
    """The choice's own text, ignoring width, case, spaces and a final full stop."""
    def norm(t: str) -> str:
        return "".join(unicodedata.normalize("NFKC", t).split()).rstrip("。.").casefold()

    return norm(choice) == norm(answer) and bool(norm(answer))


# --- text for chat ------------------------------------------------------------------------

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1|\*(?![\s*])(.+?)(?<![\s*])\*")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_CODE = re.compile(r"`([^`]*)`")


def plain(markdown: str) -> str:
    """Markdown as QQ shows it best: plain text, headings in 【】, bullets as ·."""
    out: list[str] = []
    for line in markdown.strip().splitlines():
        if line.strip() in ("---", "***", "___"):
            out.append("")
            continue
        if m := _HEADING.match(line):
            out.append(f"【{m.group(2)}】")
            continue
        if line.lstrip().startswith(">"):
            line = line.lstrip()[1:].lstrip()
        line = _BULLET.sub(lambda b: b.group(1) + "· ", line)
        line = _LINK.sub(lambda k: f"{k.group(1)}（{k.group(2)}）", line)
        line = _EMPHASIS.sub(lambda e: e.group(2) or e.group(3) or "", line)
        line = _CODE.sub(lambda c: c.group(1), line)
        out.append(line.rstrip())
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def first_paragraph(markdown: str, limit: int = SUMMARY_CHARS) -> str:
    for para in re.split(r"\n\s*\n", plain(markdown)):
        para = para.strip()
        if para and not (para.startswith("【") and para.endswith("】")):
            return shorten(" ".join(para.split("\n")), limit)
    return ""


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 2].rstrip("，、；：,;: ") + "……"


def chunks(text: str, limit: int = NODE_CHARS) -> list[str]:
    """Cut at paragraph breaks (then line breaks, then hard) into pieces of at most `limit`."""
    pieces: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n", text.strip()):
        para = para.strip()
        while len(para) > limit:
            cut = para.rfind("\n", 0, limit)
            if cut <= 0:
                cut = max(para.rfind(p, 0, limit) for p in "。！？；")
                cut = cut + 1 if cut > 0 else limit
            head, para = para[:cut].strip(), para[cut:].strip()
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        if not para:
            continue
        if current and len(current) + 2 + len(para) > limit:
            pieces.append(current)
            current = para
        else:
            current = f"{current}\n\n{para}" if current else para
    if current:
        pieces.append(current)
    return pieces


# --- the process-wide library -------------------------------------------------------------

_library: Library | None = None


def library() -> Library:
    if _library is None:
        raise RuntimeError("study materials not loaded")
    return _library


def use(lib: Library | None) -> Library | None:
    """Replace the loaded library (tests); returns the previous one."""
    global _library
    previous, _library = _library, lib
    return previous


def load_configured() -> Library:
    """The library from LIANXIN_MATERIALS (required to exist) or data/materials (optional)."""
    from plugins.study.config import config, materials_dir

    lib = load_library(materials_dir(), required=config().lianxin_materials is not None)
    use(lib)
    from plugins.study import watch

    watch.remember(lib)
    return lib
