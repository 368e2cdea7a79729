"""Text normalisation for screening: one canonical form for a message and its disguised copies.

People forward a rumour with "转发：" in front, change the punctuation, paste it in traditional
characters or full-width digits, sprinkle emoji or zero-width spaces between the characters of
an insult. All of that must disappear before matching, and the same function is applied to the
corpus, the banned phrases and every incoming message, so whatever it does it does to both sides.

The order matters: width first (so "：" is ":" for the prefix patterns), traditional to
simplified next (so "轉發" is "转发"), then the forward markers, then everything that is not a
letter or digit goes (punctuation, whitespace, emoji, zero-width characters).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache


def _import_zhconv():  # type: ignore[no-untyped-def]
    """zhconv finds its dictionary with pkg_resources when it can import it: ~10 MB and 0.2 s
    at start-up to locate one file. Without it, zhconv opens the file beside its module."""
    if "pkg_resources" in sys.modules:
        import zhconv
    else:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import fails: fallback
        try:
            import zhconv
        finally:
            del sys.modules["pkg_resources"]
    return zhconv


zhconv = _import_zhconv()

# The forward markers people put in front of (or behind) a pasted text. Applied repeatedly:
# "【转】转发：转自XX群：…" loses all three.
_MARK = r"(?:转(?:发|载|帖)?)"
_PREFIX = re.compile(
    r"^\s*(?:"
    rf"【\s*{_MARK}\s*】"
    rf"|\[\s*{_MARK}\s*\]"
    rf"|\(\s*{_MARK}\s*\)"
    r"|转发自[^\s:,.!?;，。！？；]{0,24}[\s:,.!?;，。！？；]?"
    r"|转自[^\s:,.!?;，。！？；]{0,24}[\s:,.!?;，。！？；]?"
    rf"|{_MARK}\s*[:;,.，。]"
    r"|转发"
    r"|fwd?\s*:"
    r"|分享\s*:"
    r")\s*"
)
_SUFFIX = re.compile(
    r"\s*(?:"
    rf"【\s*{_MARK}\s*】"
    rf"|\[\s*{_MARK}\s*\]"
    rf"|\(\s*{_MARK}\s*\)"
    r"|[-—~]*\s*(?:转自|转发自|来源[:：]?)[^\s]{0,24}"
    r")\s*$"
)
# Anything that is not a letter or a digit of any script (and the underscore, which \w keeps).
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _traditional() -> frozenset[str]:
    """Characters zhconv would change on their own: a message with none of them is already
    simplified, and the (slower) phrase-aware conversion is skipped on the hot path."""
    table = zhconv.zhconv.getdict("zh-hans")
    return frozenset(k for k, v in table.items() if len(k) == 1 and k != v)


def strip_forward_marks(text: str) -> str:
    """Remove forward markers at the start and end (already width-normalised text)."""
    for _ in range(5):
        stripped = _SUFFIX.sub("", _PREFIX.sub("", text, count=1), count=1)
        if stripped == text:
            break
        text = stripped
    return text


def normalise(text: str) -> str:
    """The canonical form used for every comparison; may be empty."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).lower()
    if not _traditional().isdisjoint(text):
        text = zhconv.convert(text, "zh-hans")
    text = strip_forward_marks(text)
    return _NOT_WORD.sub("", text)


def shingles(norm: str, k: int = 3) -> set[str]:
    """Character k-grams of a normalised text (Chinese has no spaces to split on)."""
    if len(norm) <= k:
        return {norm} if norm else set()
    return {norm[i : i + k] for i in range(len(norm) - k + 1)}
