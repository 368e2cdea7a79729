"""Alembic environment for the bot's single migration history.

Run through `bot.db.alembic` (`python -m bot migrate ...`, and automatically at start-up),
which passes an open connection in `config.attributes`. The models' metadata is complete once
the plugins are loaded, which the bot does before either.
"""

from __future__ import annotations

from alembic import context

from bot.models import Base

config = context.config
connection = config.attributes["connection"]
target_metadata = Base.metadata

# Batch mode: SQLite cannot ALTER most things in place.
context.configure(connection=connection, target_metadata=target_metadata, compare_type=True, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
