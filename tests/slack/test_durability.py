"""A message acknowledged to Slack is never lost: it is in the store before the 200, and whatever a crash
interrupts is drafted by the sweeper of the next process."""

from __future__ import annotations

import asyncio

import httpx
import respx
from slack_fakes import FakeSlack, completion, good_answer, message_event
from slack_harness import StartApp

from bot.slack.deps import Timing
from bot.slack.text import content_hash
from bot.store.api import MessageIn
from bot.store.memory import MemoryStore

PAYMENT = "Hi, my Visa keeps getting declined at checkout for order 112-3456789-1234567. I have money on it!"


async def test_recorded_before_the_ack_and_redrafted_after_a_crash(
    start_app: StartApp, slack_api: FakeSlack, llm_api: respx.MockRouter
) -> None:
    store = MemoryStore()
    never, started = asyncio.Event(), asyncio.Event()

    async def hanging_llm(request: httpx.Request) -> httpx.Response:
        started.set()
        await never.wait()
        raise AssertionError("unreachable")

    llm_api["chat"].mock(side_effect=hanging_llm)
    short = Timing(lease_s=0.3, sweep_interval_s=0.05, shutdown_grace_s=0.05)
    async with start_app(store=store, timing=short) as first:
        status, _ = await first.slack.event(message_event(PAYMENT, ts="1700000300.000100"))
        assert status == 200
        (row,) = store._messages.values()  # in the store when Slack got its 200
        await slack_api.wait_for(started.is_set)
    # the first process is gone mid-draft (its task cancelled at shutdown): the message is still claimable
    assert store._messages[row.id].status == "drafting" and not slack_api.cards()
    llm_api["chat"].mock(return_value=completion(good_answer()))
    async with start_app(store=store, timing=short):
        card = (await slack_api.wait_for(lambda: slack_api.cards(thread_ts="1700000300.000100")))[0]
        assert "Card declined by issuer" in card.block_text
        await slack_api.wait_for(lambda: store._messages[row.id].status == "drafted")
    assert len(store._drafts) == 1


async def test_the_sweeper_drafts_messages_recorded_but_never_started(
    start_app: StartApp, slack_api: FakeSlack
) -> None:
    store = MemoryStore()
    text = "Payment failed: my card was declined twice"
    await store.record_message(MessageIn(event_key="EvOLD", team="T", channel="CPAY", ts="1700000400.000100",
                                         user="UAGENT", text=text, content_hash=content_hash(text)))  # fmt: skip
    async with start_app(store=store):
        await slack_api.wait_for(lambda: slack_api.cards(thread_ts="1700000400.000100"))
        await slack_api.wait_for(lambda: store._messages[1].status == "drafted")
    assert len(slack_api.cards()) == 1
