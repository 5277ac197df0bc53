"""Connecting to PAYFIX_DATABASE_URL: the URL, the engine and its per-backend settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from bot.errors import ConfigError

POOL_SIZE = 8
POOL_OVERFLOW = 8


# PostgreSQL: this transaction commits without waiting for its WAL flush (see SqlStore.run_sync).
PG_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


def sqlite_synchronous(connection: Connection, level: str) -> None:
    """Set SQLite's flush level for the next transaction (it cannot change inside one). Executed on the
    driver connection, which runs it at once: through SQLAlchemy it would open a transaction first."""
    if connection.info.get("synchronous") != level:
        driver = connection.connection.driver_connection
        if driver is not None:
            driver.execute(f"PRAGMA synchronous={level}")
        connection.info["synchronous"] = level


def database_url(raw: str) -> str:
    """`postgresql://` and `postgres://` use the psycopg 3 driver; other URLs are used as given."""
    for prefix in ("postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def make_engine(raw_url: str) -> Engine:
    """An engine for PAYFIX_DATABASE_URL. Parameters are hidden from errors and logs: values are buyer text."""
    url = make_url(database_url(raw_url))
    if url.get_backend_name() != "sqlite":
        return create_engine(url, hide_parameters=True, pool_pre_ping=True, pool_size=POOL_SIZE,
                             max_overflow=POOL_OVERFLOW)  # fmt: skip
    memory = url.database in (None, "", ":memory:")
    engine = create_engine(
        url, hide_parameters=True, connect_args={"check_same_thread": False, "timeout": 30},
        **({"poolclass": StaticPool} if memory else {}),
    )  # fmt: skip
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers; FULL sync so a committed (acknowledged) message survives a power cut.
    The driver's own transaction handling is off: `_sqlite_begin` starts every transaction."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """BEGIN IMMEDIATE takes SQLite's write lock up front, so another process (a second `payfix` command, a
    replica by mistake) waits for it (busy timeout) instead of failing mid-transaction with SQLITE_BUSY."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_for(session: Session, table: Any) -> Any:
    """The dialect's INSERT, which has `on_conflict_do_nothing` on both PostgreSQL and SQLite."""
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)


def unreachable(engine: Engine, exc: OperationalError) -> ConfigError:
    """A start-up error naming the database (never its password) and the driver's one-line reason."""
    where = engine.url.render_as_string(hide_password=True)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
    return ConfigError(f"Cannot use the database {where} (PAYFIX_DATABASE_URL): {reason}",
                       f"无法使用数据库 {where}（PAYFIX_DATABASE_URL）：{reason}")  # fmt: skip
