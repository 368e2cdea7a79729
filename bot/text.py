"""Chinese text helpers: jieba segmentation with a workplace dictionary, plain-text safety."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from functools import cache

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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """User text made safe to store and show: no control characters, NFC, trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()
