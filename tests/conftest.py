"""Shared fixtures for the core: settings, a session-wide engine, and OpenAI mocked at the HTTP layer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from bot.config import Settings
from bot.llm import LLMClient, RetryPolicy
from bot.pipeline import Engine

OPENAI_URL = "https://api.openai.test/v1"
BOT = Path(__file__).resolve().parent.parent / "bot"


def pytest_configure(config: pytest.Config) -> None:
    """A mypyc-compiled module shadows its source (setup.py): testing one older than its `.py` would test old
    code while reporting on the new. `make test` rebuilds first; a bare pytest run stops here instead."""
    source = {so: BOT / f"{so.name.split('.')[0]}.py" for so in BOT.glob("*.so")}
    stale = [so.name for so, py in source.items() if so.stat().st_mtime < py.stat().st_mtime]
    if stale:
        pytest.exit(f"compiled modules older than their source: {', '.join(stale)}; run `make test`", returncode=2)


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings as a fresh machine has them (no key, no Slack), built from an explicit mapping."""
    return Settings.from_env({})


@pytest.fixture(scope="session")
def offline_engine(settings: Settings) -> Engine:
    """The pipeline without an LLM (lingua's models load once per session)."""
    return Engine(settings)


@pytest.fixture
def llm_settings(settings: Settings) -> Settings:
    return replace(settings, openai_api_key="sk-test-key", openai_base_url=OPENAI_URL, model="gpt-test")


@pytest.fixture
def openai_mock() -> Iterator[respx.MockRouter]:
    """All OpenAI traffic goes to this router; unmatched requests fail the test."""
    with respx.mock(base_url=OPENAI_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def llm_engine(offline_engine: Engine, llm_settings: Settings) -> Engine:
    """The session engine's data with an LLM client that retries without waiting."""
    client = LLMClient.from_settings(llm_settings, policy=RetryPolicy.no_wait(max_attempts=3, total_budget_s=2.0))
    return offline_engine.with_llm(client, llm_settings)


def completion(content: str | dict[str, Any], *, prompt_tokens: int = 1200, cached: int = 1024) -> httpx.Response:
    """A Chat Completions response as the API sends it."""
    body = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-test",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": body}}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": 90,
                "total_tokens": prompt_tokens + 90,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        },
    )


def good_answer(**overrides: Any) -> dict[str, Any]:
    answer = {
        "diagnosis": "card_declined",
        "confidence": 0.9,
        "reply": "Sorry the payment did not go through. Please call your bank and ask them to allow this online "
        "payment, then try again on the checkout page. We will never ask for your card number, CVV or OTP.",
        "reply_translation": "很抱歉付款未成功。请联系您的银行授权这笔网上付款，然后在结账页重试。"
        "我们绝不会索要您的卡号、CVV 或验证码。",
        "citations": ["card_declined#advise"],
    }
    answer.update(overrides)
    return answer
