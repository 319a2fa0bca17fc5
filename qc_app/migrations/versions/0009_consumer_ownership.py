"""consumer page: the programme named on every listing and order

Revision ID: 0009
Revises: 0007

- listings.programme_id and orders.programme_id become NOT NULL: a listing names its programme
  (default 假一赔十), an order keeps the one it was placed under.
"""

import sqlalchemy as sa

from alembic import op

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

DEFAULT = "(SELECT id FROM programmes WHERE code = 'JYPS')"


def upgrade() -> None:
    op.execute(f"UPDATE listings SET programme_id = {DEFAULT} WHERE programme_id IS NULL")
    op.execute(
        "UPDATE orders SET programme_id = (SELECT l.programme_id FROM listings l"
        " WHERE l.id = orders.listing_id) WHERE programme_id IS NULL"
    )
    for table in ('listings', 'orders'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('programme_id', existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    for table in ('orders', 'listings'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('programme_id', existing_type=sa.Integer(), nullable=True)
