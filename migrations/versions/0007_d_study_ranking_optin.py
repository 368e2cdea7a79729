"""study: opt-in to the public ranking (/排行 公开)

Revision ID: 5e368964ddcd
Revises: 5c0a7e1d9b42
Create Date: 2026-12-03 12:00:00.000000

Points are private by default: /排行 and the monthly 学习之星 post list only people with a row
here. Nobody has one after the upgrade, so nobody is ranked until they choose to be.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = '5e368964ddcd'
down_revision: str | Sequence[str] | None = '5c0a7e1d9b42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'study_ranking_optin',
        sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_study_ranking_optin')),
        info={'bind_key': ''},
    )


def downgrade() -> None:
    op.drop_table('study_ranking_optin')
