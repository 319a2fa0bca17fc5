"""certificates: reissue links, PDF-signing credentials, issuance batches

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import qc_app.sqltypes
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('reissue_of', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))

    op.create_table('pdf_signing_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('body_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('serial', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('certificate_pem', sa.Text(), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('not_before', qc_app.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('not_after', qc_app.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('retired_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('serial')
    )
    with op.batch_alter_table('pdf_signing_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdf_signing_credentials_body_code'), ['body_code'], unique=False)

    op.create_table('issuance_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('item_codes', sa.Text(), nullable=False),
    sa.Column('failures', sa.Text(), nullable=False),
    sa.Column('finished_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('issuance_batches')
    with op.batch_alter_table('pdf_signing_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdf_signing_credentials_body_code'))
    op.drop_table('pdf_signing_credentials')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('reissue_of')
        batch_op.drop_column('superseded_by')
