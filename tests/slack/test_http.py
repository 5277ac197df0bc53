"""The HTTP surface: only requests signed with the signing secret reach a listener; /healthz answers."""

from __future__ import annotations

import json
import time

import aiohttp
from slack_fakes import FakeSlack, event_envelope, message_event
from slack_harness import Running

PAYMENT = "Hi, my Visa keeps getting declined at checkout for order 112-3456789-1234567. I have money on it!"


def _body() -> str:
    return json.dumps(event_envelope(message_event(PAYMENT, ts="1700000000.000001"), "EvSIG"))


async def test_healthz_and_unknown_paths(running: Running) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{running.url}/healthz") as response:
            assert response.status == 200 and await response.text() == "ok\n"
        async with session.get(f"{running.url}/nope") as response:
            assert response.status == 404


async def test_a_signed_event_is_accepted(running: Running, slack_api: FakeSlack) -> None:
    body = _body()
    status, _ = await running.slack.post(body, running.slack.headers(body, content_type="application/json"))
    assert status == 200
    assert len(running.store._messages) == 1  # recorded before the 200 came back
    await slack_api.wait_for(lambda: slack_api.cards())


async def test_bad_missing_and_stale_signatures_get_401_and_do_nothing(running: Running, slack_api: FakeSlack) -> None:
    body = _body()
    good = running.slack.headers(body, content_type="application/json")
    bad = good | {"X-Slack-Signature": "v0=" + "0" * 64}
    missing = {"Content-Type": "application/json"}
    stale = running.slack.headers(body, timestamp=int(time.time()) - 6 * 60, content_type="application/json")
    tampered_body = body.replace("declined", "accepted")
    for headers, payload in ((bad, body), (missing, body), (stale, body), (good, tampered_body)):
        status, _ = await running.slack.post(payload, headers)
        assert status == 401
    assert running.store._messages == {}
    assert not slack_api.of("chat.postMessage")


async def test_url_verification_challenge(running: Running) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"})
    status, text = await running.slack.post(body, running.slack.headers(body, content_type="application/json"))
    assert status == 200 and "abc123" in text
