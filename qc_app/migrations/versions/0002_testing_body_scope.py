"""testing bodies: accreditation start date and scope (material families)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Bodies that existed before scopes were recorded keep every family the rules knew then.
ALL_FAMILIES = '["diamond", "gemstone", "imitation", "jade", "organic", "precious_metal"]'


def upgrade() -> None:
    with op.batch_alter_table('testing_bodies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accredited_from', sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column('scope', sa.Text(), nullable=False, server_default=ALL_FAMILIES)
        )


def downgrade() -> None:
    with op.batch_alter_table('testing_bodies', schema=None) as batch_op:
        batch_op.drop_column('scope')
        batch_op.drop_column('accredited_from')
