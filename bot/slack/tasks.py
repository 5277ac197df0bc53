"""Background work after Slack has been acknowledged: tracked tasks, short caches, per-key locks.

Everything runs on the one event loop — no thread pool — so 200 drafts waiting on the LLM are 200 cheap
coroutines, bounded only by the LLM client's own concurrency cap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

log = logging.getLogger("payfix.slack")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TaskRunner:
    """Starts background coroutines, keeps them referenced until done, logs their failures, and drains them
    at shutdown so an acknowledged event is finished (or left pending for the sweeper), never half-posted."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._guard(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _guard(coro: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:  # the last line of defence for a background task: log it with its traceback
            log.exception("background task %s failed", name)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout_s: float) -> None:
        """Wait for running work; cancel what is still running after `timeout_s` (the sweeper redoes it)."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=1.0)
            log.warning("shutdown: cancelled %d unfinished task(s)", len(late))


class Ingress:
    """Acks first. Background drafts wait for a short lull in incoming Slack requests before they start,
    so a burst of 200 events is acknowledged before 200 drafts compete with the acks for the event loop.
    The wait is bounded: a steady stream of requests delays a draft by at most `max_wait_s`."""

    def __init__(
        self, *, lull_s: float = 0.005, max_wait_s: float = 0.25, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lull = lull_s
        self._max_wait = max_wait_s
        self._clock = clock
        self._last = float("-inf")

    def arrived(self) -> None:
        """A Slack request is being handled (called by the HTTP front door for every request)."""
        self._last = self._clock()

    async def lull(self) -> None:
        deadline = self._clock() + self._max_wait
        while (now := self._clock()) < deadline and (wait := self._last + self._lull - now) > 0:
            await asyncio.sleep(wait)


class TTLCache(Generic[K, V]):
    """A small time-bounded cache with single flight: 200 drafts for one agent make one users.info call."""

    def __init__(self, ttl_s: float, *, max_size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_s
        self._max = max_size
        self._clock = clock
        self._entries: dict[K, tuple[float, asyncio.Future[V]]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return await asyncio.shield(entry[1])
        if len(self._entries) >= self._max:
            self._evict(now)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._entries[key] = (now + self._ttl, future)
        try:
            value = await load()
        except BaseException as exc:
            self._entries.pop(key, None)
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # marks it retrieved: waiters re-raise it, no "never retrieved" warning
            raise
        future.set_result(value)
        return value

    def _evict(self, now: float) -> None:
        for key in [k for k, (until, _) in self._entries.items() if until <= now] or list(self._entries)[:1]:
            self._entries.pop(key, None)


class KeyedLocks(Generic[K]):
    """One asyncio.Lock per key (a draft id): two clicks on one card are handled one after the other."""

    def __init__(self) -> None:
        self._locks: dict[K, tuple[asyncio.Lock, int]] = {}

    def __call__(self, key: K) -> _Held[K]:
        return _Held(self, key)

    def _acquire_ref(self, key: K) -> asyncio.Lock:
        lock, refs = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, refs + 1)
        return lock

    def _release_ref(self, key: K) -> None:
        lock, refs = self._locks[key]
        if refs <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, refs - 1)


class _Held(Generic[K]):
    def __init__(self, owner: KeyedLocks[K], key: K) -> None:
        self._owner = owner
        self._key = key
        self._lock: asyncio.Lock | None = None

    async def __aenter__(self) -> None:
        self._lock = self._owner._acquire_ref(self._key)
        await self._lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        assert self._lock is not None
        self._lock.release()
        self._owner._release_ref(self._key)
