"""claims (假一赔十), guarantee programmes as data, consumer scan counters

Revision ID: 0007
Revises: 0006
"""

from datetime import datetime, timezone

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import qc_app.sqltypes
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

START = datetime(2020, 1, 1, tzinfo=timezone.utc)
# The guarantee is data: a new programme is a row, not code.
PROGRAMMES = [
    dict(code='JYPS', name_zh='假一赔十', name_en='Fake one, pay ten',
         multiplier=10, window_days=90, scope='brand,material', starts_at=START, ends_at=None),
    dict(code='AXG', name_zh='安心购 退一赔三', name_en='Anxin: refund plus three times',
         multiplier=3, window_days=90, scope='brand,material', starts_at=START, ends_at=None),
    dict(code='KS_XRG', name_zh='快手信任购', name_en='Kuaishou Trusted Purchase',
         multiplier=10, window_days=90, scope='brand,material', starts_at=START, ends_at=None),
]


def upgrade() -> None:
    programmes = op.create_table('programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('multiplier', sa.Integer(), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('starts_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ends_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.bulk_insert(programmes, PROGRAMMES)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', qc_app.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key('fk_orders_programme_id', 'programmes', ['programme_id'], ['id'])
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_listings_programme_id', 'programmes', ['programme_id'], ['id'])

    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('postage_fen', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('merchant_note', sa.Text(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('rejection_ground', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('refund_fen', sa.Integer(), nullable=True),
    sa.Column('compensation_fen', sa.Integer(), nullable=True),
    sa.Column('payout_fen', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], ),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_number'), ['number'], unique=True)
        batch_op.create_index(batch_op.f('ix_claims_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_state'), ['state'], unique=False)

    op.create_table('claim_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('party', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('original_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('claim_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_evidence_claim_id'), ['claim_id'], unique=False)

    # Consumer scans: an hourly counter per certificate, no identities (see verification/scans.py).
    op.create_table('scan_hours',
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], ),
    sa.PrimaryKeyConstraint('certificate_id', 'hour')
    )


def downgrade() -> None:
    op.drop_table('scan_hours')
    with op.batch_alter_table('claim_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_evidence_claim_id'))
    op.drop_table('claim_evidence')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        for name in ('state', 'merchant_id', 'certificate_id', 'order_id', 'number'):
            batch_op.drop_index(batch_op.f(f'ix_claims_{name}'))
    op.drop_table('claims')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_constraint('fk_listings_programme_id', type_='foreignkey')
        batch_op.drop_column('programme_id')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint('fk_orders_programme_id', type_='foreignkey')
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('programme_id')
    op.drop_table('programmes')
