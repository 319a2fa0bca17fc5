"""the return waybill is a column of its item, not only a detail of an audit event

Revision ID: 0012
Revises: 0011

items.return_waybill_no: the waybill a failed item went back to its merchant under. Items
returned before this revision get it from their `return_shipped` audit events (the latest per
item), which keep it too: the column is read, the chain stays untouched.
"""

import json

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def backfill(connection: sa.engine.Connection) -> int:
    """Copy each item's latest return waybill from its audit events; returns the items filled."""
    events = connection.execute(
        sa.text(
            "SELECT entity_id, data FROM audit_events"
            " WHERE action = 'return_shipped' AND entity = 'item' ORDER BY seq"
        )
    ).all()
    waybills = {code: json.loads(data).get('waybill_no') for code, data in events}
    filled = {code: waybill[:40] for code, waybill in waybills.items() if waybill}
    for code, waybill in filled.items():
        connection.execute(
            sa.text("UPDATE items SET return_waybill_no = :w WHERE code = :c"),
            {"w": waybill, "c": code},
        )
    return len(filled)


# Plain ALTER TABLE, no batch copy: SQLite adds and drops a plain nullable column in place,
# while copying `items` is refused by the foreign keys pointing at it once it holds rows.
def upgrade() -> None:
    op.add_column(
        'items',
        sa.Column('return_waybill_no', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    )
    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_column('items', 'return_waybill_no')
