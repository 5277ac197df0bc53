"""Nothing acknowledged is lost, nothing is drafted twice — with `payfix serve` as a real process.

* Crash: messages are acknowledged, their drafts are in flight (the LLM is held back), the process gets SIGKILL;
  a new process drafts every one of them, exactly once.
* Two replicas on one PostgreSQL database, every event delivered to both: one draft per message.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
from serve_harness import FakeOpenAI, FakeSlack, Serve, SignedClient, message_event, serve_env, wait_for
from sqlalchemy import func, select

from bot.store.engine import make_engine
from bot.store.schema import DraftRow, MessageRow

N = 6


def texts(tag: str) -> list[tuple[str, str]]:
    """(ts, text): distinct payment messages (the same text twice would be linked, not drafted)."""
    return [(f"17000{i:05d}.000100", f"My Visa card keeps getting declined at checkout ({tag} order {i}), please help")
            for i in range(N)]  # fmt: skip


def statuses(database_url: str) -> Counter[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return Counter(connection.scalars(select(MessageRow.status)).all())
    finally:
        engine.dispose()


def draft_count(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(DraftRow)) or 0)
    finally:
        engine.dispose()


async def test_drafts_survive_a_sigkill_between_the_ack_and_the_post(
    database_url: str, fake_slack: FakeSlack, fake_openai: FakeOpenAI, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    env = serve_env(slack=fake_slack, openai=fake_openai, database_url=database_url)
    signed = SignedClient(http)
    fake_openai.gate.clear()  # every LLM call hangs: drafts stay in flight
    first = Serve(env, tmp_path / "first.log")
    await first.start(http)
    try:
        messages = texts("crash")
        acks = await asyncio.gather(*(signed.event(first.events_url, message_event(text, ts=ts), event_id=f"EvC{i}")
                                      for i, (ts, text) in enumerate(messages)))  # fmt: skip
        assert acks == [200] * N  # Slack has been told: these messages are ours now
        await wait_for(lambda: fake_openai.requests >= N, timeout=30, what="every draft waiting on the LLM")
        first.kill()
    finally:
        first.stop()
    assert fake_slack.cards() == []  # killed before any draft was posted
    assert statuses(database_url) == {"drafting": N}  # recorded before the ack, leased by the dead process

    fake_openai.gate.set()
    second = Serve(env, tmp_path / "second.log")
    await second.start(http)
    try:
        await wait_for(lambda: statuses(database_url) == {"drafted": N}, timeout=90,
                       what=f"{N} messages drafted after the restart")  # fmt: skip
    finally:
        second.stop()
    threads = Counter(str(card.args["thread_ts"]) for card in fake_slack.cards())
    assert threads == {ts: 1 for ts, _ in messages}  # every draft, exactly once, in its own thread
    assert draft_count(database_url) == N


async def test_two_replicas_given_the_same_events_draft_each_message_once(
    pg_url_for_replicas: str, fake_slack: FakeSlack, fake_openai: FakeOpenAI, http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:  # fmt: skip
    env = serve_env(slack=fake_slack, openai=fake_openai, database_url=pg_url_for_replicas,
                    PAYFIX_CLAIM_LEASE_SECONDS="")  # default lease: longer than any draft here  # fmt: skip
    replicas = [Serve(env, tmp_path / f"replica{r}.log") for r in range(2)]
    signed = SignedClient(http)
    try:
        await asyncio.gather(*(replica.start(http) for replica in replicas))
        messages = texts("replica")
        deliveries = [signed.event(replica.events_url, message_event(text, ts=ts), event_id=f"EvR{i}")
                      for i, (ts, text) in enumerate(messages) for replica in replicas]  # fmt: skip
        assert await asyncio.gather(*deliveries) == [200] * (2 * N)
        await wait_for(lambda: statuses(pg_url_for_replicas) == {"drafted": N}, timeout=60,
                       what=f"{N} messages drafted")  # fmt: skip
        await wait_for(lambda: len(fake_slack.cards()) >= N, timeout=10, what="the cards")
    finally:
        for replica in replicas:
            replica.stop()
    threads = Counter(str(card.args["thread_ts"]) for card in fake_slack.cards())
    assert threads == {ts: 1 for ts, _ in messages}
    assert fake_openai.requests == N  # one LLM call per message, not per delivery
    assert draft_count(pg_url_for_replicas) == N
