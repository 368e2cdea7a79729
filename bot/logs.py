"""Log handler: NoneBot's format, minus the per-message chatter of the dispatcher matcher.

With one matcher seeing every message, NoneBot's two INFO lines per event ("Event will be
handled by", "running complete") would be most of the log and most of its cost.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from nonebot import logger
from nonebot.log import default_filter, default_format

if TYPE_CHECKING:
    from loguru import Record

_DISPATCHER = "module=bot.dispatch"


def _filter(record: Record) -> bool:
    if not default_filter(record):
        return False
    message = record["message"]
    if _DISPATCHER in message and (message.startswith("Event will be handled by") or message.endswith("running complete")):
        return False
    return True


def install() -> None:
    import nonebot
    import nonebot.log

    try:
        logger.remove(nonebot.log.logger_id)
    except ValueError:
        pass  # already replaced
    # The handler's own level (NoneBot registers level 0 and filters later) lets loguru drop
    # DEBUG/TRACE calls before building a record: NoneBot makes several per message.
    level = nonebot.get_driver().config.log_level
    nonebot.log.logger_id = logger.add(sys.stdout, level=level, diagnose=False, filter=_filter, format=default_format)
