"""Alembic environment. `payfix migrate` / `open_store` pass an open connection in
`config.attributes["connection"]`; the plain `alembic` CLI gets its URL from PAYFIX_DATABASE_URL through
`Settings` (the same reader payfix uses), so both run the same migrations against the same database."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from bot.config import Settings
from bot.store.engine import database_url, make_engine
from bot.store.schema import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things in place
        compare_type=True,
    )


def run_offline() -> None:
    """`alembic upgrade head --sql`: print the DDL instead of running it."""
    url = database_url(Settings.from_env(os.environ).database_url)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given: Connection | None = config.attributes.get("connection")
    if given is not None:
        _configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(Settings.from_env(os.environ).database_url)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
