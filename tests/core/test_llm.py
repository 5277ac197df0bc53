"""The LLM stage over HTTP (respx): request shape, retries, format degradation and every fallback path."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import respx

from bot.llm import ANSWER_SCHEMA
from bot.pipeline import Engine
from tests.conftest import completion, good_answer

DECLINED = "My card was declined at checkout for order 112-3456789-1234567, what can I do?"


def _bodies(router: respx.MockRouter) -> list[dict[str, object]]:
    return [json.loads(call.request.content) for call in router.calls]


async def test_request_uses_strict_json_schema_and_fenced_buyer_text(
    llm_engine: Engine, openai_mock: respx.MockRouter
) -> None:
    route = openai_mock.post("/chat/completions").mock(return_value=completion(good_answer()))
    result = await llm_engine.draft(DECLINED, platform="amazon", agent_language="zh-CN")
    assert route.call_count == 1
    body = _bodies(openai_mock)[0]
    fmt = body["response_format"]
    assert isinstance(fmt, dict) and fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == ANSWER_SCHEMA
    assert body["model"] == "gpt-test"
    messages = body["messages"]
    assert isinstance(messages, list) and messages[0]["role"] == "system"
    assert "<<<BUYER_MESSAGE" in messages[1]["content"] and "declined" in messages[1]["content"]
    assert result.source == "llm" and result.diagnosis == "card_declined"
    assert result.usage.prompt_tokens == 1200 and result.usage.cached_tokens == 1024
    assert result.citations == ["card_declined#advise"]


async def test_429_then_success_is_retried(llm_engine: Engine, openai_mock: respx.MockRouter) -> None:
    route = openai_mock.post("/chat/completions").mock(
        side_effect=[httpx.Response(429, json={"error": {"message": "slow down"}}), completion(good_answer())]
    )
    result = await llm_engine.draft(DECLINED)
    assert route.call_count == 2
    assert result.source == "llm" and result.usage.attempts == 2


async def test_500_on_json_schema_degrades_to_json_object(llm_engine: Engine, openai_mock: respx.MockRouter) -> None:
    rejected = httpx.Response(500, json={"error": {"message": "response_format json_schema is not supported"}})
    route = openai_mock.post("/chat/completions").mock(side_effect=[rejected, completion(good_answer())])
    result = await llm_engine.draft(DECLINED)
    formats = [b["response_format"]["type"] for b in _bodies(openai_mock)]  # type: ignore[index]
    assert formats == ["json_schema", "json_object"]
    assert route.call_count == 2 and result.source == "llm"


@pytest.mark.parametrize(
    "content",
    ["not json at all", json.dumps({"reply": "hi"}), json.dumps(good_answer(diagnosis="made_up_tag")), "[]"],
)
async def test_garbage_or_off_schema_output_falls_back(
    llm_engine: Engine, openai_mock: respx.MockRouter, content: str
) -> None:
    openai_mock.post("/chat/completions").mock(return_value=completion(content))
    result = await llm_engine.draft(DECLINED)
    assert result.source == "fallback"
    assert result.fallback_reason in {"invalid_json", "off_schema"}
    assert result.reply and "CVV" in result.reply


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>502 Bad Gateway</html>", "invalid_response"),  # a proxy's page with status 200
        (json.dumps({"choices": []}).encode(), "empty_response"),
        (json.dumps({"choices": "nope"}).encode(), "invalid_response"),
    ],
)
async def test_a_broken_response_envelope_falls_back(
    llm_engine: Engine, openai_mock: respx.MockRouter, body: bytes, reason: str
) -> None:
    """Not only the answer inside: the server's JSON around it can be wrong too, and is never trusted."""
    openai_mock.post("/chat/completions").mock(return_value=httpx.Response(200, content=body))
    result = await llm_engine.draft(DECLINED)
    assert result.source == "fallback" and result.fallback_reason == reason
    assert result.usage.prompt_tokens == 0  # nothing answered: no tokens reported


async def test_server_down_falls_back_after_bounded_attempts(llm_engine: Engine, openai_mock: respx.MockRouter) -> None:
    route = openai_mock.post("/chat/completions").mock(return_value=httpx.Response(503))
    result = await llm_engine.draft(DECLINED)
    assert route.call_count == 3  # RetryPolicy.no_wait(max_attempts=3)
    assert result.source == "fallback" and result.fallback_reason == "http_503"


async def test_timeout_falls_back_within_the_budget(llm_engine: Engine, openai_mock: respx.MockRouter) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        import asyncio

        await asyncio.sleep(30)
        return completion(good_answer())

    openai_mock.post("/chat/completions").mock(side_effect=hang)
    started = time.perf_counter()
    result = await llm_engine.draft(DECLINED)
    elapsed = time.perf_counter() - started
    assert result.source == "fallback" and result.fallback_reason == "timeout"
    assert elapsed < 2.0 + 0.5  # total budget of the test policy, plus scheduling slack


async def test_no_personal_data_in_any_request_body(llm_engine: Engine, openai_mock: respx.MockRouter) -> None:
    openai_mock.post("/chat/completions").mock(
        side_effect=[httpx.Response(429), completion(good_answer(diagnosis="bank_verification_failed"))]
    )
    secrets = ["4111 1111 1111 1111", "4111111111111111", "CVV 737", "737", "OTP 482913", "482913",
               "+62 812-3456-7890", "buyer.name@example.com"]  # fmt: skip
    text = (
        "Payment failed again!! card 4111 1111 1111 1111 CVV 737, the OTP 482913 came late. "
        "Call me at +62 812-3456-7890 or buyer.name@example.com"
    )
    result = await llm_engine.draft(text)
    assert len(openai_mock.calls) == 2
    for call in openai_mock.calls:
        raw = call.request.content.decode("utf-8")
        for secret in ("4111 1111 1111 1111", "4111111111111111", "737", "482913", "812-3456-7890", "example.com"):
            assert secret not in raw, secret
    assert "[CARD]" in result.text and "[OTP]" in result.text and "[EMAIL]" in result.text
    assert all(s not in result.text for s in secrets[1:2] + secrets[5:6])


async def test_non_payment_message_makes_no_llm_call(llm_engine: Engine, openai_mock: respx.MockRouter) -> None:
    route = openai_mock.post("/chat/completions").mock(return_value=completion(good_answer()))
    result = await llm_engine.draft("I already paid, when will my parcel be shipped?")
    assert route.call_count == 0
    assert result.source == "prefilter" and not result.is_payment_issue and result.reply == ""


async def test_guard_violation_replaces_llm_draft_with_flagged_fallback(
    llm_engine: Engine, openai_mock: respx.MockRouter
) -> None:
    unsafe = good_answer(reply="Please send us your card number and CVV so we can process it for you.")
    openai_mock.post("/chat/completions").mock(return_value=completion(unsafe))
    result = await llm_engine.draft(DECLINED)
    assert result.source == "fallback" and result.fallback_reason == "guard"
    assert "asks_for_card_data" in result.guard_flags
    assert "send us your card number" not in result.reply
