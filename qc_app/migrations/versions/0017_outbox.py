"""outbox: events for the platform, webhook subscriptions, deliveries and their attempts

Revision ID: 0017
Revises: 0016

qc_app.outbox: events are written in the transaction of each change; `position` (the pull
feed's cursor, in commit order) is given by the sequencer after the commit.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import qc_app.sqltypes

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'outbox_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', S(length=40), nullable=False),
        sa.Column('type', S(length=48), nullable=False),
        sa.Column('subject', S(length=80), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=True),
        sa.Column('occurred_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('data', qc_app.sqltypes.JSONText(), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uid'),
        sa.UniqueConstraint('position'),
    )
    op.create_index('ix_outbox_events_type', 'outbox_events', ['type'])
    op.create_index('ix_outbox_events_merchant_id', 'outbox_events', ['merchant_id'])
    op.create_table(
        'webhook_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', S(length=500), nullable=False),
        sa.Column('description', S(length=200), nullable=False),
        sa.Column('event_types', qc_app.sqltypes.JSONText(), nullable=False),
        sa.Column('secret_sealed', S(length=200), nullable=False),
        sa.Column('secret_hint', S(length=16), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('subject', S(length=80), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('next_attempt_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('leased_until', qc_app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('finished_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_response', S(length=500), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id']),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscription_id', 'event_id'),
    )
    op.create_index(
        'ix_webhook_deliveries_order',
        'webhook_deliveries',
        ['subscription_id', 'subject', 'position'],
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['outcome', 'next_attempt_at'])
    op.create_table(
        'webhook_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('at', qc_app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('response', S(length=500), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_attempts_delivery_id', 'webhook_attempts', ['delivery_id'])


def downgrade() -> None:
    op.drop_index('ix_webhook_attempts_delivery_id', table_name='webhook_attempts')
    op.drop_table('webhook_attempts')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_order', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
    op.drop_index('ix_outbox_events_merchant_id', table_name='outbox_events')
    op.drop_index('ix_outbox_events_type', table_name='outbox_events')
    op.drop_table('outbox_events')
