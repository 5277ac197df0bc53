"""`/payfix`: help, stats, and sharing a buyer message so its draft lands in a thread.

/payfix                 help (an empty command is a question, not an error)
/payfix help            help, in the agent's language
/payfix stats [YYYY-MM] the storage issue's monthly numbers, through `Hooks.stats_handler`
/payfix TEXT            the (redacted) text is posted to the channel and drafted in its thread;
                        not about payment → an ephemeral note with "Draft anyway"
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.errors import InputError
from bot.slack import ui
from bot.slack.deps import Deps
from bot.slack.drafting import record, redact_for_storage
from bot.slack.notify import error_text, respond, tell
from bot.slack.text import content_hash, escape
from bot.slack.web import slack_error
from bot.store.api import MessageIn

log = logging.getLogger("payfix.slack")
_HELP = {"", "help", "-h", "--help", "?", "帮助"}
_STATS = re.compile(r"(?i)stats(?:\s+(\S+))?")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class Invocation:
    """The fields of a slash command payload payfix uses."""

    text: str
    user: str
    channel: str
    team: str
    trigger_id: str
    response_url: str | None

    @classmethod
    def from_body(cls, body: dict[str, str]) -> Invocation:
        return cls(
            text=(body.get("text") or "").strip(), user=body["user_id"], channel=body["channel_id"],
            team=body.get("team_id", ""), trigger_id=body.get("trigger_id", ""), response_url=body.get("response_url"),
        )  # fmt: skip


async def run(deps: Deps, cmd: Invocation) -> None:
    """After the ack: route the subcommand."""
    language = await deps.people.language(cmd.user)
    strings = deps.ui(language)
    if cmd.text.lower() in _HELP:
        await tell(deps, channel=cmd.channel, user=cmd.user, text=strings["slack_help"],
                   blocks=ui.help_blocks(strings), response_url=cmd.response_url)  # fmt: skip
        return
    stats = _STATS.fullmatch(cmd.text)
    if stats:
        await _stats(deps, cmd, month=stats.group(1), language=language)
        return
    await share(deps, cmd, language=language)


async def _stats(deps: Deps, cmd: Invocation, *, month: str | None, language: str) -> None:
    strings = deps.ui(language)
    if month is not None and not _MONTH.fullmatch(month):
        await tell(deps, channel=cmd.channel, user=cmd.user, text=strings["slack_stats_bad_month"],
                   response_url=cmd.response_url)  # fmt: skip
        return
    handler = deps.hooks.stats_handler
    if handler is None:
        await tell(deps, channel=cmd.channel, user=cmd.user, text=strings["slack_stats_not_configured"],
                   response_url=cmd.response_url)  # fmt: skip
        return
    await handler(deps, channel=cmd.channel, user=cmd.user, month=month, language=language)


async def share(deps: Deps, cmd: Invocation, *, language: str) -> None:
    """Payment text → posted to the channel, drafted in its thread. Anything else → "Draft anyway"."""
    strings = deps.ui(language)
    try:
        text = redact_for_storage(deps.engine, cmd.text)
    except InputError as exc:
        note = strings["slack_error_bad_input"].format(reason=exc.message(language))
        await tell(deps, channel=cmd.channel, user=cmd.user, text=note, response_url=cmd.response_url)
        return
    key = f"cmd:{cmd.trigger_id}"
    if deps.engine.classify(text).verdict.is_payment_issue:
        await post_and_draft(deps, cmd, text=text, key=key, language=language, force=False)
        return
    row, _ = await deps.store.record_message(_message(cmd, key=key, ts="", text=text, language=language))
    await deps.store.mark_message(message_id=row.id, status="skipped")
    await tell(deps, channel=cmd.channel, user=cmd.user, text=strings["slack_not_payment"],
               blocks=ui.not_payment_blocks(strings, row.id), response_url=cmd.response_url)  # fmt: skip


async def draft_anyway(deps: Deps, *, message_id: int, user: str, response_url: str | None) -> None:
    """The "Draft anyway" button: share the stored text with `force`, once however often it is clicked."""
    await deps.once.get(f"anyway:{message_id}", lambda: _draft_anyway(deps, message_id, user, response_url))


async def _draft_anyway(deps: Deps, message_id: int, user: str, response_url: str | None) -> None:
    stored = await deps.store.get_message(message_id)
    language = await deps.people.language(user)
    strings = deps.ui(language)
    if stored is None:
        if response_url:
            await respond(response_url, text=strings["slack_error_draft_gone"], replace_original=True)
        return
    if response_url:
        await respond(response_url, text=strings["slack_drafting"], replace_original=True)
    cmd = Invocation(text=stored.text, user=user, channel=stored.channel, team=stored.team, trigger_id="",
                     response_url=response_url)  # fmt: skip
    await post_and_draft(deps, cmd, text=stored.text, key=f"anyway:{message_id}", language=language, force=True)


async def post_and_draft(deps: Deps, cmd: Invocation, *, text: str, key: str, language: str, force: bool) -> None:
    """Post the buyer text (redacted) as the thread's root, record it, and draft it like a channel paste."""
    strings = deps.ui(language)
    quoted = "\n".join(f">{escape(line)}" for line in text.splitlines())
    try:
        posted = await deps.client.chat_postMessage(
            channel=cmd.channel, text=f"{strings['slack_command_posted'].format(user=cmd.user)}\n{quoted}",
            unfurl_links=False, unfurl_media=False,
        )  # fmt: skip
    except SlackApiError as exc:
        log.warning("/payfix: posting the buyer text in %s failed: %s", cmd.channel, slack_error(exc))
        await tell(
            deps, channel=cmd.channel, user=cmd.user, text=error_text(strings, exc), response_url=cmd.response_url
        )
        return
    message = _message(cmd, key=key, ts=str(posted["ts"]), text=text, language=language, force=force)
    await record(deps, message)


def _message(cmd: Invocation, *, key: str, ts: str, text: str, language: str, force: bool = False) -> MessageIn:
    return MessageIn(
        event_key=key, team=cmd.team, channel=cmd.channel, ts=ts, user=cmd.user, text=text,
        content_hash=content_hash(text), agent_language=language, force=force,
    )  # fmt: skip
