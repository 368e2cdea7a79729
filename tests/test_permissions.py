"""NoneBot permissions from the org file's roles."""

from __future__ import annotations

from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from bot.permissions import CADRE, MODERATOR, SUPERUSER
from tests.helpers import group_event, private_event


async def test_permissions_follow_the_org_file(app: App) -> None:
    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, self_id="10000")
        assert await CADRE(bot, private_event(20002, "x"))
        assert not await CADRE(bot, private_event(30001, "x"))
        assert await CADRE(bot, private_event(10001, "x"))  # superuser has every right
        assert await MODERATOR(bot, group_event(40001, 20003, "x"))
        assert not await MODERATOR(bot, group_event(40001, 30001, "x"))
        assert not await SUPERUSER(bot, private_event(20002, "x"))
