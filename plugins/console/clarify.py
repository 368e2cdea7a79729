"""Clarification texts edited in the console: the same files in the clarifications folder,
checked by the moderation plugin's own loader before they replace anything."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import yaml

from plugins.moderation.config import MAX_GROUP_POST, Clarification, clarification_dir, load_clarifications

_NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,40}$")
_WORDS = re.compile(r"[、,，;；\s]+")


class ClarifyError(Exception):
    pass


def all_texts() -> list[Clarification]:
    return load_clarifications()


def save(name: str, title: str, keywords: str, body: str) -> Clarification:
    name = name.strip()
    if not _NAME.match(name):
        raise ClarifyError("文件名请用 1–40 个汉字、字母、数字或 - _，例如 pay 或 工资传言。")
    words = [w for w in _WORDS.split(keywords) if w]
    if not title.strip() or not body.strip() or not words:
        raise ClarifyError("标题、关键词和正文都要填写（关键词用“、”隔开）。")
    head = yaml.safe_dump({"title": title.strip(), "keywords": words}, allow_unicode=True, sort_keys=False, width=1000)
    text = f"---\n{head}---\n{body.strip()}\n"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / f"{name}.md").write_text(text, encoding="utf-8")
        loaded = load_clarifications(Path(tmp))
    if not loaded:
        raise ClarifyError(f"正文里要有完整的句子（以句号等结尾），而且第一句不能超过 {MAX_GROUP_POST} 字。")
    folder = clarification_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=".", suffix=".md", delete=False) as f:
            f.write(text)
        os.replace(f.name, folder / f"{name}.md")
    except OSError:
        raise ClarifyError(_read_only()) from None
    return loaded[0]


# --- banned-phrase lists (data/lexicons/<category>.txt) ----------------------------------------

LEXICON_NAMES = {"fraud": "疑似诈骗话术", "abuse": "不文明用语", "banned": "禁用词"}


def lexicons() -> list[tuple[str, str, str]]:
    """(file stem, name in words, the file's text) of every lexicon file."""
    from plugins.moderation.config import lexicon_dir

    folder = lexicon_dir()
    out = []
    for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out.append((path.stem, LEXICON_NAMES.get(path.stem, path.stem), text))
    return out


def save_lexicon(stem: str, text: str) -> int:
    """Replace a lexicon file (comments kept as typed); returns how many phrases it holds.
    A phrase shorter than 2 characters would match inside ordinary words: refused."""
    from plugins.moderation.config import lexicon_dir
    from plugins.moderation.index import index
    from plugins.moderation.normalise import normalise

    if stem not in {s for s, _, _ in lexicons()}:
        raise ClarifyError("没有这个词表。")
    phrases = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    short = [p for p in phrases if p and len(normalise(p)) < 2]
    if short:
        raise ClarifyError("这些词太短，会误伤正常说话（至少 2 个字）：" + "、".join(short[:10]))
    folder = lexicon_dir()
    body = text.replace("\r\n", "\n").rstrip() + "\n"
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=".", suffix=".tmp", delete=False) as f:
            f.write(body)
        os.replace(f.name, folder / f"{stem}.txt")
    except OSError:
        raise ClarifyError(_read_only()) from None
    index.reload_phrases()  # this process at once; the others at their next minute tick
    return sum(1 for p in phrases if p)


def _read_only() -> str:
    from bot.orgfile import READ_ONLY

    return READ_ONLY.replace("这次没有保存。", "")
