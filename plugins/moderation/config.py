"""Moderation settings: per-group policy from the org file, the shipped phrase lists and
clarification texts, and the constants moderators may want to know about.

Files are looked up in the deployment's `data/` (working directory) first and fall back to the
examples shipped in the repository, so a fresh install screens with the shipped lists. The
folders can also be named explicitly with LIANXIN_LEXICONS and LIANXIN_CLARIFICATIONS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from nonebot import logger
from pydantic import BaseModel

from bot import settings
from bot.checks import read_front_matter
from bot.errors import StartupError
from bot.org import Org
from plugins.moderation.normalise import normalise
from plugins.moderation.orgsection import Moderation, moderation_of

REPO_DATA = Path(__file__).resolve().parent.parent.parent / "data"


class Config(BaseModel):
    """The plugin's settings (NoneBot's `get_plugin_config`: the environment or `.env`)."""

    lianxin_lexicons: settings.OptionalPath = None
    lianxin_clarifications: settings.OptionalPath = None


def config() -> Config:
    from nonebot import get_plugin_config

    return get_plugin_config(Config)

# The ladder when a group sets none: two warnings, then 10 minutes, 1 hour, 1 day (minutes).
DEFAULT_LADDER: tuple[int, ...] = (0, 0, 10, 60, 1440)
# Confirmed violations older than this no longer count towards the ladder.
LADDER_WINDOW = timedelta(days=180)
# QQ refuses longer mutes.
MAX_MUTE_SECONDS = 30 * 24 * 3600
# Reports per reporter per hour.
REPORTS_PER_HOUR = 5
# Message text kept in cases and the audit log (the screening itself reads less).
MAX_SNAPSHOT = 2000
# How much of a message moderators see in a notification.
PREVIEW = 300
# Longest text posted to a group as one message. QQ takes about 4,500 characters, but long
# group posts risk being held by QQ's risk control and nobody reads them on a phone.
MAX_GROUP_POST = 1500
# The same clarification or anti-fraud reminder is not posted to a group twice within this.
REPEAT_WINDOW = timedelta(hours=1)

CATEGORY_LABELS = {
    "rumour": "不实信息",
    "abuse": "不文明言论",
    "fraud": "疑似诈骗信息",
    "banned": "本群禁用语",
}
# Violations that are not claims of fact get no clarification (辟谣) and do not join the
# rumour corpus (the phrase list already catches them).
NO_CLARIFICATION = frozenset({"abuse", "banned"})


def label(category: str) -> str:
    return CATEGORY_LABELS.get(category, "违规内容")


def policy_of(org: Org, group_id: str) -> Moderation:
    group = org.groups.get(group_id)
    found = moderation_of(group) if group is not None else None
    return found or Moderation()


def ladder_of(org: Org, group_id: str) -> tuple[int, ...]:
    ladder = policy_of(org, group_id).ladder
    return tuple(ladder) if ladder else DEFAULT_LADDER


def mute_minutes(ladder: tuple[int, ...], step: int) -> int:
    """Minutes for the `step`-th (1-based) confirmed violation; past the end the last repeats."""
    return ladder[min(step, len(ladder)) - 1]


def _folder(given: Path | None, name: str) -> Path:
    if given:
        return given
    own = settings.data_dir() / name
    return own if own.is_dir() else REPO_DATA / name


def lexicon_dir() -> Path:
    return _folder(config().lianxin_lexicons, "lexicons")


def clarification_dir() -> Path:
    return _folder(config().lianxin_clarifications, "clarifications")


def load_lexicons(folder: Path | None = None, *, strict: bool = False) -> list[tuple[str, str]]:
    """(phrase, category) from every `<category>.txt`: one phrase a line, `#` comments.

    `strict` (the start-up check) raises StartupError for a file that cannot be read, and for a
    folder named by LIANXIN_LEXICONS that does not exist; otherwise such a file is skipped with
    a warning (an edit made while the bot runs).
    """
    explicit = folder is None and config().lianxin_lexicons is not None
    folder = folder or lexicon_dir()
    out: list[tuple[str, str]] = []
    if not folder.is_dir():
        if strict and explicit:
            raise StartupError(f"词表目录 {folder} 不存在（LIANXIN_LEXICONS 指定的路径）")
        logger.warning(f"moderation: no lexicon folder at {folder}; only per-group phrases apply")
        return out
    for path in sorted(folder.glob("*.txt")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            if strict:
                raise StartupError(f"词表文件 {path} 无法读取（应为 UTF-8 编码的文本）：{type(e).__name__}") from None
            logger.warning(f"moderation: cannot read {path}: {type(e).__name__}")
            continue
        for line in lines:
            phrase = line.split("#", 1)[0].strip()
            if phrase:
                out.append((phrase, path.stem))
    return out


@dataclass(frozen=True)
class Clarification:
    """An official text moderators can have posted instead of writing their own."""

    name: str
    title: str
    keywords: tuple[str, ...]
    body: str

    def text(self) -> str:
        """What is posted: title and reflowed body, no sentence twice, whole sentences only
        (None when even the first sentence is longer than a group post may be)."""
        return fit(dedupe_sentences(f"【辟谣】{self.title}\n{reflow(self.body)}"), MAX_GROUP_POST) or ""


def load_clarifications(folder: Path | None = None, *, strict: bool = False) -> list[Clarification]:
    """`*.md` with YAML front matter (`title`, `keywords`).

    `strict` (the start-up check) raises StartupError naming the first bad file; otherwise a
    bad file is skipped with a warning (an edit made while the bot runs, the console's check).
    """
    folder = folder or clarification_dir()
    out: list[Clarification] = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.md")):
        try:
            c = read_clarification(path)
        except StartupError as e:
            if strict:
                raise
            logger.warning(f"moderation: skipped clarification: {e}")
            continue
        if len(c.text()) < len(dedupe_sentences(f"【辟谣】{c.title}\n{reflow(c.body)}")):
            logger.warning(f"moderation: clarification {path.name} is longer than {MAX_GROUP_POST} characters; posting it up to the last whole sentence")
        out.append(c)
    return out


def read_clarification(path: Path) -> Clarification:
    where = f"辟谣文本 {path}"
    meta, body = read_front_matter(path, where)  # none at all: the check below names what is missing
    title = str(meta.get("title") or "").strip() if isinstance(meta, dict) else ""
    words = meta.get("keywords") if isinstance(meta, dict) else None
    words = [words] if isinstance(words, str) else words
    keywords = tuple(str(k).strip() for k in words if str(k).strip()) if isinstance(words, list) else ()
    if not title or not body.strip() or not keywords:
        raise StartupError(f"{where}：开头的 YAML 要写 title（标题）和 keywords（关键词列表），之后是正文")
    c = Clarification(path.stem, title, keywords, body.strip())
    if not c.text():
        raise StartupError(f"{where}：正文要有完整的句子（以句号等结尾），而且第一句不能超过 {MAX_GROUP_POST} 字")
    return c


# --- text posted to a group ------------------------------------------------------------

_LIST_ITEM = re.compile(r"^(?:[-*•·]|\d{1,2}[.、)）]|[（(]\d{1,2}[)）]|[一二三四五六七八九十]、)")
# A sentence: up to its end mark (and closing quotes), or a line on its own.
_SENTENCE = re.compile(r"[^。！？!?\n]+(?:[。！？!?]+[”’」』）)\"']*)?|\n")
_END = re.compile(r"[。！？!?]+[”’」』）)\"']*")


def reflow(body: str) -> str:
    """Markdown paragraphs as chat text: the line breaks an editor wraps a paragraph with are
    not line breaks to a reader (on a phone they look like a sentence cut off)."""
    paragraphs = []
    for para in re.split(r"\n\s*\n", body.strip()):
        lines = [line.strip() for line in para.splitlines() if line.strip()]
        if not lines:
            continue
        out = lines[0]
        for line in lines[1:]:
            if _LIST_ITEM.match(line):
                out += "\n" + line
            elif out[-1].isascii() and out[-1].isalnum() and line[0].isascii() and line[0].isalnum():
                out += " " + line  # English words keep their space
            else:
                out += line
        paragraphs.append(out)
    return "\n".join(paragraphs)


def dedupe_sentences(text: str) -> str:
    """The text without sentences that repeat an earlier one (a title the body opens with, a
    note repeating the closing line of the template around it)."""
    kept: list[str] = []
    seen: list[str] = []
    for piece in _SENTENCE.findall(text):
        if piece == "\n":
            kept.append(piece)
            continue
        key = normalise(piece)
        # The same words (punctuation, spaces and script aside), or a long sentence that an
        # earlier one contains; merely similar sentences ("第 1 项…", "第 2 项…") stay.
        if key and any(key == s or (len(key) >= 8 and key in s) for s in seen):
            continue
        if key:
            seen.append(key)
        kept.append(piece)
    lines = [line.strip() for line in "".join(kept).split("\n")]
    return "\n".join(line for line in lines if line)


def fit(text: str, limit: int) -> str | None:
    """The text if it fits; else up to the last sentence end that fits; None if none does."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _END.finditer(text, 0, limit + 1) if m.end() <= limit]
    return text[: ends[-1]].rstrip() if ends else None


def best_clarification(text: str, options: list[Clarification]) -> Clarification | None:
    """The official text whose keywords the rumour mentions most (at least two of them)."""
    norm = normalise(text)
    best: tuple[int, Clarification] | None = None
    for c in options:
        score = sum(1 for k in c.keywords if normalise(k) and normalise(k) in norm)
        if score >= 2 and (best is None or score > best[0]):
            best = (score, c)
    return best[1] if best else None
