"""concerns: the deadline of a concern's phase is stored once it is set; study: /发布学习 offers

Revision ID: 5e1d0c3a7b21
Revises: 7b0c1d2e3f40
Create Date: 2026-12-03 12:00:00.000000

concerns_concern.due_at: the deadline shown to the leader and the submitter; escalation steps
no longer move it (they used to overwrite next_step_at, which was also shown as the deadline).
Existing open concerns that have not climbed the ladder yet keep next_step_at as their
deadline; for the others the code falls back to computing it from the phase's start.

study_publish_offer: what a cadre was shown by /发布学习, until "/发布学习 确认" sends it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = '5e1d0c3a7b21'
down_revision: str | Sequence[str] | None = '7b0c1d2e3f40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'study_publish_offer',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('cadre', sa.BigInteger(), nullable=False),
        sa.Column('plan', sa.JSON(), nullable=False),
        sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('reported', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_study_publish_offer')),
    )
    with op.batch_alter_table('study_publish_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_publish_offer_cadre'), ['cadre'], unique=False)
    with op.batch_alter_table('concerns_concern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', bot.db.UTCDateTime(timezone=True), nullable=True))
    concern = sa.table(
        'concerns_concern', sa.column('due_at', bot.db.UTCDateTime()), sa.column('next_step_at', bot.db.UTCDateTime()),
        sa.column('level', sa.Integer()), sa.column('status', sa.String()),
    )
    op.get_bind().execute(
        sa.update(concern).where(concern.c.level == 0, concern.c.status != 'closed').values(due_at=concern.c.next_step_at)
    )


def downgrade() -> None:
    with op.batch_alter_table('study_publish_offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_study_publish_offer_cadre'))
    op.drop_table('study_publish_offer')
    with op.batch_alter_table('concerns_concern', schema=None) as batch_op:
        batch_op.drop_column('due_at')
