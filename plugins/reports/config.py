"""The reports plugin's settings (NoneBot's `get_plugin_config`: the environment or `.env`).

Read in the bot's process; the chart worker gets the values it needs as arguments (it runs no
NoneBot)."""

from __future__ import annotations

from pydantic import BaseModel

from bot.settings import OptionalPath


class Config(BaseModel):
    lianxin_font: OptionalPath = None  # a CJK font file for the charts; else one found or bundled


def config() -> Config:
    from nonebot import get_plugin_config

    return get_plugin_config(Config)
