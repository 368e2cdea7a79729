"""outbox: per-account send pacing shared by every process

Revision ID: 7b0c1d2e3f40
Revises: a0fd0a44c427
Create Date: 2026-12-03 12:00:00.000000

- outbox_pace: one row per bot account, the database-clock time its next outbox send may
  start and the worker sending now. Two processes holding one account claim the slot with
  one guarded UPDATE, so the account's sends stay spaced (LIANXIN_SEND_INTERVAL) in total.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7b0c1d2e3f40'
down_revision: str | Sequence[str] | None = 'a0fd0a44c427'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbox_pace',
        sa.Column('bot_id', sa.String(length=64), nullable=False),
        sa.Column('next_at', sa.Double(), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('bot_id', name=op.f('pk_outbox_pace')),
        info={'bind_key': ''},
    )


def downgrade() -> None:
    op.drop_table('outbox_pace')
