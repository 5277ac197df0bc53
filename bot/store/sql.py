"""The durable `Store`: SQLite by default, PostgreSQL in production (PAYFIX_DATABASE_URL).

Why synchronous SQLAlchemy in worker threads rather than an async engine: one code path serves SQLite and
PostgreSQL, Alembic and the CLI commands (stats, purge, migrate) share the same engine and models, and every
query here takes a few milliseconds, so the thread hop (tens of µs) is noise next to Slack and LLM round trips.
The threads are the store's own executor, sized to the connection pool, so database work never queues behind
(or starves) other `asyncio.to_thread` users. On SQLite the executor has one thread: SQLite has one writer.
`record_message`, the write Slack's acknowledgement waits for, is group-committed (bot/store/batch.py).

Exactly-once drafting across replicas: a claim is one UPDATE of the rows picked by a CTE that, on PostgreSQL,
is `SELECT … FOR UPDATE SKIP LOCKED`; the UPDATE sets a lease (owner + expiry), so a crashed worker's
messages become claimable again once the lease expires. On SQLite every transaction starts with BEGIN
IMMEDIATE (the database-wide write lock), which makes the same UPDATE atomic even across processes — but
SQLite serialises all writes: run several replicas on PostgreSQL only. Lease times come from the process
clock; keep replica clocks in sync (NTP) — leases are minutes long, skew is milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, Executable, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from bot.config import Settings
from bot.errors import PayfixError
from bot.models import DraftResult, Usage
from bot.store.api import DECISIONS, OUTCOMES, Claim, FollowUp, MessageIn, StoredDraft, StoredMessage
from bot.store.batch import GroupCommit, Recording
from bot.store.engine import (
    PG_ASYNC_COMMIT,
    POOL_OVERFLOW,
    POOL_SIZE,
    insert_for,
    make_engine,
    sqlite_synchronous,
    unreachable,
)
from bot.store.safety import SensitiveDataError, has_card_number
from bot.store.schema import DecisionRow, DraftRow, FollowUpRow, MessageRow, OutcomeRow

T = TypeVar("T")
Clock = Callable[[], datetime]
_MESSAGES = cast(Table, MessageRow.__table__)
_STATUS_AFTER = {"approved": "approved", "edited": "approved", "rejected": "rejected",
                 "regenerated": "superseded", "superseded": "superseded"}  # fmt: skip
_TERMINAL = ("drafted", "skipped", "failed")
_DRAFTS = cast(Table, DraftRow.__table__)
# The statements every draft runs, built once: on the hot path an ORM session's set-up, unit of work and a
# statement's construction cost more than SQLite executing it (~1.5 ms of CPU a draft, measured).
_DONE: dict[str, Any] = dict(  # a terminal status: the lease is over
    status=bindparam("new_status"), lease_owner=None, lease_expires_at=None, updated_at=bindparam("now"))
_MARK = update(_MESSAGES).where(_MESSAGES.c.id == bindparam("message_id")).values(**_DONE)
_MARK_BY_DRAFT = update(_MESSAGES).where(
    _MESSAGES.c.id == select(_DRAFTS.c.message_id).where(_DRAFTS.c.id == bindparam("draft_id")).scalar_subquery()
).values(**_DONE)
_POSTED = update(_DRAFTS).where(_DRAFTS.c.id == bindparam("draft_id")).values(
    posted_channel=bindparam("channel"), posted_ts=bindparam("ts"))
_LATEST_VERSION = select(func.max(_DRAFTS.c.version)).where(_DRAFTS.c.message_id == bindparam("message_id"))
_NEW_DRAFT = insert(_DRAFTS).returning(_DRAFTS.c.id)
_SET_LANGUAGE = update(_MESSAGES).where(_MESSAGES.c.id == bindparam("message_id")).values(
    language=bindparam("language"))
_DUPLICATE = (
    select(*_DRAFTS.c).join(_MESSAGES, _DRAFTS.c.message_id == _MESSAGES.c.id)
    .where(_MESSAGES.c.channel == bindparam("channel"), _MESSAGES.c.content_hash == bindparam("content_hash"),
           _MESSAGES.c.id != bindparam("exclude_id"), _MESSAGES.c.received_at >= bindparam("since"),
           _DRAFTS.c.posted_ts.is_not(None))
    .order_by(_DRAFTS.c.id.desc()).limit(1)
)  # fmt: skip


@contextlib.contextmanager
def _store_errors() -> Iterator[None]:
    """Database errors as the store's own: a card number refused by the safety net, or an outage."""
    try:
        yield
    except StatementError as exc:
        if isinstance(exc.orig, SensitiveDataError):
            raise SensitiveDataError() from None  # never chain: the wrapped error names the statement
        if isinstance(exc, OperationalError | InterfaceError):
            raise StoreUnavailable() from exc
        raise


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoreUnavailable(PayfixError):
    """The database could not be reached; the caller retries later (the sweeper does, every few seconds)."""

    code = "store_unavailable"

    def __init__(self) -> None:
        super().__init__("The database is unavailable; payfix will retry.", "数据库暂时不可用；payfix 会重试。")


def open_store(settings: Settings) -> SqlStore:
    """Connect, bring the schema to the newest revision (serialised across replicas), return the store.
    An unreachable database fails here, at start-up, with the URL (password hidden) and the reason."""
    from bot.store.migrations import upgrade

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        raise unreachable(engine, exc) from None
    return SqlStore(engine)


class SqlStore:
    """Implements `bot.store.api.Store` on SQLAlchemy. `clock` is injectable so tests can expire leases."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._pg = engine.dialect.name == "postgresql"
        self._sqlite = engine.dialect.name == "sqlite"
        workers = 1 if engine.dialect.name == "sqlite" else POOL_SIZE + POOL_OVERFLOW
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="payfix-db")
        # The ack's write has a thread of its own: a burst's record batches must not queue behind the
        # drafts' writes in one FIFO (on SQLite they still take turns on the database lock, a write each).
        # An in-memory SQLite database is one shared connection: it keeps to one thread.
        shared = isinstance(engine.pool, StaticPool)
        self._ack_executor = self._executor if shared else ThreadPoolExecutor(1, thread_name_prefix="payfix-db-ack")
        self._batch = GroupCommit(self._record_many)

    # -- plumbing -----------------------------------------------------------------------------------
    async def run(self, work: Callable[[Session], T], *, durable: bool = False) -> T:
        """Run `work(session)` as one transaction on the store's threads (analytics and maintenance use it)."""
        call = functools.partial(self.run_sync, work, durable=durable)
        executor = self._ack_executor if durable else self._executor
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    def run_sync(self, work: Callable[[Session], T], *, durable: bool = False) -> T:
        """One transaction. Only `durable` ones wait for the disk at commit: that is the write Slack's ack
        waits for (`record_message`), which must survive a power cut. Everything after it (claims, drafts,
        decisions) commits without the flush — still safe against a crash of payfix itself; after a power
        cut the last such commits may be undone, and the sweeper drafts those messages again. On a burst of
        200 events this takes ~800 disk flushes (3 ms each on SQLite) off the path to the drafts."""
        with (
            _store_errors(),
            self._connection(durable=durable) as connection,
            Session(bind=connection, expire_on_commit=False) as session,
            session.begin(),
        ):
            if self._pg and not durable:
                session.execute(PG_ASYNC_COMMIT)
            return work(session)

    async def run_core(self, statement: Executable, params: dict[str, Any]) -> None:
        """One prebuilt statement in its own (unflushed) transaction (see `run_connection`)."""
        await self.run_connection(lambda connection: connection.execute(statement, params))

    async def run_connection(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` as one unflushed transaction on a plain connection: the hot path's statements
        skip an ORM session's set-up, which costs more than the statements themselves."""

        def transaction() -> T:
            with _store_errors(), self._connection(durable=False) as connection, connection.begin():
                if self._pg:
                    connection.execute(PG_ASYNC_COMMIT)
                return work(connection)

        return await asyncio.get_running_loop().run_in_executor(self._executor, transaction)

    @contextlib.contextmanager
    def _connection(self, *, durable: bool) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            if self._sqlite:
                sqlite_synchronous(connection, "FULL" if durable else "NORMAL")
            yield connection

    def close(self) -> None:
        """Finish queued work, then close every connection."""
        if self._ack_executor is not self._executor:
            self._ack_executor.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        self.engine.dispose()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    # -- messages -----------------------------------------------------------------------------------
    async def record_message(
        self, message: MessageIn, *, claim: Claim | None = None
    ) -> tuple[StoredMessage, bool]:
        """Group-committed with the messages arriving at the same moment (bot/store/batch.py). A card number
        is refused here, before the batch, so one bad message cannot fail the others."""
        if has_card_number(message.text):
            raise SensitiveDataError()
        return await self._batch.record((message, claim))

    async def _record_many(self, batch: list[Recording]) -> list[tuple[StoredMessage, bool]]:
        return await self.run(lambda s: self._insert_messages(s, batch), durable=True)

    def _insert_messages(self, s: Session, batch: list[Recording]) -> list[tuple[StoredMessage, bool]]:
        """One INSERT … ON CONFLICT (event_key) DO NOTHING RETURNING for the batch; a redelivered event (already
        stored, or twice in this batch) gets the first row back with created=False. A claimed message is
        written already leased to its worker."""
        now = self.clock()
        values = [dict(
            event_key=m.event_key, team=m.team, channel=m.channel, ts=m.ts, user_id=m.user, text=m.text,
            content_hash=m.content_hash, platform=m.platform, agent_language=m.agent_language, force=m.force,
            received_at=now, status="pending" if claim is None else "drafting", updated_at=now,
            lease_owner=None if claim is None else claim.worker,
            lease_expires_at=None if claim is None else now + timedelta(seconds=claim.lease_s),
        ) for m, claim in batch]  # fmt: skip
        messages = [m for m, _ in batch]
        stmt = insert_for(s, _MESSAGES).on_conflict_do_nothing(index_elements=["event_key"]).returning(*_MESSAGES.c)
        created = {row.event_key: _message(row) for row in s.execute(stmt, values)}  # "insertmanyvalues" batches
        missing = {m.event_key for m in messages} - set(created)
        known = {row.event_key: _message(row) for row in s.scalars(
            select(MessageRow).where(MessageRow.event_key.in_(missing)))} if missing else {}  # fmt: skip
        first = self._first_copies(s, messages)
        results, handed_out = [], set()
        for m in messages:
            fresh = m.event_key in created and m.event_key not in handed_out
            handed_out.add(m.event_key)
            row = created.get(m.event_key) or known[m.event_key]
            if fresh:
                row = replace(row, maybe_duplicate=first.get((row.channel, row.content_hash), row.id) < row.id)
            results.append((row, fresh))
        return results

    @staticmethod
    def _first_copies(s: Session, messages: list[MessageIn]) -> dict[tuple[str, str], int]:
        """The oldest message id of each (channel, text) in the batch: in the ack's write, one indexed query
        per batch spares every draft without an earlier copy its duplicate lookup."""
        m = _MESSAGES.c
        stmt = (
            select(m.channel, m.content_hash, func.min(m.id))
            .where(m.channel.in_({x.channel for x in messages}), m.content_hash.in_({x.content_hash for x in messages}))
            .group_by(m.channel, m.content_hash)
        )  # fmt: skip
        return {(channel, content_hash): first for channel, content_hash, first in s.execute(stmt)}

    async def find_recent_duplicate(
        self, *, channel: str, content_hash: str, within_s: int, exclude_id: int
    ) -> StoredDraft | None:
        params = dict(channel=channel, content_hash=content_hash, exclude_id=exclude_id,
                      since=self.clock() - timedelta(seconds=within_s))  # fmt: skip
        row = await self.run_connection(lambda connection: connection.execute(_DUPLICATE, params).first())
        return None if row is None else _draft(row)

    async def claim_pending(self, *, worker: str, limit: int, lease_s: float) -> list[StoredMessage]:
        return await self.run(lambda s: self._claim(s, worker=worker, lease_s=lease_s, limit=limit))

    async def claim_message(self, *, message_id: int, worker: str, lease_s: float) -> StoredMessage | None:
        claimed = await self.run(lambda s: self._claim(s, worker=worker, lease_s=lease_s, limit=1, only=message_id))
        return claimed[0] if claimed else None

    def _claim(self, s: Session, *, worker: str, lease_s: float, limit: int, only: int | None = None
               ) -> list[StoredMessage]:  # fmt: skip
        """Pending rows, and drafting rows whose lease expired (or, for one message, that `worker` holds)."""
        now = self.clock()
        m = _MESSAGES.c
        lease_over = or_(m.lease_expires_at.is_(None), m.lease_expires_at <= now)
        held = or_(lease_over, m.lease_owner == worker) if only is not None else lease_over
        pick = select(m.id).where(or_(m.status == "pending", and_(m.status == "drafting", held)))
        if only is not None:
            pick = pick.where(m.id == only)
        pick = pick.order_by(m.id).limit(limit)
        if self._pg:
            pick = pick.with_for_update(skip_locked=True)
        chosen = pick.cte("claimable")
        stmt = (
            update(_MESSAGES).where(m.id.in_(select(chosen.c.id)))
            .values(status="drafting", lease_owner=worker, lease_expires_at=now + timedelta(seconds=lease_s),
                    updated_at=now)
            .returning(*_MESSAGES.c)
        )  # fmt: skip
        return sorted((_message(row) for row in s.execute(stmt)), key=lambda row: row.id)

    async def mark_message(self, *, message_id: int, status: str) -> None:
        if status not in _TERMINAL:
            raise ValueError(f"not a terminal message status: {status!r}")

        await self.run_core(_MARK, {"message_id": message_id, "new_status": status, "now": self.clock()})

    async def get_message(self, message_id: int) -> StoredMessage | None:
        def work(s: Session) -> StoredMessage | None:
            row = s.get(MessageRow, message_id)
            return None if row is None else _message(row)

        return await self.run(work)

    # -- drafts and decisions -----------------------------------------------------------------------
    async def save_draft(self, *, message_id: int, result: DraftResult) -> StoredDraft:
        def work(connection: Connection) -> StoredDraft:
            version = (connection.execute(_LATEST_VERSION, {"message_id": message_id}).scalar() or 0) + 1
            values = _draft_values(message_id, version, result, self.clock())
            draft_id = connection.execute(_NEW_DRAFT, values).scalar_one()
            connection.execute(_SET_LANGUAGE, {"message_id": message_id, "language": result.language})
            return StoredDraft(
                id=draft_id, message_id=message_id, version=version, result=result, posted_channel=None,
                posted_ts=None, status="open", decided_by=None, final_text=None, created_at=values["created_at"],
            )  # fmt: skip

        for _ in range(2):  # two replicas regenerating one message at once: the loser takes the next version
            try:
                return await self.run_connection(work)
            except IntegrityError:
                continue
        return await self.run_connection(work)

    async def set_posted(self, *, draft_id: int, channel: str, ts: str, mark: str | None = None) -> None:
        if mark is not None and mark not in _TERMINAL:
            raise ValueError(f"not a terminal message status: {mark!r}")

        def work(connection: Connection) -> None:
            connection.execute(_POSTED, {"draft_id": draft_id, "channel": channel, "ts": ts})
            if mark is not None:
                connection.execute(_MARK_BY_DRAFT, {"draft_id": draft_id, "new_status": mark, "now": self.clock()})

        await self.run_connection(work)

    async def get_draft(self, draft_id: int) -> StoredDraft | None:
        def work(s: Session) -> StoredDraft | None:
            row = s.get(DraftRow, draft_id)
            return None if row is None else _draft(row)

        return await self.run(work)

    async def get_draft_by_post(self, *, channel: str, ts: str) -> StoredDraft | None:
        def work(s: Session) -> StoredDraft | None:
            stmt = select(DraftRow).where(DraftRow.posted_channel == channel, DraftRow.posted_ts == ts)
            row = s.scalars(stmt.order_by(DraftRow.id.desc()).limit(1)).first()
            return None if row is None else _draft(row)

        return await self.run(work)

    async def record_decision(
        self, *, draft_id: int, decision: str, user: str, edited_text: str | None = None
    ) -> StoredDraft:
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}")
        return await self.run(lambda s: self._decide(s, draft_id, decision, user, edited_text))

    def _decide(self, s: Session, draft_id: int, decision: str, user: str, edited_text: str | None) -> StoredDraft:
        """First decision of each kind wins (a ✅ and a button click record one approval)."""
        row = s.get(DraftRow, draft_id, with_for_update=self._pg)
        if row is None:
            raise LookupError(f"no draft {draft_id}")
        now = self.clock()
        values = dict(draft_id=draft_id, decision=decision, user_id=user, edited_text=edited_text, decided_at=now)
        insert = insert_for(s, DecisionRow.__table__).values(**values)
        inserted = s.execute(insert.on_conflict_do_nothing(index_elements=["draft_id", "decision"]).returning(
            DecisionRow.id)).first()  # fmt: skip
        if inserted is not None:  # RETURNING, not rowcount: drivers disagree on rowcount after ON CONFLICT
            final = edited_text if decision == "edited" else row.result["reply"] if decision == "approved" else None
            row.status, row.decided_by, row.decided_at, row.final_text = _STATUS_AFTER[decision], user, now, final
            s.flush()
        return _draft(row)

    # -- follow-ups and outcomes --------------------------------------------------------------------
    async def add_follow_up(self, *, draft_id: int, channel: str, thread_ts: str, scheduled_message_id: str | None,
                            post_at: datetime, agent: str) -> FollowUp:  # fmt: skip
        def work(s: Session) -> FollowUp:
            row = FollowUpRow(
                draft_id=draft_id, channel=channel, thread_ts=thread_ts, scheduled_message_id=scheduled_message_id,
                post_at=post_at, agent=agent, status="scheduled", created_at=self.clock(),
            )  # fmt: skip
            s.add(row)
            s.flush()
            return _follow_up(row)

        return await self.run(work)

    async def open_follow_ups(self, *, draft_id: int | None = None, agent: str | None = None) -> list[FollowUp]:
        def work(s: Session) -> list[FollowUp]:
            stmt = select(FollowUpRow).where(FollowUpRow.status == "scheduled")
            if draft_id is not None:
                stmt = stmt.where(FollowUpRow.draft_id == draft_id)
            if agent is not None:
                stmt = stmt.where(FollowUpRow.agent == agent)
            return [_follow_up(r) for r in s.scalars(stmt.order_by(FollowUpRow.post_at, FollowUpRow.id))]

        return await self.run(work)

    async def cancel_follow_up(self, follow_up_id: int) -> None:
        def work(s: Session) -> None:
            s.execute(
                update(FollowUpRow).where(FollowUpRow.id == follow_up_id, FollowUpRow.status == "scheduled")
                .values(status="cancelled", closed_at=self.clock())
            )  # fmt: skip

        await self.run(work)

    async def record_outcome(self, *, draft_id: int, outcome: str, user: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")

        def work(s: Session) -> None:
            values = dict(draft_id=draft_id, outcome=outcome, user_id=user, recorded_at=self.clock())
            stmt = insert_for(s, OutcomeRow.__table__).values(**values)
            s.execute(stmt.on_conflict_do_nothing(index_elements=["draft_id"]))

        await self.run(work)

    async def outcome_of(self, draft_id: int) -> str | None:
        """The recorded outcome of a draft's case, if any (SQL-only helper for the App Home and tests)."""
        return await self.run(lambda s: s.scalar(select(OutcomeRow.outcome).where(OutcomeRow.draft_id == draft_id)))


# -- rows ⇄ the API's dataclasses -----------------------------------------------------------------------
def _message(row: Any) -> StoredMessage:
    return StoredMessage(
        id=row.id, event_key=row.event_key, team=row.team, channel=row.channel, ts=row.ts, user=row.user_id,
        text=row.text, content_hash=row.content_hash, platform=row.platform, agent_language=row.agent_language,
        force=bool(row.force), received_at=row.received_at, status=row.status,
    )  # fmt: skip


def _draft_values(message_id: int, version: int, result: DraftResult, now: datetime) -> dict[str, Any]:
    usage = result.usage
    return dict(
        message_id=message_id, version=version, diagnosis=result.diagnosis, source=result.source, model=result.model,
        language=result.language, platform=result.platform, confidence=result.confidence,
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens, latency_ms=usage.latency_ms, guard_flags=list(result.guard_flags),
        result=result.to_dict(), status="open", created_at=now, posted_channel=None, posted_ts=None,
        decided_by=None, decided_at=None, final_text=None,
    )  # fmt: skip


def _draft(row: Any) -> StoredDraft:
    return StoredDraft(
        id=row.id, message_id=row.message_id, version=row.version, result=draft_result(row.result),
        posted_channel=row.posted_channel, posted_ts=row.posted_ts, status=row.status, decided_by=row.decided_by,
        final_text=row.final_text, created_at=row.created_at,
    )  # fmt: skip


def draft_result(data: dict[str, Any]) -> DraftResult:
    """A stored DraftResult back as the dataclass; fields added to it later get their defaults."""
    known = {f.name for f in fields(DraftResult)}
    values = {k: v for k, v in data.items() if k in known}
    values["usage"] = Usage(**{k: v for k, v in (data.get("usage") or {}).items() if k in _USAGE_FIELDS})
    return DraftResult(**values)


_USAGE_FIELDS = frozenset(f.name for f in fields(Usage))


def _follow_up(row: FollowUpRow) -> FollowUp:
    return FollowUp(
        id=row.id, draft_id=row.draft_id, channel=row.channel, thread_ts=row.thread_ts,
        scheduled_message_id=row.scheduled_message_id, post_at=row.post_at, agent=row.agent, status=row.status,
    )  # fmt: skip
