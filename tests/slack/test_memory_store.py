"""The in-memory Store: the contract the Slack app relies on (idempotency, leases, versions, decisions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.models import DraftResult, Usage
from bot.store.api import MessageIn, Store
from bot.store.memory import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> MemoryStore:
    return MemoryStore(clock=clock)


def msg(key: str, *, text: str = "card declined", channel: str = "C1") -> MessageIn:
    return MessageIn(event_key=key, team="T", channel=channel, ts=f"{key}.1", user="U", text=text,
                     content_hash=f"h:{text}")  # fmt: skip


RESULT = DraftResult(
    is_payment_issue=True, diagnosis="card_declined", confidence=0.9, evidence=[], language="en",
    language_supported=True, platform="auto", reply="Call your bank.", reply_translation="", agent_language="en",
    citations=[], next_actions=[], follow_up_hours=24, source="llm", guard_flags=[], usage=Usage(),
)  # fmt: skip


def test_it_implements_the_protocol(store: MemoryStore) -> None:
    typed: Store = store  # mypy checks the structural match; this keeps the test honest at runtime too
    assert all(callable(getattr(typed, name)) for name in ("record_message", "claim_pending", "record_outcome"))


async def test_record_is_idempotent_on_the_event_key(store: MemoryStore) -> None:
    first, created = await store.record_message(msg("Ev1"))
    again, created_again = await store.record_message(msg("Ev1", text="other"))
    assert created and not created_again and again == first and first.status == "pending"


async def test_claims_are_exclusive_until_the_lease_expires(store: MemoryStore, clock: Clock) -> None:
    row, _ = await store.record_message(msg("Ev1"))
    assert [m.id for m in await store.claim_pending(worker="a", limit=10, lease_s=60)] == [row.id]
    assert await store.claim_pending(worker="b", limit=10, lease_s=60) == []
    assert await store.claim_message(message_id=row.id, worker="b", lease_s=60) is None
    assert await store.claim_message(message_id=row.id, worker="a", lease_s=60) is not None  # its own lease
    clock.advance(61)  # worker a crashed
    assert [m.id for m in await store.claim_pending(worker="b", limit=10, lease_s=60)] == [row.id]
    await store.mark_message(message_id=row.id, status="drafted")
    clock.advance(3600)
    assert await store.claim_pending(worker="c", limit=10, lease_s=60) == []
    assert await store.claim_message(message_id=row.id, worker="c", lease_s=60) is None


async def test_versions_posts_and_duplicates(store: MemoryStore, clock: Clock) -> None:
    first, _ = await store.record_message(msg("Ev1"))
    v1 = await store.save_draft(message_id=first.id, result=RESULT)
    v2 = await store.save_draft(message_id=first.id, result=RESULT)
    assert (v1.version, v2.version) == (1, 2)
    await store.set_posted(draft_id=v2.id, channel="C1", ts="99.1")
    assert (await store.get_draft_by_post(channel="C1", ts="99.1")) == await store.get_draft(v2.id)
    second, _ = await store.record_message(msg("Ev2"))
    dup = await store.find_recent_duplicate(channel="C1", content_hash="h:card declined", within_s=3600,
                                            exclude_id=second.id)  # fmt: skip
    assert dup is not None and dup.id == v2.id
    other, _ = await store.record_message(msg("Ev3", channel="C2"))
    assert await store.find_recent_duplicate(channel="C2", content_hash="h:card declined", within_s=3600,
                                             exclude_id=other.id) is None  # fmt: skip
    clock.advance(3601)
    assert await store.find_recent_duplicate(channel="C1", content_hash="h:card declined", within_s=3600,
                                             exclude_id=second.id) is None  # fmt: skip


async def test_decisions_are_recorded_once_with_who_when_and_the_edit(store: MemoryStore) -> None:
    row, _ = await store.record_message(msg("Ev1"))
    draft = await store.save_draft(message_id=row.id, result=RESULT)
    edited = await store.record_decision(draft_id=draft.id, decision="edited", user="U2", edited_text="Call them.")
    again = await store.record_decision(draft_id=draft.id, decision="edited", user="U3", edited_text="x")
    assert edited.status == "approved" and edited.final_text == "Call them." and edited.decided_by == "U2"
    assert again == edited and len(store.decisions) == 1 and store.decisions[0].user == "U2"
    other = await store.save_draft(message_id=row.id, result=RESULT)
    regenerated = await store.record_decision(draft_id=other.id, decision="regenerated", user="U2")
    assert regenerated.status == "superseded" and regenerated.final_text is None
    with pytest.raises(ValueError):
        await store.record_decision(draft_id=draft.id, decision="maybe", user="U2")


async def test_follow_ups_and_outcomes(store: MemoryStore, clock: Clock) -> None:
    row, _ = await store.record_message(msg("Ev1"))
    draft = await store.save_draft(message_id=row.id, result=RESULT)
    f = await store.add_follow_up(draft_id=draft.id, channel="C1", thread_ts="1.1", scheduled_message_id="Q1",
                                  post_at=clock.now + timedelta(hours=24), agent="U2")  # fmt: skip
    assert await store.open_follow_ups(agent="U2") == [f]
    await store.cancel_follow_up(f.id)
    assert await store.open_follow_ups(draft_id=draft.id) == []
    await store.record_outcome(draft_id=draft.id, outcome="paid", user="U2")
    assert store.outcomes[draft.id][0] == "paid"
    with pytest.raises(ValueError):
        await store.record_outcome(draft_id=draft.id, outcome="maybe", user="U2")
