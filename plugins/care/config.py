"""The care plugin's settings (NoneBot's `get_plugin_config`: the environment or `.env`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel


class Config(BaseModel):
    lianxin_greetings: Path | None = None  # the greetings folder; else data/greetings


def config() -> Config:
    from nonebot import get_plugin_config

    return get_plugin_config(Config)
