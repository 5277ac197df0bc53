"""What agents do with a draft card: approve, edit-and-approve, reject, regenerate.

Reactions and buttons end up here with the same arguments. Each decision is taken under a per-draft lock
and only on an open draft, so a double click or a ✅ plus a button never posts the final text twice.
"""

from __future__ import annotations

import logging
from typing import Literal

from slack_sdk.errors import SlackApiError

from bot.slack import ui
from bot.slack.deps import Deps
from bot.slack.drafting import post_draft
from bot.slack.notify import tell
from bot.slack.text import escape
from bot.slack.web import slack_error
from bot.store.api import StoredDraft

log = logging.getLogger("payfix.slack")
Decision = Literal["approve", "reject", "regenerate"]


async def decide(deps: Deps, *, draft_id: int, decision: Decision, user: str, channel: str) -> None:
    """Entry point for reactions and the Approve / Reject / Regenerate buttons."""
    async with deps.locks(("draft", draft_id)):
        draft = await _open_draft(deps, draft_id=draft_id, user=user, channel=channel)
        if draft is None:
            return
        if decision != "regenerate" and not await allowed(deps, user=user, channel=channel):
            return
        if decision == "approve":
            await approve(deps, draft, user=user)
        elif decision == "reject":
            await reject(deps, draft, user=user)
        else:
            await regenerate(deps, draft, user=user)


async def submit_edit(deps: Deps, *, draft_id: int, user: str, text: str) -> None:
    """The Edit modal was submitted: the text as the agent left it is the approved version."""
    async with deps.locks(("draft", draft_id)):
        draft = await deps.store.get_draft(draft_id)
        if draft is None or draft.status != "open" or draft.posted_channel is None:
            log.info("edit of draft %s ignored: %s", draft_id, draft.status if draft else "gone")
            return
        await approve(deps, draft, user=user, edited_text=text)


async def open_edit(deps: Deps, *, draft_id: int, user: str, channel: str, trigger_id: str) -> None:
    """The Edit button: a modal with the reply. Must run within Slack's 3-second trigger_id lifetime."""
    draft = await _open_draft(deps, draft_id=draft_id, user=user, channel=channel)
    if draft is None or not await allowed(deps, user=user, channel=channel):
        return
    strings = deps.ui(await deps.people.language(user))
    view = ui.edit_modal(strings, draft_id=draft.id, text=draft.result.reply)
    await deps.client.views_open(trigger_id=trigger_id, view=view)


async def allowed(deps: Deps, *, user: str, channel: str) -> bool:
    """PAYFIX_APPROVERS check; a refused user is told why, privately."""
    if await deps.people.can_approve(user):
        return True
    text = deps.ui(await deps.people.language(user))["slack_not_approver"]
    await tell(deps, channel=channel, user=user, text=text)
    return False


async def _open_draft(deps: Deps, *, draft_id: int, user: str, channel: str) -> StoredDraft | None:
    draft = await deps.store.get_draft(draft_id)
    strings = deps.ui(await deps.people.language(user))
    if draft is None or draft.posted_channel is None or draft.posted_ts is None:
        await tell(deps, channel=channel, user=user, text=strings["slack_error_draft_gone"])
        return None
    if draft.status != "open":
        text = strings["slack_already_decided"].format(status=draft.status)
        await tell(deps, channel=channel, user=user, text=text)
        return None
    return draft


async def approve(deps: Deps, draft: StoredDraft, *, user: str, edited_text: str | None = None) -> None:
    """Record, update the card, post the final text once, plain, in the thread; then the on_approved hook."""
    edited = edited_text is not None and edited_text.strip() != draft.result.reply.strip()
    decision = "edited" if edited else "approved"
    decided = await deps.store.record_decision(
        draft_id=draft.id, decision=decision, user=user, edited_text=edited_text if edited else None
    )
    message = await deps.store.get_message(draft.message_id)
    await update_card(deps, decided, status=decision, user=user, outcome_buttons=deps.hooks.outcome_buttons)
    final = decided.final_text or draft.result.reply
    thread_ts = message.ts if message else draft.posted_ts
    await deps.client.chat_postMessage(
        channel=str(draft.posted_channel), thread_ts=thread_ts, text=escape(final), mrkdwn=False, unfurl_links=False
    )
    if deps.hooks.on_approved is not None and message is not None:
        await deps.hooks.on_approved(deps, draft=decided, message=message, user=user)


async def reject(deps: Deps, draft: StoredDraft, *, user: str) -> None:
    decided = await deps.store.record_decision(draft_id=draft.id, decision="rejected", user=user)
    await update_card(deps, decided, status="rejected", user=user)


async def regenerate(deps: Deps, draft: StoredDraft, *, user: str) -> None:
    """A new version in the thread; the old card says it was superseded and loses its buttons."""
    decided = await deps.store.record_decision(draft_id=draft.id, decision="regenerated", user=user)
    message = await deps.store.get_message(draft.message_id)
    if message is None:
        return
    await update_card(deps, decided, status="regenerated", user=user)
    result = await deps.engine.draft(
        message.text, platform=message.platform, agent_language=draft.result.agent_language, force=True
    )
    await post_draft(deps, message, result)


async def update_card(deps: Deps, draft: StoredDraft, *, status: str, user: str, outcome_buttons: bool = False) -> None:
    """Re-render the card in its own language with a status line instead of the decision buttons."""
    result = draft.result
    strings = deps.ui(result.agent_language)
    label = deps.label(result.diagnosis, result.agent_language)
    blocks = ui.draft_card(
        result, ui=strings, label=label, draft_id=draft.id, version=draft.version,
        status=ui.status_line(strings, status, user), outcome_buttons=outcome_buttons,
    )  # fmt: skip
    try:
        await deps.client.chat_update(
            channel=str(draft.posted_channel), ts=str(draft.posted_ts), blocks=blocks,
            text=ui.card_fallback_text(strings, label),
        )  # fmt: skip
    except SlackApiError as exc:  # the decision is recorded; a stale card is cosmetic
        log.warning("chat.update of draft %d failed: %s", draft.id, slack_error(exc))


async def close_card(deps: Deps, draft: StoredDraft, *, outcome: str, user: str) -> None:
    """The case is closed ("paid" / "lost", for the storage issue's on_outcome hook): the card says so and
    loses its outcome buttons."""
    await update_card(deps, draft, status=outcome, user=user)
