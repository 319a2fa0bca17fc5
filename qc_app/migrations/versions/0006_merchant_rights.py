"""merchant rights centre: standing, programme memberships, listing labels and their periods

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import qc_app.sqltypes
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('legal_rep_verified', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column('categories', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                      server_default='')
        )
        batch_op.add_column(
            sa.Column('serious_violations', sa.Integer(), nullable=False, server_default='0')
        )
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('label_authentic', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column('label_guarantee', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table('programme_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('agreement_version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('agreement_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('left_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('left_by_id', sa.Integer(), nullable=True),
    sa.Column('leave_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['left_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('programme_memberships', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_programme_memberships_merchant_id'), ['merchant_id'], unique=False
        )
    op.create_table('listing_label_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('on_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('off_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('listing_label_periods', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_listing_label_periods_listing_id'), ['listing_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('listing_label_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_label_periods_listing_id'))
    op.drop_table('listing_label_periods')
    with op.batch_alter_table('programme_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_memberships_merchant_id'))
    op.drop_table('programme_memberships')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_column('label_guarantee')
        batch_op.drop_column('label_authentic')
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('serious_violations')
        batch_op.drop_column('categories')
        batch_op.drop_column('legal_rep_verified')
