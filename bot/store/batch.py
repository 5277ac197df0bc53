"""Group commit for `record_message`: the one write that sits between a Slack event and its acknowledgement.

Every commit is a disk flush (SQLite FULL sync, PostgreSQL WAL fsync), a few milliseconds each. When 200 events
arrive at once, writing them one transaction at a time would hold the last acknowledgement for a second;
instead, messages that arrive while a write is in progress are queued and written together in the next
transaction. A lone message is written at once: batching never adds waiting, it only shares flushes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from bot.store.api import Claim, MessageIn, StoredMessage

Recording = tuple[MessageIn, Claim | None]  # a message to record, and the lease to record it with
Recorded = tuple[StoredMessage, bool]
MAX_BATCH = 100  # rows per INSERT: far below SQLite's bound-parameter limit


class GroupCommit:
    """Queues `record` calls and hands them to `write` in batches, one batch in flight at a time."""

    def __init__(self, write: Callable[[list[Recording]], Coroutine[Any, Any, list[Recorded]]]) -> None:
        self._write = write
        self._inflight: asyncio.Task[list[Recorded]] | None = None
        self._queue: list[tuple[Recording, asyncio.Future[Recorded]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, item: Recording) -> Recorded:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain(), name="record-batch")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            write = asyncio.get_running_loop().create_task(self._write([item for item, _ in batch]))
            self._inflight = write  # referenced until done, even if this drain is cancelled
            write.add_done_callback(functools.partial(_settle, [future for _, future in batch]))
            await asyncio.wait([write])  # one batch in flight; its outcome reaches the callers through _settle


def _settle(futures: list[asyncio.Future[Recorded]], write: asyncio.Task[list[Recorded]]) -> None:
    """Each caller gets its row, or the batch's exception (re-raised in the caller), or cancellation."""
    if write.cancelled():
        for future in futures:
            future.cancel()
        return
    error = write.exception()
    for index, future in enumerate(futures):
        if future.done():  # the caller gave up (cancelled); its message is recorded all the same
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(write.result()[index])
