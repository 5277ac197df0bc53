"""The storage contract between the Slack layer and a store (in-memory for tests, SQL in production).

Only redacted text ever crosses this boundary. Every method is async so the Slack app never blocks its event
loop on I/O; SQL implementations run their queries in a worker thread or with an async driver.

The lifecycle of a buyer message:
  record_message (before Slack is acknowledged; idempotent on `event_key`; leased to the recording worker)
  → claim_pending (a dead worker's expired lease; replicas never get the same message)
  → save_draft (version 1, 2 … on regenerate; `posted_ts` once the card is in Slack)
  → record_decision (approved / edited / rejected / regenerated)
  → schedule/cancel follow-up, record_outcome (paid / lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.models import DraftResult

DECISIONS = ("approved", "edited", "rejected", "regenerated", "superseded")
OUTCOMES = ("paid", "lost")


@dataclass(frozen=True, slots=True)
class Claim:
    """A lease: `worker` drafts the message; after `lease_s` seconds without finishing, anyone may."""

    worker: str
    lease_s: float


@dataclass(frozen=True, slots=True)
class MessageIn:
    """A buyer message as received from Slack, already redacted."""

    event_key: str  # Slack event_id, or "cmd:<trigger_id>" for /payfix; the idempotency key
    team: str
    channel: str
    ts: str  # the message's ts (for /payfix: the ts of the message the bot posted with the buyer text)
    user: str
    text: str  # redacted
    content_hash: str  # sha256 of the normalised redacted text: finds the same paste within an hour
    platform: str = "auto"
    agent_language: str | None = None
    force: bool = False  # draft even if the prefilter says it is not about payment ("Draft anyway")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    event_key: str
    team: str
    channel: str
    ts: str
    user: str
    text: str
    content_hash: str
    platform: str
    agent_language: str | None
    force: bool
    received_at: datetime
    status: str  # pending | drafting | drafted | skipped | failed
    # False only when the recording write saw no earlier message with this text in this channel: then the
    # draft needs no duplicate lookup. Rows read back later do not know, and say True. A hint, not row data.
    maybe_duplicate: bool = field(default=True, compare=False)


@dataclass(frozen=True, slots=True)
class StoredDraft:
    id: int
    message_id: int
    version: int
    result: DraftResult
    posted_channel: str | None
    posted_ts: str | None  # ts of the draft card in Slack
    status: str  # open | approved | rejected | superseded
    decided_by: str | None
    final_text: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FollowUp:
    id: int
    draft_id: int
    channel: str
    thread_ts: str
    scheduled_message_id: str | None  # Slack's id from chat.scheduleMessage, needed to cancel it
    post_at: datetime
    agent: str
    status: str  # scheduled | cancelled | sent


class Store(Protocol):
    async def record_message(
        self, message: MessageIn, *, claim: Claim | None = None
    ) -> tuple[StoredMessage, bool]:
        """Insert once per `event_key`; returns (row, created). A redelivery returns the first row, False.
        With `claim`, a new row is leased to that worker in the same write (status `drafting`): the process
        that acknowledged the event drafts it, with no second transaction for the claim."""
        ...

    async def find_recent_duplicate(
        self, *, channel: str, content_hash: str, within_s: int, exclude_id: int
    ) -> StoredDraft | None:
        """The latest draft for the same text in the same channel within `within_s` seconds, if any."""
        ...

    async def claim_pending(self, *, worker: str, limit: int, lease_s: float) -> list[StoredMessage]:
        """Lease pending messages (and ones whose lease expired: a crashed worker's) to `worker`.

        Exactly-once across replicas: SQL implementations use SELECT … FOR UPDATE SKIP LOCKED.
        """
        ...

    async def claim_message(self, *, message_id: int, worker: str, lease_s: float) -> StoredMessage | None:
        """Lease one specific message, unless another worker holds it or it is already drafted."""
        ...

    async def mark_message(self, *, message_id: int, status: str) -> None:
        """Set a terminal status: drafted, skipped (not payment), failed."""
        ...

    async def save_draft(self, *, message_id: int, result: DraftResult) -> StoredDraft:
        """Store the next version of a draft for the message (version = previous + 1)."""
        ...

    async def set_posted(self, *, draft_id: int, channel: str, ts: str, mark: str | None = None) -> None:
        """Where the draft's card is in Slack; `mark` also sets its message's terminal status, in the same
        write (the first card of a message is its last step)."""
        ...

    async def get_draft(self, draft_id: int) -> StoredDraft | None:
        ...

    async def get_draft_by_post(self, *, channel: str, ts: str) -> StoredDraft | None:
        """The draft whose card is the Slack message (channel, ts): reactions arrive with these."""
        ...

    async def get_message(self, message_id: int) -> StoredMessage | None:
        ...

    async def record_decision(
        self, *, draft_id: int, decision: str, user: str, edited_text: str | None = None
    ) -> StoredDraft:
        """Record who decided what and when; sets the draft's status and final text. Idempotent per decision."""
        ...

    async def add_follow_up(self, *, draft_id: int, channel: str, thread_ts: str, scheduled_message_id: str | None,
                            post_at: datetime, agent: str) -> FollowUp:  # fmt: skip
        ...

    async def open_follow_ups(self, *, draft_id: int | None = None, agent: str | None = None) -> list[FollowUp]:
        ...

    async def cancel_follow_up(self, follow_up_id: int) -> None:
        ...

    async def record_outcome(self, *, draft_id: int, outcome: str, user: str) -> None:
        """paid | lost: closes the case."""
        ...
