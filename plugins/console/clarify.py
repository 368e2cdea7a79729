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
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=".", suffix=".md", delete=False) as f:
        f.write(text)
    os.replace(f.name, folder / f"{name}.md")
    return loaded[0]
