"""consumer page: ownership registration, keyed check-code digests, programme named on every
listing and order

Revision ID: 0009
Revises: 0008

- certificates.owner_registered_at: the one-time registration with the check code.
- check_code_hash becomes HMAC-SHA256(key, the old digest) with the deployment's check-code key
  (Config.CHECK_CODE_KEY, from QC_CHECK_CODE_KEY; qc_app.migrate.upgrade hands it over): the old digest
  was a bare SHA-256 of a 40-bit code, which anyone holding a copy of the database reverses in
  minutes. Wrapping the old digest lets existing rows be re-keyed without knowing their codes.
  A downgrade cannot undo this (the HMAC is one-way); codes then no longer match.
- listings.programme_id and orders.programme_id become NOT NULL: a listing names its programme
  (default 假一赔十), an order keeps the one it was placed under.
"""

import hashlib
import hmac

import sqlalchemy as sa

import qc_app.sqltypes
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

DEFAULT = "(SELECT id FROM programmes WHERE code = 'JYPS')"


def rekey(connection: sa.engine.Connection, key: bytes | None) -> int:
    """Wrap every stored check-code digest in the keyed HMAC; returns the rows changed."""
    rows = connection.execute(sa.text("SELECT id, check_code_hash FROM certificates")).all()
    if rows and not key:
        raise RuntimeError(
            "migration 0009 re-keys the certificates' check-code digests and needs the "
            "deployment's key: run it through `flask qc db upgrade` (qc_app.migrate.upgrade)"
        )
    for row_id, digest in rows:
        keyed = hmac.new(key or b"", digest.encode(), hashlib.sha256).hexdigest()
        connection.execute(
            sa.text("UPDATE certificates SET check_code_hash = :h WHERE id = :i"),
            {"h": keyed, "i": row_id},
        )
    return len(rows)


def upgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('owner_registered_at', qc_app.sqltypes.UTCDateTime(), nullable=True)
        )
    config = op.get_context().config
    rekey(op.get_bind(), config.attributes.get("check_code_key") if config else None)

    op.execute(f"UPDATE listings SET programme_id = {DEFAULT} WHERE programme_id IS NULL")
    op.execute(
        "UPDATE orders SET programme_id = (SELECT l.programme_id FROM listings l"
        " WHERE l.id = orders.listing_id) WHERE programme_id IS NULL"
    )
    for table in ('listings', 'orders'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('programme_id', existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    for table in ('orders', 'listings'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('programme_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('owner_registered_at')
