"""Short, safe notes to agents. A note that cannot be delivered is logged, never raised: it must not turn
a finished piece of work into a failure. Slack error codes are mapped to a sentence, never shown raw."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack.deps import Deps
from bot.slack.web import slack_error

log = logging.getLogger("payfix.slack")
_CHANNEL_ERRORS = ("not_in_channel", "channel_not_found", "is_archived")


def error_text(ui: Mapping[str, str], exc: SlackApiError) -> str:
    """What the agent reads when Slack refused something: actionable when we know why, else generic."""
    return ui["slack_error_not_in_channel"] if slack_error(exc) in _CHANNEL_ERRORS else ui["slack_error_generic"]


async def tell(
    deps: Deps,
    *,
    channel: str,
    user: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    response_url: str | None = None,
) -> None:
    """An ephemeral note to one user. Falls back to the interaction's response_url when the bot cannot post
    in the channel (it has not been invited there), so the agent still gets the answer."""
    try:
        await deps.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts)
        return
    except SlackApiError as exc:
        log.warning("chat.postEphemeral in %s failed: %s", channel, slack_error(exc))
    if response_url:
        await respond(response_url, text=text, blocks=blocks)


async def respond(response_url: str, *, text: str, blocks: list[dict[str, Any]] | None = None,
                  replace_original: bool = False) -> None:  # fmt: skip
    """Answer through an interaction's response_url (works even where the bot is not a member)."""
    try:
        response = await AsyncWebhookClient(response_url).send(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=replace_original
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("response_url unreachable: %s", type(exc).__name__)
        return
    if response.status_code >= 300:
        log.warning("response_url answered %s", response.status_code)


async def post_in_thread(deps: Deps, *, channel: str, thread_ts: str, text: str) -> None:
    """A plain note in a thread (a failed draft, a duplicate link)."""
    try:
        await deps.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, unfurl_links=False)
    except SlackApiError as exc:
        log.warning("note in thread %s/%s failed: %s", channel, thread_ts, slack_error(exc))
