"""Alembic environment for the bot's single migration history.

Run through `bot.db.alembic` (`python -m bot migrate ...`, and automatically at start-up),
which passes an open connection and the models' metadata in `config.attributes`.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
target_metadata = config.attributes["metadata"]

# Batch mode: SQLite cannot ALTER most things in place.
context.configure(connection=connection, target_metadata=target_metadata, compare_type=True, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
