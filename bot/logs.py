"""Logging: NoneBot's format, minus the dispatcher's chatter, behind a redacting patcher.

With one matcher seeing every message, NoneBot's two INFO lines per event ("Event will be
handled by", "running complete") would be most of the log and most of its cost.

The event models (bot.privacy, bot/platform/) keep user ids and text out of the lines NoneBot writes about
events. `redact` is the last line of defence for everything else, at every level: it runs on
every record before any sink sees it, masks the secrets of the settings (NoneBot's DEBUG
`Loaded Config:` line prints the whole configuration), and replaces lines that would carry a
raw event payload or a pydantic error quoting one.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from nonebot import logger
from nonebot.log import default_filter, default_format

if TYPE_CHECKING:
    from loguru import Record

_DISPATCHER = "module=bot.dispatch"
MASK = "******"
# Shorter values (flags such as LIANXIN_ALLOW_NO_TOKEN=1) would mask half the log.
_MIN_SECRET = 6

_secrets: set[str] = set()
# 'onebot_access_token': 'x' in a dict repr, ONEBOT_ACCESS_TOKEN=x, "token": "x" in JSON. The
# cheap keyword test runs first: most lines name no such setting.
_SECRET_WORD = re.compile(r"token|secret|passw(?:or)?d|pwd|key", re.IGNORECASE)
_ITEM = re.compile(r"""(['"]?)([\w.-]{1,64})\1(\s*[:=]\s*)('[^']*'|"[^"]*"|[^\s,'"}]+)""")
# scheme://user:password@host
_URL_PASSWORD = re.compile(r"(\b[a-z][\w+.-]{0,30}://[^\s:/@'\"]{0,200}:)[^\s@'\"]+@", re.IGNORECASE)
# A line that quotes an event payload (an adapter's "Failed to parse event. Raw: {...}", a
# model dump; OneBot's and Feishu's keys) or pydantic's error text, which repeats the input it
# refused.
_PAYLOAD = re.compile(r"""['"](?:post_type|raw_message|sender_id|chat_type)['"]\s*:|input_value=""")
# NoneBot's TRACE line before each matcher run, `Matcher(...) run with incoming args: bot=...,
# event=..., state=...` (older releases: `Running ... with context:`). The state holds the
# command argument, i.e. the text, when a command rule matched.
_CONTEXT = re.compile(r" (?:run )?with (?:incoming args|context): bot=")


def add_secrets(values: Iterable[str | None]) -> None:
    """Values that must never appear in a log line (tokens, keys, passwords)."""
    _secrets.update(v for v in values if v and len(v) >= _MIN_SECRET)


def _mask(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    if _SECRET_WORD.search(text):
        text = _ITEM.sub(_mask_item, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + "@", text)
    return text


def _mask_item(m: re.Match[str]) -> str:
    quote, name, sep, _ = m.groups()
    return f"{quote}{name}{quote}{sep}{MASK!r}" if _SECRET_WORD.search(name) else m.group(0)


def _withheld_exception(record: Record) -> bool:
    exc = record["exception"]
    if exc is None or exc.value is None:
        return False
    try:
        text = str(exc.value)
    except Exception:  # noqa: BLE001 - an exception whose str() fails says nothing useful either
        return False
    return bool(_PAYLOAD.search(text)) or any(s in text for s in _secrets)


def redact(record: Record) -> None:
    message = record["message"]
    if (context := _CONTEXT.search(message)) is not None:
        message = message[: context.start()] + " run (context withheld)"
    if _PAYLOAD.search(message):
        head = message.split(":", 1)[0].split(". Raw", 1)[0][:80]
        message = f"{head} (event data withheld)"
    message = _mask(message)
    if _withheld_exception(record):
        exc = record["exception"]
        assert exc is not None
        message += f" [{exc.type.__name__ if exc.type else 'error'}; details withheld]"
        record["exception"] = None
    record["message"] = message


def _patcher(original: Any) -> Any:
    def patch(record: Record) -> None:
        if original is not None:
            original(record)
        redact(record)

    patch.lianxin_redacting = True  # type: ignore[attr-defined]
    return patch


def install_redaction() -> None:
    """Put `redact` in front of every sink, now and after nonebot.init (which replaces loguru's
    patcher with its own, then logs the configuration: ours must already be the one it sets)."""
    import nonebot

    current = getattr(nonebot, "_log_patcher", None)
    if not getattr(current, "lianxin_redacting", False):
        current = _patcher(current)
        nonebot._log_patcher = current  # type: ignore[attr-defined]
    logger.configure(patcher=current)


def _filter(record: Record) -> bool:
    if not default_filter(record):
        return False
    message = record["message"]
    return not (_DISPATCHER in message and (message.startswith("Event will be handled by") or message.endswith("running complete")))


def install(level: str | int | None = None, sink: Any = None) -> None:
    """NoneBot's log handler, on stdout unless `sink` is given (bot.app holds start-up
    chatter until the data files have passed their checks)."""
    import nonebot
    import nonebot.log

    try:
        logger.remove(nonebot.log.logger_id)
    except ValueError:
        pass  # already replaced
    if level is None:
        level = nonebot.get_driver().config.log_level
    if isinstance(level, str):
        level = int(level) if level.isdigit() else level.upper()
    # The handler's own level (NoneBot registers level 0 and filters later) lets loguru drop
    # DEBUG/TRACE calls before building a record: NoneBot makes several per message.
    nonebot.log.logger_id = logger.add(sink or sys.stdout, level=level, diagnose=False, filter=_filter, format=default_format)
