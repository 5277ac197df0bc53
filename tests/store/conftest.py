"""Fixtures for the durable store: every store test runs on SQLite and, when PAYFIX_TEST_POSTGRES_URL is set
(`.ci/run` sets it), again on the real PostgreSQL server, each test in a schema of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from pg_schemas import pg_schema_url
from serve_harness import FakeOpenAI, FakeSlack
from sqlalchemy import Engine
from store_helpers import BACKENDS, Clock

from bot.config import Settings
from bot.knowledge import Knowledge, load_knowledge
from bot.store.engine import make_engine
from bot.store.migrations import upgrade
from bot.store.sql import SqlStore


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema dropped after the test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'payfix.db'}"
        return
    yield from pg_schema_url()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The database migrated to the newest revision."""
    eng = make_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(engine: Engine, clock: Clock) -> AsyncIterator[SqlStore]:
    sql = SqlStore(engine, clock=clock)
    yield sql
    await sql.aclose()


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge(Settings.from_env({}).knowledge_dir)


@pytest.fixture
def store_settings(database_url: str) -> Settings:
    """Settings pointing at the test database (what `payfix stats|purge|migrate` would be given)."""
    return replace(Settings.from_env({}), database_url=database_url)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A Slack Web API on a free port (what `payfix serve` gets as SLACK_API_URL)."""
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """An OpenAI-compatible server on a free port (OPENAI_BASE_URL); `fake_openai.gate` holds answers back."""
    server = FakeOpenAI()
    await server.start()
    yield server
    server.gate.set()
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def pg_url_for_replicas(backend: str, database_url: str) -> str:
    """The two-replica test needs PostgreSQL (SQLite has one writer)."""
    if backend != "postgresql":
        pytest.skip("two replicas share a database only on PostgreSQL")
    return database_url
