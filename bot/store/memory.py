"""An in-memory `Store`: the tests' store, and `payfix serve`'s until a database is configured.

Single event loop, no awaits inside a method: every method is atomic without locks. Nothing survives a
restart — the SQL store is the durable one; this one has the same semantics so the Slack layer cannot tell.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.models import DraftResult
from bot.store.api import DECISIONS, OUTCOMES, Claim, FollowUp, MessageIn, StoredDraft, StoredMessage

Clock = Callable[[], datetime]
_STATUS_AFTER = {"approved": "approved", "edited": "approved", "rejected": "rejected",
                 "regenerated": "superseded", "superseded": "superseded"}  # fmt: skip
_TERMINAL = ("drafted", "skipped", "failed")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision as it was taken: kept in order, never overwritten."""

    draft_id: int
    decision: str
    user: str
    edited_text: str | None
    at: datetime


@dataclass(slots=True)
class _Lease:
    worker: str
    until: datetime


class MemoryStore:
    """Implements `bot.store.api.Store` with dicts. `clock` is injectable so tests can expire leases."""

    def __init__(self, *, clock: Clock = utcnow) -> None:
        self._clock = clock
        self._ids = itertools.count(1)
        self._messages: dict[int, StoredMessage] = {}
        self._by_key: dict[str, int] = {}
        self._leases: dict[int, _Lease] = {}
        self._drafts: dict[int, StoredDraft] = {}
        self._by_post: dict[tuple[str, str], int] = {}
        self._by_content: dict[tuple[str, str], list[int]] = {}  # (channel, content hash) → message ids
        self._versions: dict[int, list[int]] = {}  # message id → its draft ids, oldest first
        self._follow_ups: dict[int, FollowUp] = {}
        self.decisions: list[Decision] = []
        self.outcomes: dict[int, tuple[str, str, datetime]] = {}

    # -- messages -----------------------------------------------------------------------------------
    async def record_message(
        self, message: MessageIn, *, claim: Claim | None = None
    ) -> tuple[StoredMessage, bool]:
        known = self._by_key.get(message.event_key)
        if known is not None:
            return self._messages[known], False
        now = self._clock()
        row = StoredMessage(
            id=next(self._ids), event_key=message.event_key, team=message.team, channel=message.channel,
            ts=message.ts, user=message.user, text=message.text, content_hash=message.content_hash,
            platform=message.platform, agent_language=message.agent_language, force=message.force,
            received_at=now, status="pending",
        )  # fmt: skip
        self._messages[row.id] = row
        if claim is not None:
            row = self._lease(row, claim.worker, claim.lease_s)
        self._by_key[message.event_key] = row.id
        earlier = self._by_content.setdefault((row.channel, row.content_hash), [])
        earlier.append(row.id)
        return replace(row, maybe_duplicate=len(earlier) > 1), True

    async def find_recent_duplicate(
        self, *, channel: str, content_hash: str, within_s: int, exclude_id: int
    ) -> StoredDraft | None:
        since = self._clock() - timedelta(seconds=within_s)
        same = [
            m
            for m in self._by_content.get((channel, content_hash), [])
            if m != exclude_id and self._messages[m].received_at >= since
        ]
        drafts = [self._drafts[d] for m in same for d in self._versions.get(m, [])]
        return max((d for d in drafts if d.posted_ts is not None), key=lambda d: d.id, default=None)

    async def claim_pending(self, *, worker: str, limit: int, lease_s: float) -> list[StoredMessage]:
        now = self._clock()
        claimable = [m for m in self._messages.values() if self._claimable(m, worker=None, now=now)]
        return [self._lease(m, worker, lease_s) for m in sorted(claimable, key=lambda m: m.id)[:limit]]

    async def claim_message(self, *, message_id: int, worker: str, lease_s: float) -> StoredMessage | None:
        row = self._messages.get(message_id)
        if row is None or not self._claimable(row, worker=worker, now=self._clock()):
            return None
        return self._lease(row, worker, lease_s)

    async def mark_message(self, *, message_id: int, status: str) -> None:
        if status not in _TERMINAL:
            raise ValueError(f"not a terminal message status: {status!r}")
        self._messages[message_id] = replace(self._messages[message_id], status=status)
        self._leases.pop(message_id, None)

    async def get_message(self, message_id: int) -> StoredMessage | None:
        return self._messages.get(message_id)

    def _claimable(self, row: StoredMessage, *, worker: str | None, now: datetime) -> bool:
        """Pending, or drafting under a lease that expired (a crashed worker's) or that `worker` holds."""
        if row.status == "pending":
            return True
        if row.status != "drafting":
            return False
        lease = self._leases.get(row.id)
        return lease is None or lease.until <= now or lease.worker == worker

    def _lease(self, row: StoredMessage, worker: str, lease_s: float) -> StoredMessage:
        self._leases[row.id] = _Lease(worker, self._clock() + timedelta(seconds=lease_s))
        leased = replace(row, status="drafting")
        self._messages[row.id] = leased
        return leased

    # -- drafts and decisions -----------------------------------------------------------------------
    async def save_draft(self, *, message_id: int, result: DraftResult) -> StoredDraft:
        versions = self._versions.setdefault(message_id, [])
        version = 1 + len(versions)
        draft = StoredDraft(
            id=next(self._ids), message_id=message_id, version=version, result=result, posted_channel=None,
            posted_ts=None, status="open", decided_by=None, final_text=None, created_at=self._clock(),
        )  # fmt: skip
        self._drafts[draft.id] = draft
        versions.append(draft.id)
        return draft

    async def set_posted(self, *, draft_id: int, channel: str, ts: str, mark: str | None = None) -> None:
        if mark is not None and mark not in _TERMINAL:
            raise ValueError(f"not a terminal message status: {mark!r}")
        self._drafts[draft_id] = replace(self._drafts[draft_id], posted_channel=channel, posted_ts=ts)
        self._by_post[(channel, ts)] = draft_id
        if mark is not None:
            await self.mark_message(message_id=self._drafts[draft_id].message_id, status=mark)

    async def get_draft(self, draft_id: int) -> StoredDraft | None:
        return self._drafts.get(draft_id)

    async def get_draft_by_post(self, *, channel: str, ts: str) -> StoredDraft | None:
        draft_id = self._by_post.get((channel, ts))
        return None if draft_id is None else self._drafts[draft_id]

    async def record_decision(
        self, *, draft_id: int, decision: str, user: str, edited_text: str | None = None
    ) -> StoredDraft:
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}")
        draft = self._drafts[draft_id]
        if any(d.draft_id == draft_id and d.decision == decision for d in self.decisions):
            return draft
        final = edited_text if decision == "edited" else draft.result.reply if decision == "approved" else None
        self.decisions.append(Decision(draft_id, decision, user, edited_text, self._clock()))
        draft = replace(draft, status=_STATUS_AFTER[decision], decided_by=user, final_text=final)
        self._drafts[draft_id] = draft
        return draft

    # -- follow-ups and outcomes --------------------------------------------------------------------
    async def add_follow_up(self, *, draft_id: int, channel: str, thread_ts: str, scheduled_message_id: str | None,
                            post_at: datetime, agent: str) -> FollowUp:  # fmt: skip
        follow_up = FollowUp(
            id=next(self._ids), draft_id=draft_id, channel=channel, thread_ts=thread_ts,
            scheduled_message_id=scheduled_message_id, post_at=post_at, agent=agent, status="scheduled",
        )  # fmt: skip
        self._follow_ups[follow_up.id] = follow_up
        return follow_up

    async def open_follow_ups(self, *, draft_id: int | None = None, agent: str | None = None) -> list[FollowUp]:
        return [
            f
            for f in self._follow_ups.values()
            if f.status == "scheduled" and draft_id in (None, f.draft_id) and agent in (None, f.agent)
        ]

    async def cancel_follow_up(self, follow_up_id: int) -> None:
        self._follow_ups[follow_up_id] = replace(self._follow_ups[follow_up_id], status="cancelled")

    async def record_outcome(self, *, draft_id: int, outcome: str, user: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        self.outcomes[draft_id] = (outcome, user, self._clock())
