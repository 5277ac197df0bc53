"""Exactly once across replicas: two stores on two engines (two connection pools, as two `payfix serve`
processes would have) race for the same rows. On PostgreSQL that exercises FOR UPDATE SKIP LOCKED; on SQLite
the BEGIN IMMEDIATE write lock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from store_helpers import Clock, message

from bot.store.api import StoredMessage
from bot.store.engine import make_engine
from bot.store.sql import SqlStore

MESSAGES = 120
CLAIMERS_PER_REPLICA = 4


@pytest.fixture
async def replicas(store: SqlStore, database_url: str, clock: Clock) -> AsyncIterator[tuple[SqlStore, SqlStore]]:
    """The test's store and a second one on its own engine, sharing the database (and the clock)."""
    other = SqlStore(make_engine(database_url), clock=clock)
    yield store, other
    await other.aclose()


async def _drain(store: SqlStore, worker: str, taken: list[tuple[str, StoredMessage]]) -> None:
    while batch := await store.claim_pending(worker=worker, limit=7, lease_s=300):
        taken += [(worker, m) for m in batch]


async def test_concurrent_claim_pending_hands_out_each_message_once(replicas: tuple[SqlStore, SqlStore]) -> None:
    first, second = replicas
    ids = {(await first.record_message(message(f"Ev{i}")))[0].id for i in range(MESSAGES)}
    taken: list[tuple[str, StoredMessage]] = []
    claimers = [_drain(replica, f"r{r}w{w}", taken) for r, replica in enumerate(replicas)
                for w in range(CLAIMERS_PER_REPLICA)]  # fmt: skip
    await asyncio.gather(*claimers)
    claimed = Counter(m.id for _, m in taken)
    assert set(claimed) == ids and set(claimed.values()) == {1}  # everything, nothing twice
    workers = {worker for worker, _ in taken}
    assert len(workers) > 1  # the work was really shared (not one claimer doing it all)
    assert await second.claim_pending(worker="late", limit=10, lease_s=300) == []


async def test_racing_claims_of_one_message_have_one_winner(replicas: tuple[SqlStore, SqlStore]) -> None:
    first, _ = replicas
    rows = [(await first.record_message(message(f"Ev{i}")))[0] for i in range(20)]
    for row in rows:
        attempts = [replica.claim_message(message_id=row.id, worker=f"r{r}w{w}", lease_s=300)
                    for r, replica in enumerate(replicas) for w in range(4)]  # fmt: skip
        winners = [m for m in await asyncio.gather(*attempts) if m is not None]
        assert len(winners) == 1, f"message {row.id}: {len(winners)} winners"


async def test_a_redelivered_event_racing_on_two_replicas_is_recorded_once(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    attempts = [replica.record_message(message("EvSAME")) for replica in replicas for _ in range(6)]
    results = await asyncio.gather(*attempts)
    assert sum(created for _, created in results) == 1
    assert len({row.id for row, _ in results}) == 1


async def test_a_crashed_workers_messages_go_to_another_replica_after_the_lease(
    replicas: tuple[SqlStore, SqlStore], clock: Clock
) -> None:
    first, second = replicas
    for i in range(5):
        await first.record_message(message(f"Ev{i}"))
    crashed = await first.claim_pending(worker="dead", limit=10, lease_s=120)
    assert len(crashed) == 5 and await second.claim_pending(worker="alive", limit=10, lease_s=120) == []
    clock.advance(seconds=119)
    assert await second.claim_pending(worker="alive", limit=10, lease_s=120) == []
    clock.advance(seconds=2)
    rescued = await second.claim_pending(worker="alive", limit=10, lease_s=120)
    assert sorted(m.id for m in rescued) == sorted(m.id for m in crashed)
