"""The SQL store keeps the `Store` contract the Slack app relies on — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text
from store_helpers import Clock, draft_result, message

from bot.store.api import Claim, Store
from bot.store.engine import database_url
from bot.store.safety import SensitiveDataError, has_card_number
from bot.store.schema import DecisionRow, DraftRow, MessageRow
from bot.store.sql import SqlStore

CARD = "4111 1111 1111 1111"  # the Visa test number: Luhn-valid


def test_it_implements_the_protocol(store: SqlStore) -> None:
    typed: Store = store  # mypy checks the structural match
    assert callable(typed.claim_pending)


def test_postgres_urls_use_the_psycopg_3_driver() -> None:
    assert database_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///payfix.db") == "sqlite:///payfix.db"


async def test_record_is_idempotent_on_the_event_key(store: SqlStore) -> None:
    first, created = await store.record_message(message("Ev1"))
    again, created_again = await store.record_message(message("Ev1", text="a redelivery with other text"))
    assert created and not created_again
    assert again == first and first.status == "pending" and first.text == "my card was declined"
    count = await store.run(lambda s: s.scalar(select(func.count()).select_from(MessageRow)))
    assert count == 1


async def test_times_are_aware_utc_on_every_backend(store: SqlStore, clock: Clock) -> None:
    row, _ = await store.record_message(message("Ev1"))
    assert row.received_at == clock.now and row.received_at.utcoffset() == timedelta(0)
    assert (await store.get_message(row.id)) == row


async def test_a_message_recorded_with_a_claim_is_leased_in_the_same_write(store: SqlStore, clock: Clock) -> None:
    """The worker that acknowledged the event drafts it; nobody else may until its lease runs out."""
    rows = await asyncio.gather(*(store.record_message(message(f"Ev{i}"), claim=Claim("a", 60)) for i in range(3)))
    assert [(row.status, created) for row, created in rows] == [("drafting", True)] * 3
    assert await store.claim_pending(worker="b", limit=10, lease_s=60) == []
    first = rows[0][0]
    assert await store.claim_message(message_id=first.id, worker="b", lease_s=60) is None
    assert await store.claim_message(message_id=first.id, worker="a", lease_s=60) is not None
    again, created = await store.record_message(message("Ev0"), claim=Claim("b", 60))  # a redelivery elsewhere
    assert not created and again.id == first.id
    clock.advance(seconds=61)  # worker a died holding them
    assert sorted(m.id for m in await store.claim_pending(worker="b", limit=10, lease_s=60)) == sorted(
        row.id for row, _ in rows
    )


async def test_claims_are_exclusive_until_the_lease_expires(store: SqlStore, clock: Clock) -> None:
    row, _ = await store.record_message(message("Ev1"))
    assert [m.id for m in await store.claim_pending(worker="a", limit=10, lease_s=60)] == [row.id]
    assert await store.claim_pending(worker="b", limit=10, lease_s=60) == []
    assert await store.claim_message(message_id=row.id, worker="b", lease_s=60) is None
    assert await store.claim_message(message_id=row.id, worker="a", lease_s=60) is not None  # its own lease
    clock.advance(seconds=61)  # worker a crashed: its lease ran out
    reclaimed = await store.claim_pending(worker="b", limit=10, lease_s=60)
    assert [(m.id, m.status) for m in reclaimed] == [(row.id, "drafting")]
    await store.mark_message(message_id=row.id, status="drafted")
    clock.advance(seconds=3600)
    assert await store.claim_pending(worker="c", limit=10, lease_s=60) == []
    assert await store.claim_message(message_id=row.id, worker="c", lease_s=60) is None
    with pytest.raises(ValueError, match="terminal"):
        await store.mark_message(message_id=row.id, status="pending")


async def test_claim_pending_takes_the_oldest_first_up_to_the_limit(store: SqlStore) -> None:
    ids = [(await store.record_message(message(f"Ev{i}")))[0].id for i in range(5)]
    first = await store.claim_pending(worker="a", limit=3, lease_s=60)
    second = await store.claim_pending(worker="b", limit=3, lease_s=60)
    assert [m.id for m in first] == ids[:3] and [m.id for m in second] == ids[3:]


async def test_draft_versions_posts_and_the_stored_result(store: SqlStore) -> None:
    row, _ = await store.record_message(message("Ev1"))
    result = draft_result(order_id="112-3456789-1234567", redactions={"CARD": 1}, notices=["cut"])
    v1 = await store.save_draft(message_id=row.id, result=result)
    v2 = await store.save_draft(message_id=row.id, result=draft_result(source="fallback", fallback_reason="timeout"))
    assert (v1.version, v2.version, v1.status) == (1, 2, "open")
    assert v1.result == result  # the whole DraftResult survives the JSON round trip
    await store.set_posted(draft_id=v2.id, channel="C1", ts="99.1")
    assert await store.get_draft_by_post(channel="C1", ts="99.1") == await store.get_draft(v2.id)
    assert await store.get_draft_by_post(channel="C1", ts="99.2") is None
    columns = await store.run(lambda s: s.execute(select(DraftRow.source, DraftRow.prompt_tokens,
                                                         DraftRow.latency_ms).order_by(DraftRow.id)).all())  # fmt: skip
    assert [tuple(c) for c in columns] == [("llm", 1200, 850.0), ("fallback", 1200, 850.0)]
    language = await store.run(lambda s: s.scalar(select(MessageRow.language).where(MessageRow.id == row.id)))
    assert language == "en"


async def test_recent_duplicates_are_found_per_channel_and_window(store: SqlStore, clock: Clock) -> None:
    first, _ = await store.record_message(message("Ev1"))
    draft = await store.save_draft(message_id=first.id, result=draft_result())
    second, _ = await store.record_message(message("Ev2"))
    assert await store.find_recent_duplicate(channel="C1", content_hash="h:my card was declined", within_s=3600,
                                             exclude_id=second.id) is None  # not posted yet  # fmt: skip
    await store.set_posted(draft_id=draft.id, channel="C1", ts="5.5")
    found = await store.find_recent_duplicate(channel="C1", content_hash="h:my card was declined", within_s=3600,
                                              exclude_id=second.id)  # fmt: skip
    assert found is not None and found.id == draft.id
    assert await store.find_recent_duplicate(channel="C2", content_hash="h:my card was declined", within_s=3600,
                                             exclude_id=second.id) is None  # fmt: skip
    clock.advance(seconds=3601)
    assert await store.find_recent_duplicate(channel="C1", content_hash="h:my card was declined", within_s=3600,
                                             exclude_id=second.id) is None  # fmt: skip


async def test_posting_the_first_card_can_close_its_message_in_the_same_write(store: SqlStore) -> None:
    row, _ = await store.record_message(message("Ev1"))
    draft = await store.save_draft(message_id=row.id, result=draft_result())
    with pytest.raises(ValueError):
        await store.set_posted(draft_id=draft.id, channel="C1", ts="5.5", mark="drafting")  # not terminal
    await store.set_posted(draft_id=draft.id, channel="C1", ts="5.5", mark="drafted")
    stored = await store.get_message(row.id)
    assert stored is not None and stored.status == "drafted"
    assert (await store.get_draft_by_post(channel="C1", ts="5.5")) == await store.get_draft(draft.id)


async def test_recording_says_whether_an_earlier_copy_exists(store: SqlStore) -> None:
    """The ack's write tells the draft whether a duplicate lookup is needed at all: only for a text already
    seen in the same channel (in an earlier batch or the same one)."""
    first, _ = await store.record_message(message("Ev1"))
    elsewhere, _ = await store.record_message(message("Ev2", channel="C2"))
    other, _ = await store.record_message(message("Ev3", text="my otp never arrives"))
    (second, _), (third, _) = await asyncio.gather(
        store.record_message(message("Ev4")), store.record_message(message("Ev5"))
    )
    assert [r.maybe_duplicate for r in (first, elsewhere, other, second, third)] == [False, False, False, True, True]
    assert (await store.get_message(first.id)) == first  # a hint of the write, not part of the row


async def test_decisions_are_kept_once_with_who_when_and_the_edit(store: SqlStore, clock: Clock) -> None:
    row, _ = await store.record_message(message("Ev1"))
    draft = await store.save_draft(message_id=row.id, result=draft_result())
    clock.advance(minutes=5)
    edited = await store.record_decision(draft_id=draft.id, decision="edited", user="U2", edited_text="Call them.")
    again = await store.record_decision(draft_id=draft.id, decision="edited", user="U3", edited_text="other")
    assert (edited.status, edited.final_text, edited.decided_by) == ("approved", "Call them.", "U2")
    assert again == edited
    approved = await store.save_draft(message_id=row.id, result=draft_result())
    decided = await store.record_decision(draft_id=approved.id, decision="approved", user="U4")
    assert decided.final_text == draft_result().reply and decided.status == "approved"
    superseded = await store.record_decision(
        draft_id=(await store.save_draft(message_id=row.id, result=draft_result())).id,
        decision="regenerated", user="U2",
    )  # fmt: skip
    assert superseded.status == "superseded" and superseded.final_text is None
    rows = await store.run(lambda s: s.execute(select(DecisionRow.decision, DecisionRow.user_id,
                                                      DecisionRow.edited_text, DecisionRow.decided_at)
                                               .order_by(DecisionRow.id)).all())  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("edited", "U2", "Call them.", clock.now), ("approved", "U4", None, clock.now),
        ("regenerated", "U2", None, clock.now),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown decision"):
        await store.record_decision(draft_id=draft.id, decision="maybe", user="U2")
    with pytest.raises(LookupError):
        await store.record_decision(draft_id=9999, decision="approved", user="U2")


async def test_follow_ups_and_outcomes(store: SqlStore, clock: Clock) -> None:
    row, _ = await store.record_message(message("Ev1"))
    draft = await store.save_draft(message_id=row.id, result=draft_result())
    post_at = clock.now + timedelta(hours=24)
    f = await store.add_follow_up(draft_id=draft.id, channel="C1", thread_ts=row.ts, scheduled_message_id="Q1",
                                  post_at=post_at, agent="U2")  # fmt: skip
    assert (f.status, f.post_at, f.scheduled_message_id) == ("scheduled", post_at, "Q1")
    assert await store.open_follow_ups(agent="U2") == [f] and await store.open_follow_ups(agent="U3") == []
    await store.cancel_follow_up(f.id)
    assert await store.open_follow_ups(draft_id=draft.id) == []
    await store.record_outcome(draft_id=draft.id, outcome="paid", user="U2")
    await store.record_outcome(draft_id=draft.id, outcome="lost", user="U3")  # the case is already closed
    assert await store.outcome_of(draft.id) == "paid"
    with pytest.raises(ValueError, match="unknown outcome"):
        await store.record_outcome(draft_id=draft.id, outcome="maybe", user="U2")


@pytest.mark.parametrize("where", ["message", "draft", "edit"])
async def test_a_card_number_never_reaches_a_row(store: SqlStore, where: str) -> None:
    row, _ = await store.record_message(message("Ev1"))
    draft = await store.save_draft(message_id=row.id, result=draft_result())
    with pytest.raises(SensitiveDataError) as refused:
        if where == "message":
            await store.record_message(message("Ev2", text=f"my card {CARD} was declined"))
        elif where == "draft":
            await store.save_draft(message_id=row.id, result=draft_result(reply=f"Is your card {CARD}?"))
        else:
            await store.record_decision(draft_id=draft.id, decision="edited", user="U2", edited_text=f"card {CARD}")
    error = refused.value  # says nothing of the value, and does not chain the driver's error (which would)
    assert CARD not in str(error) and error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    dump = await store.run(lambda s: " ".join(str(r) for t in ("buyer_messages", "drafts", "decisions")
                                              for r in s.execute(text(f"SELECT * FROM {t}")).all()))  # fmt: skip
    assert "4111" not in dump and (await store.get_draft(draft.id)) == draft  # nothing changed


def test_the_card_check_matches_the_redactor() -> None:
    assert has_card_number(f"pay with {CARD} please") and has_card_number("5555-5555-5555-4444")
    assert not has_card_number("order 112-3456789-1234567 and [CARD]")  # not Luhn-valid: an order id survives
    assert not has_card_number("4111 1111 1111 1112")  # fails Luhn


async def test_a_burst_of_messages_is_group_committed(store: SqlStore) -> None:
    """200 events at once (Slack waits for each ack) share a few transactions instead of 200 disk flushes; a
    redelivery inside the burst is still recorded once, and one bad message fails only its own caller."""
    commits: list[int] = []
    event.listen(store.engine, "commit", lambda _connection: commits.append(1))
    burst = [message(f"Ev{i}") for i in range(200)] + [message("Ev7"), message("EvBAD", text=f"card {CARD}")]
    results = await asyncio.gather(*(store.record_message(m) for m in burst), return_exceptions=True)
    assert isinstance(results[-1], SensitiveDataError)
    recorded = [r for r in results[:-1] if not isinstance(r, BaseException)]
    assert len(recorded) == 201 and sum(created for _, created in recorded) == 200
    assert recorded[7][0] == recorded[200][0] and recorded[200][1] is False  # the redelivered Ev7
    assert len({row.id for row, _ in recorded}) == 200
    assert len(commits) <= 5  # 1 for the first message, then batches of up to 100
