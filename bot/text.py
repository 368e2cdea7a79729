"""Chinese text helpers: jieba segmentation with a workplace dictionary, plain-text safety."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Protocol

WORKPLACE_TERMS = [
    "职称", "评职称", "晋升", "提拔", "绩效", "绩效工资", "年终奖", "公积金", "加班费", "值班费", "补贴",
    "津贴", "报销", "打印机", "电脑", "执法记录仪", "执法车", "公务用车", "工作任务", "分工", "排班",
    "安全生产", "消防", "隐患", "食堂", "饭菜", "宿舍", "考勤", "请假", "年休假", "体检", "培训",
]


@cache
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for term in WORKPLACE_TERMS:
        jieba.add_word(term)
    return jieba


def add_words(words: Iterable[str]) -> None:
    jb = _jieba()
    for w in words:
        if w.strip():
            jb.add_word(w.strip())


def words(text: str) -> list[str]:
    return [w for w in _jieba().lcut(text) if w.strip()]


def keywords(texts: Iterable[str], top: int = 10) -> list[tuple[str, float]]:
    """TF-IDF keywords over the joined texts (jieba.analyse)."""
    _jieba()
    import jieba.analyse

    return list(jieba.analyse.extract_tags("\n".join(texts), topK=top, withWeight=True))


class _Category(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def keywords(self) -> list[str]: ...


def categorize(text: str, categories: Iterable[_Category], default: str = "other") -> str:
    """The id of the category whose keywords the text mentions most, else `default`.

    A keyword that jieba yields as a whole word counts 2, one found only as a substring counts 1:
    "补贴" inside "补贴款" still counts, but a word beats an accidental substring. Ties keep the
    category listed first, so the org file's order decides.
    """
    categories = list(categories)
    add_words(k for c in categories for k in c.keywords)
    found = set(words(text))
    best, best_score = default, 0
    for c in categories:
        score = sum(2 if k in found else 1 if k in text else 0 for k in c.keywords)
        if score > best_score:
            best, best_score = c.id, score
    return best


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """User text made safe to store and show: no control characters, NFC, trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()
