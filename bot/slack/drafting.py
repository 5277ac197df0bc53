"""The durable drafting flow: record before the ack, draft after it, and sweep up what a crash left behind.

ack phase   redact → store.record_message (idempotent on the Slack event id; leased to this worker) → HTTP 200
background  prefilter → duplicate? → :eyes: → engine.draft → save_draft → card in thread
            → set_posted + mark drafted (one write)
sweeper     claim_pending every few seconds and at start-up: messages recorded but never drafted
            (a crash after the ack, a lease that expired on another replica) are drafted then.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError

from bot.errors import PayfixError
from bot.intake import clean
from bot.models import DraftResult
from bot.pipeline import Engine
from bot.slack import ui
from bot.slack.deps import Deps
from bot.slack.notify import post_in_thread
from bot.slack.web import slack_error
from bot.store.api import Claim, MessageIn, StoredDraft, StoredMessage

log = logging.getLogger("payfix.slack")
_SLACK_MARKUP = re.compile(r"<(?:[^|>]*\|)?([^>]*)>")
_EYES = "eyes"


def redact_for_storage(engine: Engine, slack_text: str) -> str:
    """Slack markup undone (<url|label>, &amp;), then cleaned and redacted, untruncated: the engine truncates
    at draft time and says so on the card. Raises InputError for empty or junk text."""
    plain = _SLACK_MARKUP.sub(lambda m: m.group(1).removeprefix("mailto:").removeprefix("tel:"), slack_text)
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text, _ = clean(plain, max_chars=max(len(plain), 1))
    return engine.redactor.redact(text).text


async def record(deps: Deps, message: MessageIn) -> StoredMessage | None:
    """The ack-phase step: store first, then start drafting. A redelivery (same event id) starts nothing."""
    claim = Claim(worker=deps.worker_id, lease_s=deps.timing.lease_s)
    row, created = await deps.store.record_message(message, claim=claim)
    if not created:
        log.info(
            "event %s already recorded (message %d, %s): redelivery ignored", message.event_key, row.id, row.status
        )
        return None
    start(deps, row.id, claimed=row)  # leased to us in the same write: no claim transaction
    return row


def start(deps: Deps, message_id: int, claimed: StoredMessage | None = None) -> None:
    """Draft in the background, once per message per process (the store's lease covers other replicas)."""
    if message_id in deps.inflight:
        return
    deps.inflight.add(message_id)
    deps.tasks.spawn(_run(deps, message_id, claimed), name=f"draft:{message_id}")


async def _run(deps: Deps, message_id: int, claimed: StoredMessage | None) -> None:
    try:
        await deps.ingress.lull()  # acks first: let a burst of events be acknowledged before drafting
        message = claimed or await deps.store.claim_message(
            message_id=message_id, worker=deps.worker_id, lease_s=deps.timing.lease_s
        )
        if message is not None:
            await draft_message(deps, message)
    finally:
        deps.inflight.discard(message_id)


async def draft_message(deps: Deps, message: StoredMessage) -> None:
    """Draft one claimed message and set its terminal status. Failures are logged in full and the agent
    gets one short line in the thread; the message is marked failed, not retried in a loop."""
    try:
        status = await _draft(deps, message)
    except SlackApiError as exc:
        log.warning("message %d: Slack refused %s", message.id, slack_error(exc))
        status = "failed"
    except Exception:  # anything else is a bug: full traceback to the log, a safe line to the agent
        log.exception("message %d: drafting failed", message.id)
        status = "failed"
    if status == "failed" and message.ts:
        language = await deps.people.language(message.user)
        text = deps.ui(language)["slack_error_draft_failed"]
        await post_in_thread(deps, channel=message.channel, thread_ts=message.ts, text=text)
    if status != "drafted":  # a drafted message was marked with its card's position (post_draft)
        await deps.store.mark_message(message_id=message.id, status=status)


async def _draft(deps: Deps, message: StoredMessage) -> str:
    # The engine's LLM-free verdict on the stored (clean, redacted) text decides the :eyes: before any LLM
    # call. Language detection is part of it: a message in a language payfix has no rules for is passed on.
    classified = deps.engine.classify(message.text, platform=message.platform)
    payment = classified.verdict.is_payment_issue
    if not message.force and (not payment or (message.maybe_duplicate and await _link_duplicate(deps, message))):
        return "skipped"
    deps.tasks.spawn(_react(deps, message), name=f"eyes:{message.id}")
    language = message.agent_language or await deps.people.language(message.user)
    result = await deps.engine.draft(
        message.text, platform=message.platform, agent_language=language, force=message.force, classified=classified
    )
    if result.source == "prefilter":
        return "skipped"
    await post_draft(deps, message, result, mark="drafted")
    return "drafted"


async def post_draft(
    deps: Deps, message: StoredMessage, result: DraftResult, *, mark: str | None = None
) -> StoredDraft:
    """Save the next version, post its card in the message's thread, remember where the card is (and, with
    `mark`, the message's terminal status in the same write)."""
    draft = await deps.store.save_draft(message_id=message.id, result=result)
    strings = deps.ui(result.agent_language)
    label = deps.label(result.diagnosis, result.agent_language)
    blocks = ui.draft_card(result, ui=strings, label=label, draft_id=draft.id, version=draft.version)
    posted = await deps.client.chat_postMessage(
        channel=message.channel, thread_ts=message.ts, blocks=blocks, text=ui.card_fallback_text(strings, label),
        unfurl_links=False, unfurl_media=False,
    )  # fmt: skip
    await deps.store.set_posted(draft_id=draft.id, channel=str(posted["channel"]), ts=str(posted["ts"]), mark=mark)
    return draft


async def _react(deps: Deps, message: StoredMessage) -> None:
    """:eyes: on the buyer message: being worked on. Cosmetic, so a failure is only logged."""
    try:
        await deps.client.reactions_add(channel=message.channel, timestamp=message.ts, name=_EYES)
    except SlackApiError as exc:
        if slack_error(exc) != "already_reacted":
            log.warning("reactions.add on %s failed: %s", message.ts, slack_error(exc))


async def _link_duplicate(deps: Deps, message: StoredMessage) -> bool:
    """The same buyer text in the same channel within the window: link the first draft, no LLM call."""
    first = await deps.store.find_recent_duplicate(
        channel=message.channel, content_hash=message.content_hash,
        within_s=deps.timing.duplicate_window_s, exclude_id=message.id,
    )  # fmt: skip
    if first is None or first.posted_ts is None or first.posted_channel is None:
        return False
    try:
        link = await deps.client.chat_getPermalink(channel=first.posted_channel, message_ts=first.posted_ts)
        url = str(link["permalink"])
    except SlackApiError as exc:
        log.warning("chat.getPermalink failed: %s", slack_error(exc))
        url = ""
    strings = deps.ui(await deps.people.language(message.user))
    minutes = max(1, int((datetime.now(UTC) - first.created_at).total_seconds() // 60))
    target = f"<{url}|{strings['slack_duplicate_link']}>" if url else strings["slack_duplicate_link"]
    text = strings["slack_duplicate"].format(minutes=minutes, link=target)
    await post_in_thread(deps, channel=message.channel, thread_ts=message.ts, text=text)
    return True


async def sweep_once(deps: Deps) -> int:
    """Claim what nobody is drafting (never drafted, or a dead worker's expired lease) and draft it."""
    claimed = await deps.store.claim_pending(
        worker=deps.worker_id, limit=deps.timing.sweep_batch, lease_s=deps.timing.lease_s
    )
    fresh = [m for m in claimed if m.id not in deps.inflight]
    for message in fresh:
        start(deps, message.id, claimed=message)
    if fresh:
        log.info("sweeper picked up %d message(s)", len(fresh))
    return len(fresh)


async def sweep_forever(deps: Deps) -> None:
    """Runs for the life of the app: once at start-up, then every `sweep_interval_s`."""
    while True:
        try:
            await sweep_once(deps)
        except PayfixError as exc:
            log.warning("sweep failed: %s", exc.en)
        except Exception:  # a store outage must not end the sweeper: log and try again next interval
            log.exception("sweep failed")
        await asyncio.sleep(deps.timing.sweep_interval_s)
