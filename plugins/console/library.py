"""Materials written or uploaded in the console: the same library and the same rules as files.

A material made in the console becomes a Markdown file with YAML front matter in the materials
folder (LIANXIN_MATERIALS), checked by `plugins.study.materials.load_material` and the library's cross
checks before it replaces anything; the folder is watched (plugins.study.watch), so every process that
shares it, and hand edits, are picked up without a restart.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.checks import split_front_matter
from bot.errors import StartupError
from plugins.study import materials
from plugins.study.materials import LETTERS, MAX_ID, Material

_UNSAFE = re.compile(r'[\\/:*?"<>|\s\x00-\x1f]+')
MAX_BODY = 20000


class MaterialError(Exception):
    """What the cadre must change; nothing was saved."""


@dataclass
class Draft:
    title: str = ""
    period: str = ""
    audience: str = ""
    summary: str = ""
    body: str = ""
    quiz: list[dict[str, Any]] = field(default_factory=list)

    def file_id(self) -> str:
        name = _UNSAFE.sub("", f"{self.period.strip()}-{self.title.strip()}").strip(".-_")
        return name[:MAX_ID]

    def text(self) -> str:
        """The Markdown file, exactly as a deployer would write it by hand."""
        head: dict[str, Any] = {"title": self.title.strip(), "period": self.period.strip()}
        audience = [a for a in re.split(r"[、,，\s]+", self.audience) if a]
        if audience:
            head["audience"] = audience
        if self.summary.strip():
            head["summary"] = self.summary.strip()
        if self.quiz:
            head["quiz"] = self.quiz
        front = yaml.safe_dump(head, allow_unicode=True, sort_keys=False, width=1000)
        return f"---\n{front}---\n{self.body.strip()}\n"


def body_from_upload(filename: str, data: bytes) -> str:
    """The text of an uploaded .md, .txt or .docx (Word: its paragraphs; headings become ##)."""
    name = filename.lower()
    if name.endswith(".docx"):
        from docx import Document

        try:
            doc = Document(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - any unreadable document gets the same answer
            raise MaterialError("这个 Word 文件打不开，请确认是 .docx 格式（可在 Word 里“另存为”）。") from None
        parts = []
        for p in doc.paragraphs:
            text = p.text.strip()
            if not text:
                continue
            style = (p.style.name if p.style is not None else "") or ""
            parts.append(f"## {text}" if style.lower().startswith("heading") or style.startswith("标题") else text)
        return "\n\n".join(parts)
    if name.endswith((".md", ".txt")):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise MaterialError("这个文件的编码无法识别，请用 UTF-8 保存。")
    raise MaterialError("请上传 .docx、.md 或 .txt 文件。")


def draft_from_markdown(text: str, fallback: Draft) -> Draft:
    """An uploaded .md with front matter fills the form; without it, the text is the body."""
    head, body = split_front_matter(text)
    if head is None:
        return Draft(**{**fallback.__dict__, "body": text})
    try:
        raw = yaml.safe_load(head) or {}
    except yaml.YAMLError:
        raise MaterialError("文件开头的前置信息不是有效的 YAML，请检查后再上传。") from None
    if not isinstance(raw, dict):
        raise MaterialError("文件开头的前置信息应是键值对（title、period 等）。")
    audience = raw.get("audience") or []
    return Draft(
        title=str(raw.get("title") or fallback.title),
        period=str(raw.get("period") or fallback.period),
        audience="、".join(audience) if isinstance(audience, list) else str(audience),
        summary=str(raw.get("summary") or fallback.summary),
        body=body,
        quiz=list(raw.get("quiz") or fallback.quiz),
    )


# --- question bank: Excel or CSV --------------------------------------------------------------

QUIZ_HEADINGS = {"题目": "question", "问题": "question", "选项": "choices", "答案": "answer", "解析": "explanation", "说明": "explanation"}
_CHOICE_COLUMN = re.compile(r"^选项\s*([A-Fa-f])$")
_CHOICE_SPLIT = re.compile(r"\s*[|｜\n；;]\s*")


def quiz_from_sheet(filename: str, data: bytes) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """Questions from a sheet with 题目, 选项 (one cell split by | or ；, or 选项A…选项F), 答案 (letter,
    number or the choice's text), 解析. Every row is checked; any error means no question is taken."""
    from plugins.console import roster

    try:
        rows = roster.read_rows(filename, data)
    except roster.RosterError as e:
        raise MaterialError(str(e).replace(".xlsx 或 .csv 文件", "题库（.xlsx 或 .csv 文件）")) from None
    if not rows:
        raise MaterialError("题库文件是空的。")
    heading = [roster._cell(c) for c in rows[0]]
    columns = {QUIZ_HEADINGS[h]: j for j, h in enumerate(heading) if h in QUIZ_HEADINGS}
    letter_columns = sorted((m.group(1).upper(), j) for j, h in enumerate(heading) if (m := _CHOICE_COLUMN.match(h)))
    if "question" not in columns or "answer" not in columns or ("choices" not in columns and not letter_columns):
        raise MaterialError("题库第一行请写表头：题目、选项（或 选项A、选项B…）、答案、解析（解析可以不填）。")
    questions: list[dict[str, Any]] = []
    errors: list[tuple[int, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [roster._cell(c) for c in row]
        if not any(cells):
            continue
        get = lambda key: cells[columns[key]] if key in columns and columns[key] < len(cells) else ""  # noqa: E731
        if letter_columns:
            choices = [cells[j] for _, j in letter_columns if j < len(cells) and cells[j]]
        else:
            choices = [c for c in _CHOICE_SPLIT.split(get("choices")) if c]
        q: dict[str, Any] = {"question": get("question"), "choices": choices, "answer": get("answer")}
        if get("explanation"):
            q["explanation"] = get("explanation")
        try:
            materials.Question.model_validate(_answer_as_letter(q))
        except Exception as e:  # noqa: BLE001 - pydantic's message, in the material's own words
            errors.append((number, _question_problem(e)))
            continue
        questions.append(_answer_as_letter(q))
    if not questions and not errors:
        raise MaterialError("题库里没有题目。")
    return questions, errors


def _answer_as_letter(q: dict[str, Any]) -> dict[str, Any]:
    """The answer may be the exact text of a choice: stored as its letter."""
    answer, choices = str(q.get("answer", "")).strip(), q.get("choices") or []
    if answer in choices and not (len(answer) == 1 and answer.upper() in LETTERS) and not answer.isdigit():
        return {**q, "answer": LETTERS[choices.index(answer)]}
    return q


def _question_problem(e: Exception) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        names = {"question": "题目", "choices": "选项", "answer": "答案", "explanation": "解析"}
        out = []
        for err in errors():
            where = names.get(str(err["loc"][0]) if err.get("loc") else "", "")
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err.get("type") == "too_short":
                msg = "至少要有 2 个" if where == "选项" else "不能为空"
            if err.get("type") == "string_too_short":
                msg = "不能为空"
            out.append(f"{where}{msg}")
        return "；".join(out)
    return str(e)


# --- check and save -------------------------------------------------------------------------------


def check(draft: Draft, *, replace: bool) -> Material:
    """The material as the bot would load it, checked against the rest of the library."""
    if len(draft.body) > MAX_BODY:
        raise MaterialError(f"正文太长（{len(draft.body)} 字，最多 {MAX_BODY} 字），请分成几期。")
    file_id = draft.file_id()
    if not draft.title.strip():
        raise MaterialError("请填写标题。")
    lib = materials.library()
    if not replace and lib.by_id(file_id) is not None:
        raise MaterialError(f"已经有一份同一期、同一标题的材料（{file_id}.md）。要替换它，请勾选“替换原有的材料”。")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{file_id}.md"
        path.write_text(draft.text(), encoding="utf-8")
        try:
            m = materials.load_material(path)
            others = [x for x in lib.materials if x.id != file_id]
            materials._cross_check([*others, m])
        except StartupError as e:
            raise MaterialError(_plain(str(e), path)) from None
    return m


def _plain(message: str, path: Path) -> str:
    """The loader's one-line message, without the temporary path."""
    return message.replace(f"学习材料 {path} ", "").replace(f"学习材料 {path}", "").replace(str(path), "这份材料").lstrip("：")


def folder() -> Path:
    lib = materials.library()
    if lib.source is None:
        from plugins.study.config import materials_dir

        return materials_dir()
    return lib.source


def save(draft: Draft, *, replace: bool) -> Material:
    m = check(draft, replace=replace)
    target_dir = folder()
    target = target_dir / f"{draft.file_id()}.md"
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target_dir, prefix=".", suffix=".md", delete=False) as tmp:
            tmp.write(draft.text())
        os.replace(tmp.name, target)
    except OSError:
        from bot.orgfile import READ_ONLY

        raise MaterialError(READ_ONLY.replace("这次没有保存。", "")) from None
    from plugins.study import watch

    watch.reload_materials()
    found = materials.library().by_id(draft.file_id())
    return found or m


def csv_template() -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["题目", "选项", "答案", "解析"])
    w.writerow(["发现电梯困人，第一步应当怎么做？", "自行撬门救人|拨打电梯内的应急电话或 96333|等下班再说", "B", "不要自行撬门"])
    return buf.getvalue()
