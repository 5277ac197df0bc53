"""Applying the Alembic migrations in migrations/ from code: `payfix migrate`, `open_store` at start-up, tests.

On PostgreSQL the upgrade holds an advisory lock, so replicas that start together migrate one after the
other (the later ones find the schema current and do nothing).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from bot.config import ROOT

MIGRATIONS_DIR = ROOT / "migrations"
_LOCK_KEY = 0x70617966  # "payf": any constant shared by all replicas


def alembic_config() -> Config:
    """Alembic's configuration without alembic.ini (no logging set-up, no dependence on the cwd)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "migrations/versions is empty"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database to `revision` (default: the newest); returns (revision before, revision after), both
    read under the lock, so of several replicas starting together exactly one reports a change."""
    config = alembic_config()
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        if pg:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            connection.commit()
        try:
            # On SQLite this first read opens the transaction (BEGIN IMMEDIATE: the write lock), and the
            # migrations then run inside it; on PostgreSQL the advisory lock serialises replicas.
            before = MigrationContext.configure(connection).get_current_revision()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            after = MigrationContext.configure(connection).get_current_revision()
            connection.commit()
        finally:
            if pg:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                connection.commit()
    return before, after
