"""A second plugin beside 连心, as a deployment might load one: its own command and private text."""

from nonebot import on_command, on_message
from nonebot.rule import keyword

weather = on_command("天气")
parcels = on_message(rule=keyword("快递"))

WEATHER = "今天晴。"
PARCELS = "你的快递到了。"


@weather.handle()
async def _weather() -> None:
    await weather.finish(WEATHER)


@parcels.handle()
async def _parcels() -> None:
    await parcels.finish(PARCELS)
