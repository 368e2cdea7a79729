"""concerns: visibility from the batch slot, honest relay states, hour-granular times, no text in the outbox

Revision ID: a0fd0a44c427
Revises: e693a08ffae7
Create Date: 2026-12-03 07:30:00.000000

- concerns_concern.visible: a concern is seen (/待办, /受理, reports) only once a digest has
  told its leader. Existing concerns the leader was told of, or acted on, are visible.
- concerns_event.relay_attempts / relay_at: refusals counted, so a relay is retried until
  delivered or refused several times; the hour of the last attempt, to find relays left
  "sending" by a process that died.
- Every stored time about a concern is truncated to the hour.
- Leader notifications in the outbox held the concern's text and disclosed name: they now
  hold a reference rendered at send time. Existing rows are rewritten to references
  (escalations from their period, digests from the ids their text names).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = 'a0fd0a44c427'
down_revision: str | Sequence[str] | None = 'e693a08ffae7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMES = {
    'concerns_concern': ('id', ['created_at', 'acknowledged_at', 'replied_at', 'closed_at', 'next_step_at', 'purged_at']),
    'concerns_event': ('id', ['at']),
    'concerns_route': ('concern_id', ['destroy_after']),
    'concerns_draft': ('key', ['updated_at']),
}


def _hour(t: datetime | None) -> datetime | None:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0) if t is not None else None


# A digest's lines about additions, as the old code wrote them: "#N 提交人补充：…" / "#N 提交人评价：S 分".
_ADDED = re.compile(r'#(\d+) 提交人(补充|评价)：(.*?)(?:\n\n(?=#\d+ 提交人|新诉求 #|发送 /待办)|$)', re.DOTALL)


def _events(conn: sa.Connection, text: str) -> list[int]:
    event = sa.table('concerns_event', sa.column('id', sa.Integer()), sa.column('concern_id', sa.Integer()), sa.column('kind', sa.String()), sa.column('text', sa.Text()))
    ids: list[int] = []
    for cid, what, body in _ADDED.findall(text):
        kind, body = ('supplement', body) if what == '补充' else ('rated', body.removesuffix(' 分'))
        found = conn.execute(
            sa.select(event.c.id).where(event.c.concern_id == int(cid), event.c.kind == kind, event.c.text == body)
        ).scalars().all()
        ids.extend(found[:1])
    return ids


def upgrade() -> None:
    with op.batch_alter_table('concerns_concern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visible', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('concerns_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relay_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('relay_at', bot.db.UTCDateTime(timezone=True), nullable=True))

    conn = op.get_bind()
    concern = sa.table('concerns_concern', sa.column('visible', sa.Boolean()), sa.column('notified', sa.Boolean()), sa.column('status', sa.String()))
    conn.execute(sa.update(concern).where(sa.or_(concern.c.notified.is_(True), concern.c.status != 'new')).values(visible=True))

    for name, (key, columns) in TIMES.items():
        table = sa.table(name, sa.column(key), *[sa.column(c, bot.db.UTCDateTime()) for c in columns])
        for row in conn.execute(sa.select(table)).mappings().all():
            values = {c: _hour(row[c]) for c in columns if row[c] is not None and row[c] != _hour(row[c])}
            if values:
                conn.execute(sa.update(table).where(table.c[key] == row[key]).values(**values))

    outbox = sa.table('outbox', sa.column('id', sa.Integer()), sa.column('purpose', sa.String()), sa.column('period', sa.String()), sa.column('payload', sa.JSON()))
    rows = conn.execute(sa.select(outbox).where(outbox.c.purpose.in_(('concern-digest', 'concern-escalation')))).mappings().all()
    for row in rows:
        payload = row['payload'] or []
        if len(payload) == 1 and payload[0].get('type') == 'ref':
            continue
        if row['purpose'] == 'concern-escalation':
            cid, status, level = (row['period'].split(':') + ['', '', '0'])[:3]
            data = {'view': 'escalation', 'id': int(cid or 0), 'status': status, 'level': int(level or 0)}
        else:
            text = ''.join(str(p.get('text', '')) for p in payload)
            data = {'view': 'digest', 'concerns': [int(n) for n in re.findall(r'新诉求 #(\d+)', text)], 'events': _events(conn, text)}
        ref = [{'type': 'ref', 'renderer': 'concern', 'data': data}]
        conn.execute(sa.update(outbox).where(outbox.c.id == row['id']).values(payload=ref))


def downgrade() -> None:
    with op.batch_alter_table('concerns_event', schema=None) as batch_op:
        batch_op.drop_column('relay_at')
        batch_op.drop_column('relay_attempts')
    with op.batch_alter_table('concerns_concern', schema=None) as batch_op:
        batch_op.drop_column('visible')
