"""one-time tokens remember a digest of the request that claimed them

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keys claimed before this revision have no digest: reusing one is refused, never replayed
    # (a scanner form lives for minutes, an Idempotency-Key retry for seconds).
    with op.batch_alter_table('once_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_sha256', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('once_tokens', schema=None) as batch_op:
        batch_op.drop_column('request_sha256')
