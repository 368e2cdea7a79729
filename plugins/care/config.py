"""The care plugin's settings (NoneBot's `get_plugin_config`: the environment or `.env`)."""

from __future__ import annotations

from pydantic import BaseModel

from bot.settings import OptionalPath


class Config(BaseModel):
    lianxin_greetings: OptionalPath = None  # the greetings folder; else data/greetings


def config() -> Config:
    from nonebot import get_plugin_config

    return get_plugin_config(Config)
