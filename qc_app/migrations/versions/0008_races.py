"""money-safe under concurrency: one active claim and one payout per order, one parcel per seal,
a version column on certificates, the step lease of issuance batches

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa

import qc_app.sqltypes
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ACTIVE = "state IN ('filed', 'accepted', 'disputed', 'reinspection', 'upheld')"
PAID = "payout_fen IS NOT NULL"
# Rows the new unique indexes would refuse. The races they close may already have left some;
# deciding which claim or parcel is the real one is a person's job, not a migration's.
DUPLICATES = {
    'orders with more than one open or upheld claim':
        f"SELECT order_id FROM claims WHERE {ACTIVE} GROUP BY order_id HAVING count(*) > 1",
    'orders paid out more than once':
        f"SELECT order_id FROM claims WHERE {PAID} GROUP BY order_id HAVING count(*) > 1",
    'seal numbers on more than one parcel':
        "SELECT seal_no FROM orders WHERE seal_no IS NOT NULL GROUP BY seal_no HAVING count(*) > 1",
}


def _refuse_duplicates() -> None:
    connection = op.get_bind()
    found = {
        what: [str(row[0]) for row in connection.execute(sa.text(query))]
        for what, query in DUPLICATES.items()
    }
    problems = [f"{what}: {', '.join(keys[:20])}" for what, keys in found.items() if keys]
    if problems:
        raise RuntimeError(
            "migration 0008 cannot add its unique indexes; resolve these rows first: "
            + "; ".join(problems)
        )


# Plain ALTERs, no batch copies: on SQLite a copy drops and recreates the table, which its
# foreign keys (claim evidence, items, …) refuse once it holds rows.
def upgrade() -> None:
    _refuse_duplicates()
    op.create_index('uq_claims_order_active', 'claims', ['order_id'], unique=True,
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    op.create_index('uq_claims_order_payout', 'claims', ['order_id'], unique=True,
                    sqlite_where=sa.text(PAID), postgresql_where=sa.text(PAID))
    op.create_index('uq_orders_seal_no', 'orders', ['seal_no'], unique=True)
    # Existing rows start at version 0, as new ones do.
    op.add_column('certificates',
                  sa.Column('version', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('issuance_batches',
                  sa.Column('step_started_at', qc_app.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('issuance_batches',
                  sa.Column('stepped_at', qc_app.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('issuance_batches', 'stepped_at')
    op.drop_column('issuance_batches', 'step_started_at')
    op.drop_column('certificates', 'version')
    op.drop_index('uq_orders_seal_no', table_name='orders')
    op.drop_index('uq_claims_order_payout', table_name='claims')
    op.drop_index('uq_claims_order_active', table_name='claims')
