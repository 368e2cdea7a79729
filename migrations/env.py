"""Alembic environment for the bot's single migration history.

Run through nonebot-plugin-orm (`python -m bot migrate ...`, and automatically at start-up),
which passes the engine and the models' metadata in `config.attributes`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

config = context.config
engine: AsyncEngine = config.attributes["engines"][""]
target_metadata = config.attributes["metadatas"][""]


def _configure(**opts: Any) -> None:
    context.configure(target_metadata=target_metadata, compare_type=True, **opts)


def run_migrations_offline() -> None:
    _configure(url=engine.url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    # Batch mode: SQLite cannot ALTER most things in place.
    _configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    async with engine.connect() as connection:
        await connection.run_sync(_run)


if context.is_offline_mode():
    run_migrations_offline()
else:
    coro = run_migrations_online()
    try:
        asyncio.run(coro)
    except RuntimeError:
        await_only(coro)
