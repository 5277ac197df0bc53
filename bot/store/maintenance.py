"""Keeping the database tidy: `payfix migrate`, `payfix purge`, and the daily purge inside `payfix serve`.

Periodic jobs run once across replicas: each job has a row in `job_runs`; a replica takes the job with one
conditional UPDATE (due, and nobody's lease running), does it, then stamps `last_run_at`. A replica that dies
mid-job leaves a lease that expires, and another one redoes the job.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.errors import PayfixError
from bot.store.engine import insert_for, make_engine, unreachable
from bot.store.migrations import head_revision, upgrade
from bot.store.schema import DecisionRow, DraftRow, FollowUpRow, JobRunRow, MessageRow, OutcomeRow
from bot.store.sql import SqlStore, open_store

log = logging.getLogger("payfix.store")
T = TypeVar("T")
PURGE_JOB = "retention_purge"
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Purged:
    """How many rows of each table a purge deleted."""

    buyer_messages: int
    drafts: int
    decisions: int
    follow_ups: int
    outcomes: int


def purge_rows(session: Session, cutoff: datetime) -> Purged:
    """Delete every buyer message received before `cutoff` and everything hanging off it. Children first, so
    the purge does not depend on foreign-key cascades being enabled (SQLite leaves them off by default)."""
    old = select(MessageRow.id).where(MessageRow.received_at < cutoff)
    old_drafts = select(DraftRow.id).where(DraftRow.message_id.in_(old))

    def gone(statement: Any) -> int:
        return cast(CursorResult[Any], session.execute(statement)).rowcount

    outcomes = gone(delete(OutcomeRow).where(OutcomeRow.draft_id.in_(old_drafts)))
    follow_ups = gone(delete(FollowUpRow).where(FollowUpRow.draft_id.in_(old_drafts)))
    decisions = gone(delete(DecisionRow).where(DecisionRow.draft_id.in_(old_drafts)))
    drafts = gone(delete(DraftRow).where(DraftRow.message_id.in_(old)))
    messages = gone(delete(MessageRow).where(MessageRow.received_at < cutoff))
    return Purged(messages, drafts, decisions, follow_ups, outcomes)


def take_job(session: Session, *, name: str, due_before: datetime, worker: str, now: datetime, lease_s: float) -> bool:
    """True if `worker` now holds job `name`: it last ran before `due_before` and nobody else is running it."""
    session.execute(insert_for(session, JobRunRow.__table__).values(name=name).on_conflict_do_nothing())
    job = JobRunRow
    taken = session.execute(
        update(job).where(job.name == name, or_(job.last_run_at.is_(None), job.last_run_at < due_before),
                          or_(job.lease_expires_at.is_(None), job.lease_expires_at <= now))
        .values(lease_owner=worker, lease_expires_at=now + timedelta(seconds=lease_s))
    )  # fmt: skip
    return cast(CursorResult[Any], taken).rowcount == 1


def finish_job(session: Session, *, name: str, worker: str, now: datetime) -> None:
    session.execute(
        update(JobRunRow).where(JobRunRow.name == name, JobRunRow.lease_owner == worker)
        .values(last_run_at=now, lease_owner=None, lease_expires_at=None)
    )  # fmt: skip


async def run_once_across_replicas(
    store: SqlStore, *, name: str, every: timedelta, worker: str, job: Callable[[], Awaitable[T]],
    lease_s: float = 600.0, due_before: datetime | None = None,
) -> T | None:  # fmt: skip
    """Run `job` if it is due (last run older than `every`, or before `due_before`) and no replica runs it."""
    now = store.clock()
    due = due_before or now - every
    if not await store.run(lambda s: take_job(s, name=name, due_before=due, worker=worker, now=now, lease_s=lease_s)):
        return None
    result = await job()
    await store.run(lambda s: finish_job(s, name=name, worker=worker, now=store.clock()))
    return result


async def purge_now(store: SqlStore, settings: Settings) -> Purged:
    cutoff = store.clock() - timedelta(days=settings.retention_days)
    purged = await store.run(lambda s: purge_rows(s, cutoff))
    log.info("retention purge (%d days): %s", settings.retention_days, asdict(purged))
    return purged


async def retention_loop(store: SqlStore, settings: Settings, *, check_every_s: float = 3600.0,
                         worker: str | None = None) -> None:  # fmt: skip
    """For `payfix serve`: purge rows older than PAYFIX_RETENTION_DAYS once a day, on one replica. Runs until
    cancelled; a database outage is logged and retried at the next check."""
    worker = worker or worker_name()
    while True:
        try:
            await run_once_across_replicas(
                store, name=PURGE_JOB, every=DAY, worker=worker, job=lambda: purge_now(store, settings)
            )
        except PayfixError as exc:
            log.warning("retention purge skipped: %s", exc.en)
        except SQLAlchemyError:
            log.exception("retention purge failed")
        await asyncio.sleep(check_every_s)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# -- CLI -------------------------------------------------------------------------------------------------
def purge_command(settings: Settings) -> int:
    """`payfix purge`: delete rows older than PAYFIX_RETENTION_DAYS now, and say how many."""
    store = open_store(settings)

    async def purge() -> Purged:
        try:
            return await purge_now(store, settings)
        finally:
            await store.aclose()

    purged = asyncio.run(purge())
    counts = ", ".join(f"{table} {count}" for table, count in asdict(purged).items())
    print(f"purged rows older than {settings.retention_days} days: {counts}")
    return 0


def migrate_command(settings: Settings) -> int:
    """`payfix migrate`: apply the migrations in migrations/versions up to the newest."""
    engine = make_engine(settings.database_url)
    try:
        before, after = upgrade(engine)
    except OperationalError as exc:
        raise unreachable(engine, exc) from None
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        print(f"{where}: already at revision {after} (newest: {head_revision()})")
    else:
        print(f"{where}: migrated {before or 'empty database'} → {after}")
    return 0
