"""Follow-ups: scheduled on approval of a draft that waits on the buyer, cancelled when the case is closed, and
the outcome recorded — with a fake scheduler that records what Slack would have been asked."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest
from store_helpers import Clock, draft_result, message

from bot.config import Settings
from bot.errors import ConfigError
from bot.followups import FollowUpPolicy, FollowUps, SchedulingFailed
from bot.knowledge import Knowledge
from bot.store.api import StoredDraft, StoredMessage
from bot.store.sql import SqlStore

ORDER = "112-3456789-1234567"


@dataclass
class FakeScheduler:
    """Records chat.scheduleMessage / chat.deleteScheduledMessage as the Slack adapter would send them."""

    scheduled: list[dict[str, object]] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    refuse_delete: str | None = None

    async def schedule_message(self, *, channel: str, thread_ts: str, text: str, post_at: datetime) -> str:
        self.scheduled.append({"channel": channel, "thread_ts": thread_ts, "text": text, "post_at": post_at})
        return f"Q{len(self.scheduled)}"

    async def delete_scheduled_message(self, *, channel: str, scheduled_message_id: str) -> None:
        if self.refuse_delete:
            raise SchedulingFailed(self.refuse_delete)
        self.deleted.append((channel, scheduled_message_id))


@pytest.fixture
def scheduler() -> FakeScheduler:
    return FakeScheduler()


@pytest.fixture
def follow_ups(store: SqlStore, scheduler: FakeScheduler, knowledge: Knowledge, clock: Clock) -> FollowUps:
    policy = FollowUpPolicy.from_settings(Settings.from_env({}), knowledge)
    return FollowUps(store, scheduler, knowledge, policy, clock=clock)


async def approved_draft(store: SqlStore, *, diagnosis: str, agent_language: str = "en", order_id: str | None = ORDER
                         ) -> tuple[StoredDraft, StoredMessage]:  # fmt: skip
    row, _ = await store.record_message(message("Ev1", text="I will pay on Friday, please hold the order"))
    result = draft_result(diagnosis=diagnosis, agent_language=agent_language, order_id=order_id)
    draft = await store.save_draft(message_id=row.id, result=result)
    await store.set_posted(draft_id=draft.id, channel="CPAY", ts="1700000001.000200")
    decided = await store.record_decision(draft_id=draft.id, decision="approved", user="UAPPROVER")
    return decided, row


def test_the_policy_follows_the_taxonomy_unless_configured(knowledge: Knowledge) -> None:
    default = FollowUpPolicy.from_settings(Settings.from_env({}), knowledge)
    assert default.tags == {"insufficient_funds", "limit_exceeded", "pending_payment_order", "bank_transfer_delay",
                            "installment_failed"} and default.hours == 24  # fmt: skip
    custom = FollowUpPolicy.from_settings(
        Settings.from_env({"PAYFIX_FOLLOW_UP_TAGS": "card_declined", "PAYFIX_FOLLOW_UP_HOURS": "2.5"}), knowledge
    )
    assert custom.tags == {"card_declined"} and custom.hours == 2.5
    with pytest.raises(ConfigError, match="no_such_tag"):
        FollowUpPolicy.from_settings(Settings.from_env({"PAYFIX_FOLLOW_UP_TAGS": "no_such_tag"}), knowledge)


async def test_approval_of_a_case_waiting_on_the_buyer_schedules_a_reminder(
    store: SqlStore, follow_ups: FollowUps, scheduler: FakeScheduler, clock: Clock
) -> None:
    draft, row = await approved_draft(store, diagnosis="pending_payment_order")
    follow_up = await follow_ups.on_approved(draft=draft, message=row, agent="UAPPROVER")
    assert follow_up is not None
    (call,) = scheduler.scheduled
    assert call["channel"] == "CPAY" and call["thread_ts"] == row.ts  # in the buyer message's thread
    assert call["post_at"] == clock.now + timedelta(hours=24) == follow_up.post_at
    text = str(call["text"])
    assert "<@UAPPROVER>" in text and ORDER in text and "24 h" in text and "Buyer paid" in text
    assert await store.open_follow_ups(agent="UAPPROVER") == [follow_up]
    assert follow_up.scheduled_message_id == "Q1"
    again = await follow_ups.on_approved(draft=draft, message=row, agent="UAPPROVER")  # a ✅ after the button
    assert again == follow_up and len(scheduler.scheduled) == 1


async def test_the_reminder_speaks_the_agents_language_and_omits_a_missing_order_id(
    store: SqlStore, follow_ups: FollowUps, scheduler: FakeScheduler
) -> None:
    draft, row = await approved_draft(store, diagnosis="bank_transfer_delay", agent_language="zh-CN", order_id=None)
    await follow_ups.on_approved(draft=draft, message=row, agent="UAPPROVER")
    text = str(scheduler.scheduled[0]["text"])
    assert "<@UAPPROVER>" in text and "跟进提醒" in text and "买家已付款" in text and "订单" not in text.split("：")[0]


async def test_no_reminder_when_the_diagnosis_does_not_wait_on_the_buyer(
    store: SqlStore, follow_ups: FollowUps, scheduler: FakeScheduler
) -> None:
    draft, row = await approved_draft(store, diagnosis="duplicate_charge")
    assert await follow_ups.on_approved(draft=draft, message=row, agent="UAPPROVER") is None
    assert scheduler.scheduled == [] and await store.open_follow_ups() == []


@pytest.mark.parametrize("outcome", ["paid", "lost"])
async def test_an_outcome_closes_the_case_and_cancels_the_reminder(
    store: SqlStore, follow_ups: FollowUps, scheduler: FakeScheduler, outcome: str
) -> None:
    draft, row = await approved_draft(store, diagnosis="insufficient_funds")
    follow_up = await follow_ups.on_approved(draft=draft, message=row, agent="UAPPROVER")
    assert follow_up is not None
    cancelled = await follow_ups.close(draft_id=draft.id, outcome=outcome, user="UAGENT")
    assert [f.id for f in cancelled] == [follow_up.id]
    assert scheduler.deleted == [("CPAY", "Q1")]
    assert await store.open_follow_ups(draft_id=draft.id) == []
    assert await store.outcome_of(draft.id) == outcome
    assert await follow_ups.close(draft_id=draft.id, outcome="lost", user="UOTHER") == []  # already closed
    assert scheduler.deleted == [("CPAY", "Q1")] and await store.outcome_of(draft.id) == outcome


async def test_a_reminder_slack_already_posted_is_closed_all_the_same(
    store: SqlStore, follow_ups: FollowUps, scheduler: FakeScheduler, clock: Clock
) -> None:
    draft, row = await approved_draft(store, diagnosis="limit_exceeded")
    await follow_ups.on_approved(draft=draft, message=row, agent="UAPPROVER")
    clock.advance(hours=25)
    scheduler.refuse_delete = "invalid_scheduled_message_id"
    cancelled = await follow_ups.close(draft_id=draft.id, outcome="paid", user="UAGENT")
    assert len(cancelled) == 1 and await store.open_follow_ups() == [] and await store.outcome_of(draft.id) == "paid"


async def test_an_outcome_without_a_reminder_is_still_recorded(store: SqlStore, follow_ups: FollowUps) -> None:
    draft, _ = await approved_draft(store, diagnosis="card_declined")
    assert await follow_ups.close(draft_id=draft.id, outcome="paid", user="UAGENT") == []
    assert await store.outcome_of(draft.id) == "paid"
    with pytest.raises(ValueError):
        await follow_ups.close(draft_id=draft.id, outcome="refunded", user="UAGENT")


async def test_scheduling_failures_reach_the_caller(store: SqlStore, knowledge: Knowledge, clock: Clock) -> None:
    class Refusing(FakeScheduler):
        async def schedule_message(self, *, channel: str, thread_ts: str, text: str, post_at: datetime) -> str:
            raise SchedulingFailed("time_too_far")

    policy = replace(FollowUpPolicy.from_settings(Settings.from_env({}), knowledge), hours=1)
    follow_ups = FollowUps(store, Refusing(), knowledge, policy, clock=clock)
    draft, row = await approved_draft(store, diagnosis="installment_failed")
    with pytest.raises(SchedulingFailed, match="time_too_far"):
        await follow_ups.on_approved(draft=draft, message=row, agent="UAPPROVER")
    assert await store.open_follow_ups() == []  # nothing recorded that Slack will not post
