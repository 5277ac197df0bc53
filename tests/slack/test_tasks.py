"""Background machinery: tracked tasks, single-flight caches, per-draft locks, acks-first scheduling."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.slack.tasks import Ingress, KeyedLocks, TaskRunner, TTLCache


async def test_task_runner_logs_failures_and_drains_or_cancels(caplog: pytest.LogCaptureFixture) -> None:
    runner = TaskRunner()
    release = asyncio.Event()

    async def boom() -> None:
        raise RuntimeError("secret-token-xyz")

    async def slow() -> None:
        await release.wait()

    async def forever() -> None:
        await asyncio.Event().wait()

    with caplog.at_level(logging.ERROR, logger="payfix.slack"):
        await runner.spawn(boom(), name="boom")
    assert "background task boom failed" in caplog.text
    finishing = runner.spawn(slow(), name="slow")
    stuck = runner.spawn(forever(), name="stuck")
    asyncio.get_running_loop().call_later(0.01, release.set)
    await runner.drain(0.2)
    assert finishing.done() and not finishing.cancelled() and stuck.cancelled() and runner.pending == 0


async def test_ttl_cache_is_single_flight_and_forgets_failures() -> None:
    calls = 0
    gate = asyncio.Event()

    async def load() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return "zh-CN"

    cache: TTLCache[str, str] = TTLCache(60)
    waiting = [asyncio.ensure_future(cache.get("U1", load)) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    assert set(await asyncio.gather(*waiting)) == {"zh-CN"} and calls == 1

    async def fail() -> str:
        raise LookupError("nope")

    with pytest.raises(LookupError):
        await cache.get("U2", fail)
    assert await cache.get("U2", load) == "zh-CN" and calls == 2  # the failure was not cached


async def test_ttl_cache_expires() -> None:
    now = [0.0]
    cache: TTLCache[str, int] = TTLCache(10, clock=lambda: now[0])
    values = iter(range(100))

    async def load() -> int:
        return next(values)

    assert await cache.get("k", load) == 0 and await cache.get("k", load) == 0
    now[0] = 11
    assert await cache.get("k", load) == 1


async def test_keyed_locks_serialise_one_key_only() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    order: list[str] = []

    async def hold(key: str, tag: str) -> None:
        async with locks(key):
            order.append(f"{tag}+")
            await asyncio.sleep(0.01)
            order.append(f"{tag}-")

    await asyncio.gather(hold("a", "1"), hold("a", "2"), hold("b", "3"))
    assert order.index("1-") < order.index("2+")  # same key: one after the other
    assert order.index("3+") < order.index("1-")  # other key: not blocked
    assert locks._locks == {}  # nothing kept once released


async def test_ingress_lull_waits_for_a_quiet_moment_but_not_forever() -> None:
    """On a clock the test moves: no timing assumptions about a loaded machine."""
    now = [100.0]
    ingress = Ingress(lull_s=0.02, max_wait_s=0.2, clock=lambda: now[0])
    await asyncio.wait_for(ingress.lull(), 1)  # nothing arrived: no wait at all

    ingress.arrived()

    async def quiet_moment() -> None:
        await asyncio.sleep(0)
        now[0] += 0.03  # time passes, nothing arrives

    mover = asyncio.ensure_future(quiet_moment())
    await asyncio.wait_for(ingress.lull(), 1)
    assert now[0] == 100.03 and mover.done()  # it waited for the quiet moment, and no longer

    started = now[0]

    async def steady_stream() -> None:
        for _ in range(100):  # a request every 10 ms, for a second
            now[0] += 0.01
            ingress.arrived()
            await asyncio.sleep(0.001)

    stream = asyncio.ensure_future(steady_stream())
    await asyncio.sleep(0)
    await asyncio.wait_for(ingress.lull(), 5)
    assert 0.2 <= now[0] - started < 1.0 and not stream.done()  # bounded by max_wait_s, while requests go on
    stream.cancel()
