"""Fixtures for the Slack app: the real app under uvicorn on a free port, a fake Slack Web API on another,
OpenAI mocked with respx, and a client that signs requests with the app's signing secret."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import respx
from observed_store import ObservedSqlStore
from pg_schemas import POSTGRES, pg_schema_url
from slack_fakes import FakeSlack, completion, good_answer
from slack_harness import Running, StartApp, serve_app

from bot.config import Settings
from bot.pipeline import Engine
from bot.slack.deps import Hooks, Timing
from bot.store.engine import make_engine
from bot.store.memory import MemoryStore
from bot.store.migrations import upgrade

STORE_BACKENDS = [pytest.param("memory", id="memory"), pytest.param("sqlite", id="sqlite"), POSTGRES]
SIGNING_SECRET = "test-signing-secret-0123456789"
OPENAI_BASE = "https://openai.test/v1"


@pytest.fixture(scope="session")
def base_engine() -> Engine:
    """Rules, KB and language models load once per session; each test gets an LLM client of its own."""
    return Engine(Settings.from_env({}))


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def env(slack_api: FakeSlack) -> dict[str, str]:
    """The environment `payfix serve` would see; tests add variables before the app is built."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test-token-123",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api.url,
        "OPENAI_API_KEY": "sk-test-key-123",
        "OPENAI_BASE_URL": OPENAI_BASE,
        "PAYFIX_MODEL": "gpt-test",
    }


@pytest.fixture
def llm_api() -> Iterator[respx.MockRouter]:
    """OpenAI at the HTTP layer. Default: a good card_declined answer. Unmatched hosts pass through (the
    test talks to the app and the fake Slack over real local HTTP)."""
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{OPENAI_BASE}/chat/completions", name="chat").mock(return_value=completion(good_answer()))
        router.route(host="127.0.0.1").pass_through()
        yield router


TEST_TIMING = Timing(lease_s=30, sweep_interval_s=0.05, shutdown_grace_s=2)


@pytest.fixture(params=STORE_BACKENDS)
def default_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore | ObservedSqlStore]:
    """Every Slack test runs on the in-memory store, on SQLite and (PAYFIX_TEST_POSTGRES_URL) on PostgreSQL."""
    if request.param == "memory":
        yield MemoryStore()
        return
    urls = iter([f"sqlite:///{tmp_path / 'slack.db'}"]) if request.param == "sqlite" else pg_schema_url()
    for url in urls:
        engine = make_engine(url)
        upgrade(engine)
        store = ObservedSqlStore(engine)
        try:
            yield store
        finally:
            store.close()


@pytest.fixture
def start_app(
    env: dict[str, str], base_engine: Engine, llm_api: respx.MockRouter, default_store: MemoryStore | ObservedSqlStore
) -> StartApp:
    """`async with start_app({"PAYFIX_APPROVERS": "U1"}, hooks=...) as running:` — an app with extra environment,
    hooks, a given store or timing."""

    def start(extra: dict[str, str] | None = None, *, store: MemoryStore | None = None, timing: Timing | None = None,
              hooks: Hooks | None = None) -> serve_app:  # fmt: skip
        settings = Settings.from_env(env | (extra or {}))
        return serve_app(settings, base_engine, store or default_store, hooks=hooks or Hooks(),
                         timing=timing or TEST_TIMING)  # fmt: skip

    return start


@pytest.fixture
async def running(start_app: StartApp) -> AsyncIterator[Running]:
    async with start_app() as running:
        yield running
