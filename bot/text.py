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


def tfidf():  # type: ignore[no-untyped-def]
    """jieba's default TF-IDF extractor (its tokenizer, IDF table and stop words)."""
    _jieba()
    import jieba.analyse

    return jieba.analyse.default_tfidf


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
# Bidi embeddings, overrides and isolates: they can make a relayed text read differently from
# what was typed (e.g. reverse a receipt code or a number), so they are removed, never shown.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
# Characters that show nothing: a text made only of these (and spaces) is empty.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060-\u2064\ufeff\u00ad\u180e\u3164\uffa0\u115f\u1160]")


def clean(text: str) -> str:
    """User text made safe to store and show: no control or bidi characters, NFC, trimmed.

    Returns "" when nothing visible is left (zero-width spaces, BOM, word joiners, blanks), so
    callers' "empty text" checks also catch text that only looks like something was written.
    """
    text = _BIDI.sub("", _CONTROL.sub("", unicodedata.normalize("NFC", text)))
    if not _INVISIBLE.sub("", text).strip():
        return ""
    return text.strip()


# ASCII and full-width digits (a Chinese keyboard types ０-９): the only digits read as numbers.
# For patterns; \d would also take other scripts' digits, which `int()` rejects or reads wrongly.
DIGITS = "[0-9０-９]"
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_int(raw: str, *, max_digits: int = 9) -> int | None:
    """A non-negative whole number typed by a person, else None.

    ASCII and full-width digits only (a Chinese keyboard types ０-９): `str.isdigit()` also
    accepts superscripts and other scripts' digits, which `int()` then rejects or reads wrongly.
    """
    s = raw.strip().translate(_FULLWIDTH_DIGITS)
    if not s or len(s) > max_digits or not s.isascii() or not s.isdigit():
        return None
    return int(s)


_NUMBERED = re.compile(rf"^\s*[#＃]?\s*({DIGITS}{{1,9}})(?:\s+(.*))?$", re.S)


def parse_number(raw: str) -> int | None:
    """The number of an item (case, concern, nomination) as people write it: '12', '#12', '＃１２'."""
    number, rest = split_number(raw)
    return number if not rest else None


def split_number(args: str) -> tuple[int | None, str]:
    """'12 说明' / '#12' / '＃１２' -> (12, '说明'), the rest cleaned; (None, '') when the
    arguments do not start with a number and a space."""
    m = _NUMBERED.match(args)
    if not m:
        return None, ""
    return parse_int(m.group(1)), clean(m.group(2) or "")
