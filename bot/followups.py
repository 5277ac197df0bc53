"""Follow-ups: when an approved draft leaves the next move to the buyer (pending payment, transfer delay,
insufficient funds, limits, instalments — taxonomy.yaml `waits_on_buyer`, or PAYFIX_FOLLOW_UP_TAGS), a reminder is
scheduled in the thread for PAYFIX_FOLLOW_UP_HOURS later, mentioning the approving agent and the order id.
"Buyer paid" / "Order lost" closes the case: the outcome is recorded and the reminder cancelled.

Slack-agnostic: the reminder goes through a `Scheduler` (the Slack layer adapts chat.scheduleMessage and
chat.deleteScheduledMessage to it). Slack's own scheduler posts the reminder, so it arrives even if payfix is
down at that moment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.config import Settings
from bot.errors import ConfigError
from bot.knowledge import Knowledge
from bot.store.api import OUTCOMES, FollowUp, Store, StoredDraft, StoredMessage

log = logging.getLogger("payfix.followups")


class SchedulingFailed(Exception):
    """The scheduler refused (Slack's error code in `reason`). Not shown to agents as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Scheduler(Protocol):
    """Posts a message into a thread later, and can take it back."""

    async def schedule_message(self, *, channel: str, thread_ts: str, text: str, post_at: datetime) -> str:
        """Returns the scheduled message's id; raises SchedulingFailed."""
        ...

    async def delete_scheduled_message(self, *, channel: str, scheduled_message_id: str) -> None:
        """Raises SchedulingFailed (e.g. the reminder was already posted)."""
        ...


@dataclass(frozen=True, slots=True)
class FollowUpPolicy:
    """Which diagnoses get a reminder, and after how long."""

    tags: frozenset[str]
    hours: float

    @classmethod
    def from_settings(cls, settings: Settings, knowledge: Knowledge) -> FollowUpPolicy:
        """PAYFIX_FOLLOW_UP_TAGS when set (each must be a taxonomy tag), else the `waits_on_buyer` tags."""
        tags = settings.follow_up_tags
        if tags is None:
            tags = frozenset(tag.id for tag in knowledge.tags.values() if tag.waits_on_buyer)
        unknown = sorted(tags - set(knowledge.tags))
        if unknown:
            raise ConfigError(f"PAYFIX_FOLLOW_UP_TAGS names unknown tags: {', '.join(unknown)}",
                              f"PAYFIX_FOLLOW_UP_TAGS 包含未知标签：{', '.join(unknown)}")  # fmt: skip
        return cls(tags=frozenset(tags), hours=settings.follow_up_hours)


def reminder_text(strings: Mapping[str, str], *, agent: str, order_id: str | None, hours: float) -> str:
    """The reminder as the agent will read it in the thread, in their language."""
    order = strings["followup_order"].format(order_id=order_id) if order_id else ""
    return strings["followup_reminder"].format(agent=agent, order=order, hours=f"{hours:g}")


class FollowUps:
    """Schedules reminders on approval and cancels them when a case is closed."""

    def __init__(
        self, store: Store, scheduler: Scheduler, knowledge: Knowledge, policy: FollowUpPolicy,
        *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:  # fmt: skip
        self.store = store
        self.scheduler = scheduler
        self.knowledge = knowledge
        self.policy = policy
        self._clock = clock

    def applies(self, draft: StoredDraft) -> bool:
        return draft.result.diagnosis in self.policy.tags

    async def on_approved(self, *, draft: StoredDraft, message: StoredMessage, agent: str) -> FollowUp | None:
        """Schedule the reminder for an approved draft whose diagnosis waits on the buyer. Idempotent: a second
        approval signal for the same draft returns the reminder already scheduled."""
        if not self.applies(draft):
            return None
        existing = await self.store.open_follow_ups(draft_id=draft.id)
        if existing:
            return existing[0]
        post_at = self._clock() + timedelta(hours=self.policy.hours)
        channel = draft.posted_channel or message.channel
        thread_ts = message.ts or draft.posted_ts or ""
        strings = self.knowledge.ui(draft.result.agent_language)
        text = reminder_text(strings, agent=agent, order_id=draft.result.order_id, hours=self.policy.hours)
        scheduled_id = await self.scheduler.schedule_message(
            channel=channel, thread_ts=thread_ts, text=text, post_at=post_at
        )
        return await self.store.add_follow_up(
            draft_id=draft.id, channel=channel, thread_ts=thread_ts, scheduled_message_id=scheduled_id,
            post_at=post_at, agent=agent,
        )  # fmt: skip

    async def close(self, *, draft_id: int, outcome: str, user: str) -> list[FollowUp]:
        """Record the outcome (paid | lost) and cancel the case's open reminders; returns the ones cancelled.
        A reminder Slack already posted cannot be deleted: it is marked closed all the same."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        await self.store.record_outcome(draft_id=draft_id, outcome=outcome, user=user)
        cancelled = []
        for follow_up in await self.store.open_follow_ups(draft_id=draft_id):
            if follow_up.scheduled_message_id:
                try:
                    await self.scheduler.delete_scheduled_message(
                        channel=follow_up.channel, scheduled_message_id=follow_up.scheduled_message_id
                    )
                except SchedulingFailed as exc:
                    log.info("reminder %d could not be deleted (%s): closing it anyway", follow_up.id, exc.reason)
            await self.store.cancel_follow_up(follow_up.id)
            cancelled.append(follow_up)
        return cancelled
