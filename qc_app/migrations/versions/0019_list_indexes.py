"""indexes the list pages' filters read at 100,000 rows (issue 18)

Revision ID: 0019
Revises: 0018

Each list pages by its id (keyset, newest or oldest first) and narrows by a state, a material,
a shop and a date range (qc_app/lists.py). A filter column whose index ends in the id lets
the database walk the filtered rows already in page order; the date columns are range scans.
Plain CREATE INDEX on both SQLite and PostgreSQL; nothing is rewritten.
"""

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_certificates_status_id', 'certificates', ['status', 'id']),
    ('ix_certificates_issued_at', 'certificates', ['issued_at']),
    ('ix_items_state_material_id', 'items', ['state', 'declared_material', 'id']),
    ('ix_items_created_at', 'items', ['created_at']),
    ('ix_orders_state_id', 'orders', ['state', 'id']),
    ('ix_orders_created_at', 'orders', ['created_at']),
    ('ix_claims_created_at', 'claims', ['created_at']),
    ('ix_listings_merchant_material_id', 'listings', ['merchant_id', 'material_code', 'id']),
    ('ix_listings_created_at', 'listings', ['created_at']),
    ('ix_consignments_created_at', 'consignments', ['created_at']),
    ('ix_inspections_state_id', 'inspections', ['state', 'id']),
    ('ix_users_role_id', 'users', ['role', 'id']),
    ('ix_merchants_created_at', 'merchants', ['created_at']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
