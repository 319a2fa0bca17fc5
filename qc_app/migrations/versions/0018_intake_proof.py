"""proof of this very piece: an intake photo's view and the item's identifying dimensions

Revision ID: 0018
Revises: 0016

photos.view: front, back, stamp or detail for the photos of a complete intake set (NULL for the
merchant's and the packing photos, and every photo before this revision). items.dimensions: the
dimensions measured at intake (JSON text; NULL for items received before). Both nullable:
existing rows keep their meaning. 0017 is the outbox branch's; this one follows 0016 until it
lands, and is chained after it then.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, no batch copy (see 0012): SQLite adds and drops nullable columns in place.
def upgrade() -> None:
    op.add_column(
        'photos', sa.Column('view', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
    )
    op.add_column('items', sa.Column('dimensions', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('items', 'dimensions')
    op.drop_column('photos', 'view')
