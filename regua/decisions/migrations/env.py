"""Alembic environment: runs on the connection `regua.decisions.db.upgrade` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from regua.decisions.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    url = context.config.get_main_option("sqlalchemy.url")
    with create_engine(url).begin() as own:
        context.configure(connection=own, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
