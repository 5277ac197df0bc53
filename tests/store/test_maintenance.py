"""Retention purge (old rows only, children included), periodic jobs once across replicas, and the
`payfix purge` / `payfix migrate` commands."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from store_helpers import Clock, draft_result, message

from bot.cli import main
from bot.config import Settings
from bot.store.maintenance import Purged, purge_now, retention_loop, run_once_across_replicas
from bot.store.migrations import head_revision
from bot.store.schema import DecisionRow, DraftRow, FollowUpRow, JobRunRow, MessageRow, OutcomeRow
from bot.store.sql import SqlStore

TABLES = (MessageRow, DraftRow, DecisionRow, FollowUpRow, OutcomeRow)


async def full_case(store: SqlStore, clock: Clock, key: str, at: datetime) -> None:
    """A message with everything that can hang off it."""
    clock.set(at)
    row, _ = await store.record_message(message(key))
    draft = await store.save_draft(message_id=row.id, result=draft_result(diagnosis="insufficient_funds"))
    await store.record_decision(draft_id=draft.id, decision="approved", user="U1")
    await store.add_follow_up(draft_id=draft.id, channel="C1", thread_ts=row.ts, scheduled_message_id="Q1",
                              post_at=at + timedelta(hours=24), agent="U1")  # fmt: skip
    await store.record_outcome(draft_id=draft.id, outcome="paid", user="U1")


async def counts(store: SqlStore) -> list[int]:
    return await store.run(lambda s: [int(s.scalar(select(func.count()).select_from(t)) or 0) for t in TABLES])


async def test_purge_removes_old_rows_only(store: SqlStore, clock: Clock) -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    await full_case(store, clock, "old", now - timedelta(days=31))
    await full_case(store, clock, "edge", now - timedelta(days=29, hours=23))  # just inside the window
    await full_case(store, clock, "new", now - timedelta(days=1))
    clock.set(now)
    assert await counts(store) == [3, 3, 3, 3, 3]
    settings = replace(Settings.from_env({}), retention_days=30)
    assert await purge_now(store, settings) == Purged(1, 1, 1, 1, 1)
    assert await counts(store) == [2, 2, 2, 2, 2]
    keys = await store.run(lambda s: sorted(s.scalars(select(MessageRow.event_key)).all()))
    assert keys == ["edge", "new"]
    assert await purge_now(store, settings) == Purged(0, 0, 0, 0, 0)


async def test_periodic_jobs_run_once_across_replicas(store: SqlStore, clock: Clock) -> None:
    runs: list[str] = []
    release = asyncio.Event()

    async def job(worker: str) -> str:
        runs.append(worker)
        await release.wait()
        return worker

    def attempt(worker: str) -> asyncio.Task[str | None]:
        return asyncio.create_task(run_once_across_replicas(
            store, name="daily", every=timedelta(days=1), worker=worker, job=lambda: job(worker)))  # fmt: skip

    first = attempt("a")
    while not runs:
        await asyncio.sleep(0.005)
    assert await attempt("b") is None  # a holds the job
    release.set()
    assert await first == "a"
    assert await attempt("b") is None  # done for today
    clock.advance(hours=24, seconds=1)
    assert await attempt("b") == "b" and runs == ["a", "b"]


async def test_a_job_abandoned_by_a_crashed_replica_is_taken_over_after_its_lease(
    store: SqlStore, clock: Clock
) -> None:
    hang = asyncio.Event().wait
    crashed = asyncio.create_task(
        run_once_across_replicas(store, name="daily", every=timedelta(days=1), worker="dead", lease_s=600, job=hang)
    )
    await _until(lambda: store.run(lambda s: s.scalar(select(JobRunRow.lease_owner)) == "dead"))
    crashed.cancel()  # the process died mid-job: no finish, the lease stays
    await asyncio.gather(crashed, return_exceptions=True)

    async def done() -> str:
        return "done"

    assert await run_once_across_replicas(store, name="daily", every=timedelta(days=1), worker="b", job=done) is None
    clock.advance(seconds=601)
    assert await run_once_across_replicas(store, name="daily", every=timedelta(days=1), worker="b", job=done) == "done"


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait for a condition (polled every 5 ms, up to 5 s)."""
    for _ in range(1000):
        if await check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met")


async def test_the_retention_loop_purges_at_start_and_then_daily(store: SqlStore, clock: Clock) -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    await full_case(store, clock, "old", now - timedelta(days=400))
    clock.set(now)
    loop = asyncio.create_task(retention_loop(store, Settings.from_env({}), check_every_s=0.01, worker="w"))
    try:
        await _until(lambda: _purged(store))  # the first check runs at once
        await _until(lambda: store.run(lambda s: s.scalar(select(JobRunRow.last_run_at)) == now))
        await full_case(store, clock, "old2", now - timedelta(days=400))
        clock.set(now + timedelta(hours=1))
        await asyncio.sleep(0.1)  # ten more checks: the purge is not due again within the day
        assert (await counts(store))[0] == 1
        clock.set(now + timedelta(days=1, seconds=1))
        await _until(lambda: _purged(store))
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def _purged(store: SqlStore) -> bool:
    return (await counts(store))[0] == 0


def test_payfix_purge_and_migrate(database_url: str, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("PAYFIX_DATABASE_URL", database_url)
    assert main(["migrate"]) == 0
    assert f"migrated empty database → {head_revision()}" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert f"already at revision {head_revision()}" in capsys.readouterr().out
    monkeypatch.setenv("PAYFIX_RETENTION_DAYS", "30")
    assert main(["purge"]) == 0
    assert capsys.readouterr().out.strip() == (
        "purged rows older than 30 days: buyer_messages 0, drafts 0, decisions 0, follow_ups 0, outcomes 0"
    )


def test_an_unreachable_database_is_a_clear_start_up_error(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("PAYFIX_DATABASE_URL", "postgresql://payfix:s3cret-pw@127.0.0.1:1/payfix")
    for command in ("migrate", "purge", "stats"):
        assert main([command]) == 3
        err = capsys.readouterr().err
        assert "Cannot use the database postgresql+psycopg://payfix:***@127.0.0.1:1/payfix" in err
        assert "s3cret" not in err and "Traceback" not in err
