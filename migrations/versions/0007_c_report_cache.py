"""reports: each period's hot words and chart, kept until the data changes

Revision ID: 5e1b7c2d9a40
Revises: 5e368964ddcd
Create Date: 2026-12-03 12:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = '5e1b7c2d9a40'
down_revision: str | Sequence[str] | None = '5e368964ddcd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reports_cache',
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('period', 'kind', name=op.f('pk_reports_cache'))
    )


def downgrade() -> None:
    op.drop_table('reports_cache')
