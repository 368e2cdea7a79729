"""ids as text: people and groups on more than one platform

Revision ID: 8b1e2f3a4d02
Revises: 5e1b7c2d9a40
Create Date: 2026-12-04 06:00:00.000000

A Feishu open_id ("ou_…") and chat id ("oc_…") are no numbers, so every column that holds a
person's, group's or message's id becomes text. Existing rows keep their values: a QQ number
30001 becomes the text "30001", which is that person's id from now on (a person's id is their
QQ number, else their Feishu id). The outbox learns which platform may send a row (NULL: any,
which is what every existing row was). The org_* tables, a mirror of the org file nothing
read any more, are dropped; the org file is the one source.

Downgrade casts back to numbers, so it works only while every id is a QQ number (a deployment
that has served Feishu cannot go back without losing those rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8b1e2f3a4d02'
down_revision: str | Sequence[str] | None = '5e1b7c2d9a40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, nullable)
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ('care_commendation', 'nominee', False),
    ('care_commendation', 'nominator', False),
    ('care_commendation', 'group_id', True),
    ('care_commendation', 'decided_by', True),
    ('care_suggestion', 'author', False),
    ('care_suggestion', 'group_id', True),
    ('care_suggestion', 'leader', False),
    ('concerns_concern', 'leader', False),
    ('concerns_event', 'actor', True),
    ('console_audit', 'user_id', False),
    ('console_link', 'user_id', False),
    ('console_session', 'user_id', False),
    ('moderation_audit', 'actor_id', True),
    ('moderation_audit', 'group_id', True),
    ('moderation_audit', 'subject_id', True),
    ('moderation_case', 'group_id', False),
    ('moderation_case', 'message_id', False),
    ('moderation_case', 'author_id', False),
    ('moderation_case', 'opened_by', True),
    ('moderation_case', 'decided_by', True),
    ('moderation_corpus', 'added_by', True),
    ('moderation_report', 'reporter_id', False),
    ('study_checkin', 'user_id', False),
    ('study_checkin', 'group_id', True),
    ('study_points', 'user_id', False),
    ('study_publish_offer', 'cadre', False),
    ('study_quiz_session', 'user_id', False),
    ('study_ranking_optin', 'user_id', False),
)


def _by_table() -> dict[str, list[tuple[str, bool]]]:
    tables: dict[str, list[tuple[str, bool]]] = {}
    for table, column, nullable in COLUMNS:
        tables.setdefault(table, []).append((column, nullable))
    return tables


def _retype(old: sa.types.TypeEngine[object], new: sa.types.TypeEngine[object], pg_cast: str) -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for table, columns in _by_table().items():
        # SQLite cannot alter a column's type: batch mode copies the table, rows and indexes.
        with op.batch_alter_table(table) as batch:
            for column, nullable in columns:
                extra = {"postgresql_using": f"{column}::{pg_cast}"} if pg else {}
                batch.alter_column(column, existing_type=old, type_=new, existing_nullable=nullable, **extra)


def upgrade() -> None:
    _retype(sa.BigInteger(), sa.String(length=64), "varchar(64)")
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('platform', sa.String(length=16), nullable=True))
    for name in ('org_person', 'org_group', 'org_department', 'org_category'):
        op.drop_table(name)


def downgrade() -> None:
    op.create_table(
        'org_category',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('leader', sa.BigInteger(), nullable=False),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_org_category')),
        info={'bind_key': ''},
    )
    op.create_table(
        'org_department',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('head', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_org_department')),
        info={'bind_key': ''},
    )
    op.create_table(
        'org_group',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=True),
        sa.Column('study', sa.JSON(), nullable=True),
        sa.Column('moderators', sa.JSON(), nullable=False),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_org_group')),
        info={'bind_key': ''},
    )
    op.create_table(
        'org_person',
        sa.Column('qq', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=True),
        sa.Column('roles', sa.JSON(), nullable=False),
        sa.Column('birthday', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('qq', name=op.f('pk_org_person')),
        info={'bind_key': ''},
    )
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('platform')
    _retype(sa.String(length=64), sa.BigInteger(), "bigint")
