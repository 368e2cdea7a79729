"""The study plugin's settings (NoneBot's `get_plugin_config`: the environment or `.env`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from bot import settings
from bot.settings import OptionalPath


class Config(BaseModel):
    lianxin_materials: OptionalPath = None  # the materials folder; else data/materials


def config() -> Config:
    from nonebot import get_plugin_config

    return get_plugin_config(Config)


def materials_dir() -> Path:
    return config().lianxin_materials or settings.data_dir() / "materials"
