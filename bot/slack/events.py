"""Events API handlers: parse the payload, call the flow. Only `on_message` does work before the ack
(recording the message durably); the others start background work and return at once."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.errors import InputError
from bot.slack import ui
from bot.slack.decisions import Decision, decide
from bot.slack.deps import Deps
from bot.slack.drafting import record, redact_for_storage
from bot.slack.text import content_hash
from bot.slack.web import slack_error
from bot.store.api import MessageIn

log = logging.getLogger("payfix.slack")
REACTIONS: dict[str, Decision] = {
    "white_check_mark": "approve", "heavy_check_mark": "approve", "ballot_box_with_check": "approve",
    "x": "reject", "negative_squared_cross_mark": "reject",
    "arrows_counterclockwise": "regenerate", "repeat": "regenerate",
}  # fmt: skip
OUTCOMES = {"moneybag": "paid", "wastebasket": "lost"}  # handled by Hooks.on_outcome (storage issue)


def accepts(event: dict[str, Any], settings: Settings) -> bool:
    """A top-level message from a human, in an allowed channel — or from a bot listed in PAYFIX_ALLOWED_BOTS
    (integrations forward buyer messages). Edits, deletions, joins, thread replies and other subtypes: no."""
    if settings.channels and event.get("channel") not in settings.channels:
        return False
    if event.get("thread_ts") not in (None, event.get("ts")):
        return False
    subtype = event.get("subtype")
    bot_id = event.get("bot_id")
    if subtype is None and bot_id is None:
        return bool(event.get("user")) and bool(event.get("text"))
    if subtype not in (None, "bot_message"):
        return False
    allowed = settings.allowed_bots
    return bool(event.get("text")) and (bot_id in allowed or event.get("user") in allowed)


async def on_message(deps: Deps, body: dict[str, Any]) -> None:
    """Ack phase: redact and record before Slack hears back, so an acknowledged message is never lost."""
    event = body.get("event") or {}
    if not accepts(event, deps.settings):
        return
    try:
        text = redact_for_storage(deps.engine, event["text"])
    except InputError as exc:
        log.info("message %s ignored: %s", event.get("ts"), exc.en)
        return
    message = MessageIn(
        event_key=str(body.get("event_id") or f"msg:{event['channel']}:{event['ts']}"),
        team=str(body.get("team_id") or event.get("team") or ""),
        channel=event["channel"], ts=event["ts"], user=str(event.get("user") or event.get("bot_id")),
        text=text, content_hash=content_hash(text), agent_language=deps.settings.agent_language,
    )  # fmt: skip
    await record(deps, message)


def on_reaction(deps: Deps, event: dict[str, Any]) -> None:
    """✅ ❌ 🔄 on a draft card: the same decisions as the buttons; 💰 🗑 the outcome (when the storage hooks
    are installed). Other emoji, and reactions on other messages: nothing."""
    item = event.get("item") or {}
    emoji = str(event.get("reaction", "")).split("::")[0]
    if item.get("type") != "message" or not event.get("user"):
        return
    if emoji in REACTIONS or (emoji in OUTCOMES and deps.hooks.on_outcome is not None):
        deps.tasks.spawn(
            _react(deps, channel=item["channel"], ts=item["ts"], user=event["user"], emoji=emoji),
            name=f"reaction:{item['ts']}",
        )


async def _react(deps: Deps, *, channel: str, ts: str, user: str, emoji: str) -> None:
    draft = await deps.store.get_draft_by_post(channel=channel, ts=ts)
    if draft is None:
        return
    if emoji in REACTIONS:
        await decide(deps, draft_id=draft.id, decision=REACTIONS[emoji], user=user, channel=channel)
    elif deps.hooks.on_outcome is not None:
        await deps.hooks.on_outcome(deps, draft_id=draft.id, outcome=OUTCOMES[emoji], user=user, channel=channel)


def on_home_opened(deps: Deps, event: dict[str, Any]) -> None:
    if event.get("tab") == "home" and event.get("user"):
        deps.tasks.spawn(_publish_home(deps, event["user"]), name=f"home:{event['user']}")


async def _publish_home(deps: Deps, user: str) -> None:
    language = await deps.people.language(user)
    custom = deps.hooks.home_view
    view = await custom(deps, user=user, language=language) if custom else ui.home_view(deps.ui(language))
    try:
        await deps.client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        log.warning("views.publish for %s failed: %s", user, slack_error(exc))
