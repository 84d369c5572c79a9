"""Alembic environment: migrates the database named by PeerPath's settings (or a given connection)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import app.store
from app.config import Settings

target_metadata = app.store.Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    database = app.store.connect(Settings())
    try:
        with database.writer.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        database.dispose()


if context.is_offline_mode():
    context.configure(
        url=Settings().database_url, target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
