"""jobs: what was asked of the task queue, by whom, and how it ended

Revision ID: 0015
Revises: 0013

The API's status URL and the job pages read it (qc_app.jobs). 0014 is the audit branch's.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import qc_app.sqltypes

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('readers', qc_app.sqltypes.JSONText(), nullable=False),
        sa.Column('params', qc_app.sqltypes.JSONText(), nullable=False),
        sa.Column('created_at', qc_app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('started_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('finished_at', qc_app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('result', qc_app.sqltypes.JSONText(), nullable=True),
        sa.Column('secret_result', qc_app.sqltypes.JSONText(), nullable=True),
        sa.Column('error', qc_app.sqltypes.JSONText(), nullable=True),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_jobs_requested_by_id', 'jobs', ['requested_by_id'])
    op.create_index('ix_jobs_finished_at', 'jobs', ['finished_at'])


def downgrade() -> None:
    op.drop_index('ix_jobs_finished_at', table_name='jobs')
    op.drop_index('ix_jobs_requested_by_id', table_name='jobs')
    op.drop_table('jobs')
