"""The storage issue's features in the Slack app: follow-up reminders on approval, "Buyer paid" / "Order lost",
`/payfix stats`, the App Home, and the background jobs (daily purge, weekly ops digest).

`storage_hooks` builds the `Hooks` that server.py hands to `build_app`; the routing table (listeners.py,
events.py) calls them. The logic lives in Slack-free modules (bot/followups.py, bot/analytics/,
bot/store/maintenance.py); this file only adapts Slack to them and answers the agent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.analytics import digest, home
from bot.analytics.facts import load_cases
from bot.analytics.report import monthly_report, tag_label
from bot.analytics.stats import compute, month_window
from bot.config import Settings
from bot.errors import PayfixError
from bot.followups import FollowUpPolicy, FollowUps, SchedulingFailed
from bot.knowledge import Knowledge
from bot.slack import ui
from bot.slack.decisions import close_card
from bot.slack.deps import Deps, Hooks
from bot.slack.notify import post_in_thread, tell
from bot.slack.web import slack_error
from bot.store.api import Store, StoredDraft, StoredMessage
from bot.store.maintenance import retention_loop
from bot.store.sql import SqlStore

log = logging.getLogger("payfix.slack")


class SlackScheduler:
    """`bot.followups.Scheduler` on chat.scheduleMessage / chat.deleteScheduledMessage."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def schedule_message(self, *, channel: str, thread_ts: str, text: str, post_at: datetime) -> str:
        try:
            response = await self._client.chat_scheduleMessage(
                channel=channel, thread_ts=thread_ts, text=text, post_at=int(post_at.timestamp()), unfurl_links=False
            )
        except SlackApiError as exc:
            raise SchedulingFailed(slack_error(exc)) from exc
        return str(response["scheduled_message_id"])

    async def delete_scheduled_message(self, *, channel: str, scheduled_message_id: str) -> None:
        try:
            await self._client.chat_deleteScheduledMessage(channel=channel, scheduled_message_id=scheduled_message_id)
        except SlackApiError as exc:
            raise SchedulingFailed(slack_error(exc)) from exc


def storage_hooks(settings: Settings, store: Store, knowledge: Knowledge) -> Hooks:
    """Every storage feature the store supports: stats, home figures and the periodic jobs need the SQL store."""
    wiring = StorageWiring(settings, FollowUpPolicy.from_settings(settings, knowledge))
    sql = isinstance(store, SqlStore)
    return Hooks(
        on_approved=wiring.on_approved, on_outcome=wiring.on_outcome, outcome_buttons=True,
        home_view=wiring.home_view, stats_handler=wiring.stats if sql else None,
        background=(wiring.purge_loop, wiring.digest_loop) if sql else (),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class StorageWiring:
    settings: Settings
    policy: FollowUpPolicy

    def follow_ups(self, deps: Deps) -> FollowUps:
        return FollowUps(deps.store, SlackScheduler(deps.client), deps.engine.knowledge, self.policy)

    async def on_approved(self, deps: Deps, *, draft: StoredDraft, message: StoredMessage, user: str) -> None:
        """Schedule the reminder and tell the approver, privately, when it will come."""
        strings = deps.ui(await deps.people.language(user))
        channel = draft.posted_channel or message.channel
        try:
            follow_up = await self.follow_ups(deps).on_approved(draft=draft, message=message, agent=user)
        except SchedulingFailed as exc:
            log.warning("follow-up for draft %d not scheduled: %s", draft.id, exc.reason)
            await tell(deps, channel=channel, user=user, text=strings["followup_schedule_failed"], thread_ts=message.ts)
            return
        if follow_up is None:
            return
        order = strings["followup_order"].format(order_id=draft.result.order_id) if draft.result.order_id else ""
        text = strings["followup_scheduled"].format(
            when=home.slack_time(follow_up.post_at), hours=f"{self.policy.hours:g}", order=order
        )
        await tell(deps, channel=channel, user=user, text=text, thread_ts=message.ts)

    async def on_outcome(self, deps: Deps, *, draft_id: int, outcome: str, user: str, channel: str) -> None:
        """Once per card however often it is clicked or reacted to: the first outcome closes the case."""
        await deps.once.get(f"outcome:{draft_id}", lambda: self._close(deps, draft_id, outcome, user, channel))

    async def _close(self, deps: Deps, draft_id: int, outcome: str, user: str, channel: str) -> None:
        draft = await deps.store.get_draft(draft_id)
        if draft is None or draft.posted_channel is None:
            strings = deps.ui(await deps.people.language(user))
            await tell(deps, channel=channel, user=user, text=strings["slack_error_draft_gone"])
            return
        cancelled = await self.follow_ups(deps).close(draft_id=draft_id, outcome=outcome, user=user)
        await close_card(deps, draft, outcome=outcome, user=user)
        strings = deps.ui(draft.result.agent_language)
        note = strings[f"outcome_{outcome}"].format(user=user)
        if cancelled:
            note = f"{note} {strings['outcome_reminder_cancelled']}"
        message = await deps.store.get_message(draft.message_id)
        thread_ts = message.ts if message and message.ts else str(draft.posted_ts)
        await post_in_thread(deps, channel=draft.posted_channel, thread_ts=thread_ts, text=note)

    async def stats(self, deps: Deps, *, channel: str, user: str, month: str | None, language: str) -> None:
        """`/payfix stats [YYYY-MM]`: the summary with the chart, uploaded to the channel."""
        assert isinstance(deps.store, SqlStore)
        try:
            report = await monthly_report(deps.store, knowledge=deps.engine.knowledge,
                                          timezone=self.settings.timezone, month=month, language=language)  # fmt: skip
        except PayfixError as exc:
            await tell(deps, channel=channel, user=user, text=exc.message(language))
            return
        except SQLAlchemyError:
            log.exception("/payfix stats failed")
            await tell(deps, channel=channel, user=user, text=deps.ui(language)["stats_failed"])
            return
        try:
            await deps.client.files_upload_v2(
                channel=channel, file=report.png, filename=report.filename, title=report.filename,
                initial_comment=report.text,
            )  # fmt: skip
        except SlackApiError as exc:
            log.warning("stats upload to %s failed: %s", channel, slack_error(exc))
            await tell(deps, channel=channel, user=user, text=report.text)

    async def home_view(self, deps: Deps, *, user: str, language: str) -> dict[str, Any]:
        strings = deps.ui(language)
        listed = []
        open_ones = sorted(await deps.store.open_follow_ups(agent=user), key=lambda f: f.post_at)
        for follow_up in open_ones[: home.MAX_FOLLOW_UPS]:  # the rest are only counted: one query each is enough
            draft = await deps.store.get_draft(follow_up.draft_id)
            if draft is not None:
                listed.append(home.HomeFollowUp(follow_up.channel, follow_up.post_at, draft.result.diagnosis,
                                                draft.result.order_id))  # fmt: skip
        tz = ZoneInfo(self.settings.timezone)
        store = deps.store
        window = month_window(None, tz=tz, now=store.clock() if isinstance(store, SqlStore) else datetime.now(tz))
        figures = None
        if isinstance(store, SqlStore):
            cases = await store.run(lambda s: load_cases(s, window.start, window.end))
            figures = compute(cases, month=window.label, tz=tz)
        return home.home_view(strings, follow_ups=listed, month=window.label, stats=figures,
                              tag_label=tag_label(deps.engine.knowledge, language), help_blocks=ui.help_blocks(strings),
                              more=max(0, len(open_ones) - home.MAX_FOLLOW_UPS))  # fmt: skip

    async def purge_loop(self, deps: Deps) -> None:
        assert isinstance(deps.store, SqlStore)
        await retention_loop(deps.store, self.settings)

    async def digest_loop(self, deps: Deps) -> None:
        assert isinstance(deps.store, SqlStore)

        async def post(channel: str, text: str) -> None:
            try:
                await deps.client.chat_postMessage(channel=channel, text=text, unfurl_links=False, unfurl_media=False)
            except SlackApiError as exc:
                raise digest.DeliveryFailed(slack_error(exc)) from exc

        await digest.digest_loop(deps.store, self.settings, deps.engine.knowledge, post)
