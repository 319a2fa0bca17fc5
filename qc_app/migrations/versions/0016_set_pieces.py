"""set pieces: an item's article type and components; an inspection's judged parts and grading

Revision ID: 0016
Revises: 0014

items.article_type / items.components: what the merchant declared of a set piece (NULL for an
item of one material, as every item before this revision). inspections.parts: each component
as the lab measured it and the rules judged it; inspections.grading: the GB/T 16554 grading of
a loose diamond. All nullable: existing rows keep their meaning.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, no batch copy (see 0012): SQLite adds and drops nullable columns in place.
def upgrade() -> None:
    op.add_column(
        'items',
        sa.Column('article_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    )
    op.add_column('items', sa.Column('components', sa.Text(), nullable=True))
    op.add_column('inspections', sa.Column('parts', sa.Text(), nullable=True))
    op.add_column('inspections', sa.Column('grading', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('inspections', 'grading')
    op.drop_column('inspections', 'parts')
    op.drop_column('items', 'components')
    op.drop_column('items', 'article_type')
