"""The real PostgreSQL server for tests (store and Slack alike): its URL, the skip mark and one schema per test.

A module of its own because conftest files are not importable by name; `tests/` is on the import path.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.store.engine import make_engine

PG_ENV = "PAYFIX_TEST_POSTGRES_URL"
PG_URL = os.environ.get(PG_ENV, "").strip()
SKIP_PG = f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test); .ci/run sets it"
POSTGRES = pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(not PG_URL, reason=SKIP_PG))


def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a new schema (search_path), so tests never see each other."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
