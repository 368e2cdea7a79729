"""What moderation does to a message or a person on the platform: recall and mute.

Neither raises: the caller records the outcome in the audit log and tells the moderator.
"""

from __future__ import annotations

from nonebot import logger

from bot.platform import Port, Recall, capabilities


async def recall(port: Port, message_id: str, group_id: str, author_id: str) -> Recall:
    if not capabilities(port).recall_others:
        return Recall.UNSUPPORTED  # not asked at all: the platform has no such action for bots
    try:
        outcome = Recall(await port.recall(str(message_id), group_id=str(group_id), author_id=str(author_id)))
    except Exception as e:  # noqa: BLE001 - timeouts, disconnects: we do not know
        logger.warning(f"moderation: recall failed: {type(e).__name__}")
        return Recall.UNKNOWN
    if not outcome:
        logger.info(f"moderation: recall not done: {outcome.value}")
    return outcome


async def mute(port: Port, group_id: str, user_id: str, seconds: int) -> bool:
    """Mute for `seconds` (0 lifts a mute); False when the platform refused or failed (or has
    no mute: see `can_mute`)."""
    if not can_mute(port):
        return False
    try:
        await port.mute(str(group_id), str(user_id), seconds)
    except Exception as e:  # noqa: BLE001
        logger.warning(f"moderation: mute failed: {type(e).__name__}")
        return False
    return True


def can_mute(port: Port) -> bool:
    return capabilities(port).mute
