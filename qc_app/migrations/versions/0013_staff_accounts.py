"""staff accounts: a TOTP second factor with recovery codes, pending logins, expiring tokens

Revision ID: 0013
Revises: 0012

users: the TOTP secret, when it was confirmed, the last time step accepted (no code twice).
recovery_codes: one-time codes, hashed. user_sessions.second_factor_at: a login that still
needs its second factor opens no page. api_tokens: a name, an expiry, the last use. Tokens
made before this revision never expired: they are named "token" and expire 90 days after the
upgrade, so no integration stops at the upgrade itself.
"""

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import qc_app.sqltypes

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


# Plain ALTER TABLE for users and user_sessions: SQLite adds a nullable column in place, and a
# batch copy of `users` is refused by the foreign keys pointing at it once it holds rows.
# api_tokens (nothing points at it) is copied to make its new columns NOT NULL.
def upgrade() -> None:
    op.add_column('users', sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(length=64)))
    op.add_column('users', sa.Column('totp_confirmed_at', qc_app.sqltypes.UTCDateTime()))
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger()))
    op.add_column('user_sessions', sa.Column('second_factor_at', qc_app.sqltypes.UTCDateTime()))
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('used_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_recovery_codes_user_id', 'recovery_codes', ['user_id'])
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64)))
        batch_op.add_column(sa.Column('expires_at', qc_app.sqltypes.UTCDateTime()))
        batch_op.add_column(sa.Column('last_used_at', qc_app.sqltypes.UTCDateTime()))
    expires = datetime.now(timezone.utc) + timedelta(days=90)
    update = sa.text("UPDATE api_tokens SET name = 'token', expires_at = :expires").bindparams(
        sa.bindparam('expires', expires, type_=qc_app.sqltypes.UTCDateTime())
    )
    op.get_bind().execute(update)
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.alter_column('name', nullable=False)
        batch_op.alter_column('expires_at', nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('name')
    op.drop_index('ix_recovery_codes_user_id', table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_column('user_sessions', 'second_factor_at')
    op.drop_column('users', 'totp_last_step')
    op.drop_column('users', 'totp_confirmed_at')
    op.drop_column('users', 'totp_secret')
