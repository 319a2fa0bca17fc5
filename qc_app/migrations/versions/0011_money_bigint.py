"""money columns are 64-bit: a price may reach ¥1,000,000,000 (10^11 fen), a payout eleven times it

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

MONEY = {
    'listings': ('price_fen',),
    'items': ('price_fen',),
    'orders': ('price_paid_fen',),
    'claims': ('postage_fen', 'refund_fen', 'compensation_fen', 'payout_fen'),
}


# SQLite stores every INTEGER in up to 8 bytes whatever the declared type, and a batch copy
# of these tables is refused by their foreign keys once they hold rows: only PostgreSQL,
# whose INTEGER is 4 bytes, changes.
def _retype(to: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, columns in MONEY.items():
        for column in columns:
            op.alter_column(table, column, type_=to)


def upgrade() -> None:
    _retype(sa.BigInteger())


def downgrade() -> None:
    # Refused by PostgreSQL (numeric value out of range) while any amount needs the 64 bits.
    _retype(sa.Integer())
