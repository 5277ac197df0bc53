"""`payfix serve` wiring: secrets checked at start, the store factory, Socket Mode vs HTTP."""

from __future__ import annotations

import pytest
from openai import DefaultAioHttpClient

from bot.config import Settings
from bot.errors import ConfigError
from bot.pipeline import Engine
from bot.slack.app import build_app
from bot.slack.deps import Hooks
from bot.slack.server import asgi_for, run, server_llm, storage_hooks
from bot.slack.web import make_client
from bot.store.memory import MemoryStore


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-real-token"}, "SLACK_SIGNING_SECRET"),
    ],
)
def test_serve_refuses_to_start_without_secrets(env: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError) as error:
        run(Settings.from_env(env))
    assert missing in error.value.en and "SLACK" in error.value.zh


def test_placeholder_secrets_fail_at_configuration() -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is set to a placeholder"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-xxxx"})


def test_serve_gets_its_hooks_from_the_storage_wiring(base_engine: Engine) -> None:
    hooks = storage_hooks(Settings.from_env({}), MemoryStore(), base_engine)
    assert isinstance(hooks, Hooks)  # Hooks() until bot/slack/followup_wiring.py exists, then the real ones


def test_slack_api_url_overrides_the_web_api_base() -> None:
    client = make_client(Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://proxy:8080/api"}))
    assert client.base_url == "http://proxy:8080/api/"
    assert make_client(Settings.from_env({})).base_url == "https://slack.com/api/"


async def test_socket_mode_serves_only_healthz_over_http(base_engine: Engine) -> None:
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-real"})
    settings.require_slack()  # no signing secret needed in Socket Mode
    asgi = asgi_for(settings, build_app(settings, base_engine, MemoryStore()))
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    for path, status in (("/healthz", 200), ("/slack/events", 404)):
        sent.clear()
        await asgi({"type": "http", "path": path, "method": "GET" if path == "/healthz" else "POST"}, receive, send)
        assert sent[0]["status"] == status


async def test_serve_uses_the_core_llm_client_on_an_aiohttp_transport() -> None:
    assert server_llm(Settings.from_env({})) == (None, None)  # no key: offline fallback drafts
    settings = Settings.from_env({"OPENAI_API_KEY": "sk-real-key", "PAYFIX_LLM_CONCURRENCY": "300"})
    llm, client = server_llm(settings)
    assert llm is not None and client is not None
    try:
        assert isinstance(client._client, DefaultAioHttpClient) and client.max_retries == 0  # tenacity retries
        assert llm._slots._value == 300  # the configured cap on concurrent LLM calls
    finally:
        await client.close()
