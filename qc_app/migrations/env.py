"""Alembic environment: runs on the connection qc_app.migrate hands over."""

from alembic import context
from sqlmodel import SQLModel

import qc_app.models  # noqa: F401 - registers every table on the metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
