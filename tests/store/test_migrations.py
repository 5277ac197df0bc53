"""Migrations apply cleanly to an empty database and to the previous schema (with data in it), end where the
models are, and serialise across replicas starting together."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from bot.store.engine import make_engine
from bot.store.migrations import current_revision, head_revision, upgrade
from bot.store.schema import Base
from bot.store.sql import SqlStore

FIRST = "0001_initial"
PAYFIX = str(Path(sys.executable).with_name("payfix"))
TABLES_1 = {"buyer_messages", "drafts", "decisions", "follow_ups", "outcomes"}


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_there_is_more_than_one_revision() -> None:
    assert head_revision() == "0002_job_runs" != FIRST


def test_an_empty_database_is_migrated_to_head_matching_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert tables(engine) == set() and current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert tables(engine) == TABLES_1 | {"job_runs"}
        with engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                     Base.metadata)  # fmt: skip
        assert drift == []  # the migrations create exactly what schema.py declares
        upgrade(engine)  # again: a no-op
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_the_previous_schema_with_data_upgrades_to_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, FIRST)
        assert current_revision(engine) == FIRST and tables(engine) == TABLES_1
        now = datetime(2026, 10, 1, tzinfo=UTC)
        with engine.begin() as connection:  # a row written by the previous version of payfix
            connection.execute(
                text("INSERT INTO buyer_messages (event_key, team, channel, ts, user_id, text, content_hash, "
                     "platform, force, received_at, status, updated_at) VALUES ('Ev1', 'T', 'C', '1.1', 'U', "
                     "'card declined', 'h', 'auto', false, :now, 'pending', :now)"),
                {"now": now.replace(tzinfo=None) if engine.dialect.name == "sqlite" else now},
            )  # fmt: skip
        upgrade(engine)
        assert current_revision(engine) == head_revision() and "job_runs" in tables(engine)
        store = SqlStore(engine)
        claimed = asyncio.run(_claim(store))
        assert [(m.event_key, m.received_at) for m in claimed] == [("Ev1", now)]
    finally:
        engine.dispose()


async def _claim(store: SqlStore) -> list[object]:
    try:
        return list(await store.claim_pending(worker="w", limit=5, lease_s=60))
    finally:
        await store.aclose()


def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    """Three `payfix migrate` processes at once (Alembic is not thread-safe, and replicas are processes)."""
    env = {**os.environ, "PAYFIX_DATABASE_URL": database_url, "PAYFIX_LOG_LEVEL": "WARNING"}
    runs = [subprocess.Popen([PAYFIX, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)]  # fmt: skip
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    said = sorted(out.split(": ", 1)[1].split(" ")[0] for out, _ in outputs)
    assert said == ["already", "already", "migrated"]  # one did the work, the others found it done
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
