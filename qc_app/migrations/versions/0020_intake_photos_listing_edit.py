"""intake photos required unless a reason is recorded; listings edited under a version

Revision ID: 0020
Revises: 0019

items.no_photo: why an item was received without photos ({"reason", "note"} as JSON text; NULL
when photographed and for every item received before). listings.version: the optimistic lock
that lets one of two concurrent edits win and refuses the other (409); existing rows start at 1.
"""

import sqlalchemy as sa

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, no batch copy (see 0012): SQLite adds a nullable column, or one with a
# server default, in place.
def upgrade() -> None:
    op.add_column('items', sa.Column('no_photo', sa.Text(), nullable=True))
    op.add_column(
        'listings', sa.Column('version', sa.Integer(), nullable=False, server_default='1')
    )


def downgrade() -> None:
    op.drop_column('listings', 'version')
    op.drop_column('items', 'no_photo')
