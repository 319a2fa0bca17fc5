"""list search through indexes: names and titles by any part, codes by their beginning (issue 18)

Revision ID: 0021
Revises: 0020

A list's search (qc_app/lists.py) reads every row when it asks `LIKE '%…%'`: 100 to 700 ms at
100,000 rows. Names and titles are now found through a trigram index (any 3 or more
characters of them), codes from their first characters through a b-tree:

- SQLite: an FTS5 table with the trigram tokenizer per table (`<table>_search`, its rowid the
  row's id, external content: it stores the index, not a second copy of the text), kept in
  step by triggers on insert, delete and update of the searched columns, filled once here.
  A later migration that copies one of these tables (Alembic batch mode) drops its triggers
  with it and must create them again (see TRIGGERS below).
- PostgreSQL: pg_trgm GIN indexes (the extension is trusted: the database owner may create it;
  a downgrade leaves it installed, other databases' objects may use it), and `text_pattern_ops`
  b-trees so `code LIKE 'QC12%'` is an index range whatever the database's collation.
- Both: merchants.licence_no gets the index it never had, and items (state, consignment_id)
  lets the intake page find the consignments still waiting from the index alone.
"""

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# The text columns searched by any part, per table (qc_app/lists.py SEARCH_TABLES reads the
# same names).
SEARCHED = {
    'listings': ('title', 'brand'),
    'merchants': ('name',),
    'users': ('display_name',),
}
# The code columns searched by their beginning.
CODES = (
    ('items', 'code'),
    ('consignments', 'code'),
    ('certificates', 'number'),
    ('claims', 'number'),
    ('orders', 'order_no'),
    ('orders', 'waybill_no'),
    ('merchants', 'licence_no'),
    ('users', 'username'),
)


def _triggers(table: str, columns: tuple[str, ...]) -> list[str]:
    fts = f'{table}_search'
    names = ', '.join(columns)
    new = ', '.join(f'new.{c}' for c in columns)
    old = ', '.join(f'old.{c}' for c in columns)
    remove = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES('delete', old.id, {old});"
    add = f'INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});'
    return [
        f'CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {add} END',
        f'CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {remove} END',
        f'CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN {remove} {add} END',
    ]


TRIGGERS = {table: _triggers(table, columns) for table, columns in SEARCHED.items()}


def upgrade() -> None:
    op.create_index('ix_items_state_consignment_id', 'items', ['state', 'consignment_id'])
    if op.get_bind().dialect.name == 'sqlite':
        for table, columns in SEARCHED.items():
            fts = f'{table}_search'
            op.execute(
                f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)}, "
                f"content='{table}', content_rowid='id', tokenize='trigram')"
            )
            op.execute(f"INSERT INTO {fts}({fts}) VALUES('rebuild')")
            for trigger in TRIGGERS[table]:
                op.execute(trigger)
        op.create_index('ix_merchants_licence_no', 'merchants', ['licence_no'])
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for table, columns in SEARCHED.items():
        for column in columns:
            op.execute(
                f'CREATE INDEX ix_{table}_{column}_trgm ON {table} '
                f'USING gin ({column} gin_trgm_ops)'
            )
    for table, column in CODES:
        op.execute(
            f'CREATE INDEX ix_{table}_{column}_prefix ON {table} ({column} text_pattern_ops)'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index('ix_merchants_licence_no', table_name='merchants')
        for table in reversed(SEARCHED):
            for suffix in ('au', 'ad', 'ai'):
                op.execute(f'DROP TRIGGER {table}_search_{suffix}')
            op.execute(f'DROP TABLE {table}_search')
        op.drop_index('ix_items_state_consignment_id', table_name='items')
        return
    for table, column in reversed(CODES):
        op.drop_index(f'ix_{table}_{column}_prefix', table_name=table)
    for table, columns in reversed(SEARCHED.items()):
        for column in reversed(columns):
            op.drop_index(f'ix_{table}_{column}_trgm', table_name=table)
    op.drop_index('ix_items_state_consignment_id', table_name='items')
