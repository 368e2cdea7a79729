"""The console's settings (NoneBot's `get_plugin_config`: the environment or `.env`)."""

from __future__ import annotations

from pydantic import BaseModel


class Config(BaseModel):
    # The console's public address (https://…/console); empty: the console is off.
    lianxin_console_url: str = ""


def config() -> Config:
    from nonebot import get_plugin_config

    return get_plugin_config(Config)
