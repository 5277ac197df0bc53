"""Approve, reject, regenerate and edit — by reaction and by button — and who may do it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from slack_fakes import BOT_USER, REPLY, FakeSlack, message_event
from slack_harness import Running, StartApp

from bot.slack import ui
from bot.slack.decisions import close_card
from bot.slack.deps import Deps, Hooks
from bot.store.api import StoredDraft, StoredMessage

PAYMENT = "Hi, my Visa keeps getting declined at checkout for order 112-3456789-1234567. I have money on it!"
BUYER_TS = "1700000100.000100"


async def paste_and_wait(running: Running, slack_api: FakeSlack, *, ts: str = BUYER_TS) -> StoredDraft:
    await running.slack.event(message_event(PAYMENT, ts=ts))
    await slack_api.wait_for(lambda: slack_api.cards(thread_ts=ts))
    return await slack_api.wait_for(lambda: next((d for d in running.store._drafts.values() if d.posted_ts), None))


def reaction(emoji: str, draft: StoredDraft, *, user: str = "UAGENT") -> dict[str, Any]:
    return {"type": "reaction_added", "user": user, "reaction": emoji, "item_user": BOT_USER,
            "item": {"type": "message", "channel": draft.posted_channel, "ts": draft.posted_ts},
            "event_ts": "1700000200.000100"}  # fmt: skip


def final_posts(slack_api: FakeSlack) -> list[Any]:
    """Plain (block-less) posts in the buyer thread: the final text for copying."""
    return [c for c in slack_api.of("chat.postMessage", thread_ts=BUYER_TS) if not c.blocks]


@pytest.mark.parametrize("by", ["reaction", "button"])
async def test_approve_updates_the_card_and_posts_the_final_text_once(
    running: Running, slack_api: FakeSlack, by: str
) -> None:
    draft = await paste_and_wait(running, slack_api)
    for _ in range(2):  # the second approval must change nothing
        if by == "reaction":
            await running.slack.event(reaction("white_check_mark", draft))
        else:
            await running.slack.click(ui.ACTION_APPROVE, str(draft.id))
        await slack_api.wait_for(lambda: final_posts(slack_api))
    update = (await slack_api.wait_for(lambda: slack_api.of("chat.update", ts=draft.posted_ts)))[0]
    assert "Approved by <@UAGENT>" in update.block_text and ui.ACTION_APPROVE not in update.block_text
    await slack_api.wait_for(lambda: slack_api.of("chat.postEphemeral", user="UAGENT"))  # "already closed"
    (final,) = final_posts(slack_api)
    assert final.args["text"] == REPLY and final.args["mrkdwn"] is False
    stored = running.store._drafts[draft.id]
    assert stored.status == "approved" and stored.decided_by == "UAGENT" and stored.final_text == REPLY
    assert [(d.decision, d.user) for d in running.store.decisions] == [("approved", "UAGENT")]


@pytest.mark.parametrize("by", ["reaction", "button"])
async def test_reject(running: Running, slack_api: FakeSlack, by: str) -> None:
    draft = await paste_and_wait(running, slack_api)
    if by == "reaction":
        await running.slack.event(reaction("x", draft))
    else:
        await running.slack.click(ui.ACTION_REJECT, str(draft.id))
    update = (await slack_api.wait_for(lambda: slack_api.of("chat.update", ts=draft.posted_ts)))[0]
    assert "Rejected by <@UAGENT>" in update.block_text
    assert running.store._drafts[draft.id].status == "rejected" and not final_posts(slack_api)


@pytest.mark.parametrize("by", ["reaction", "button"])
async def test_regenerate_posts_a_new_version_and_supersedes_the_old(
    running: Running, slack_api: FakeSlack, llm_api: respx.MockRouter, by: str
) -> None:
    draft = await paste_and_wait(running, slack_api)
    if by == "reaction":
        await running.slack.event(reaction("arrows_counterclockwise", draft))
    else:
        await running.slack.click(ui.ACTION_REGENERATE, str(draft.id))
    cards = await slack_api.wait_for(lambda: len(slack_api.cards(thread_ts=BUYER_TS)) == 2 and slack_api.cards())
    assert "Version 2" in cards[1].block_text and ui.ACTION_APPROVE in cards[1].block_text
    update = (await slack_api.wait_for(lambda: slack_api.of("chat.update", ts=draft.posted_ts)))[0]
    assert "Superseded" in update.block_text and ui.ACTION_APPROVE not in update.block_text
    assert llm_api["chat"].call_count == 2
    versions = sorted((d.version, d.status) for d in running.store._drafts.values())
    assert versions == [(1, "superseded"), (2, "open")]


async def test_edit_opens_a_modal_and_its_submission_approves_the_edited_text(
    running: Running, slack_api: FakeSlack
) -> None:
    draft = await paste_and_wait(running, slack_api)
    await running.slack.click(ui.ACTION_EDIT, str(draft.id))
    opened = (await slack_api.wait_for(lambda: slack_api.of("views.open")))[0]
    view = opened.args["view"]
    assert opened.args["trigger_id"].startswith("trig.") and view["callback_id"] == ui.EDIT_VIEW
    assert view["blocks"][0]["element"]["initial_value"] == REPLY
    edited = REPLY.replace("Please call", "Please phone")
    status, body = await running.slack.submit_view(
        ui.EDIT_VIEW, private_metadata=view["private_metadata"],
        values={ui.EDIT_BLOCK: {ui.EDIT_INPUT: {"type": "plain_text_input", "value": edited}}},
    )  # fmt: skip
    assert status == 200 and body == ""  # the modal closes
    (final,) = await slack_api.wait_for(lambda: final_posts(slack_api))
    assert final.args["text"] == edited
    update = slack_api.of("chat.update", ts=draft.posted_ts)[0]
    assert "Approved with edits by <@UAGENT>" in update.block_text
    stored = running.store._drafts[draft.id]
    assert stored.status == "approved" and stored.final_text == edited
    assert [(d.decision, d.edited_text) for d in running.store.decisions] == [("edited", edited)]


async def test_only_approvers_and_their_user_groups_may_decide(start_app: StartApp, slack_api: FakeSlack) -> None:
    slack_api.groups["SPAYTEAM"] = ["UMEMBER"]
    async with start_app({"PAYFIX_APPROVERS": "ULEAD,SPAYTEAM"}) as running:
        draft = await paste_and_wait(running, slack_api)
        await running.slack.event(reaction("white_check_mark", draft, user="UAGENT"))
        refusal = (await slack_api.wait_for(lambda: slack_api.of("chat.postEphemeral", user="UAGENT")))[0]
        assert "Only the configured approvers" in refusal.args["text"]
        assert running.store._drafts[draft.id].status == "open" and not slack_api.of("chat.update")
        status, body = await running.slack.submit_view(
            ui.EDIT_VIEW, private_metadata=str(draft.id), user="UAGENT",
            values={ui.EDIT_BLOCK: {ui.EDIT_INPUT: {"type": "plain_text_input", "value": "x"}}},
        )  # fmt: skip
        assert status == 200 and json.loads(body)["response_action"] == "errors"
        await running.slack.click(ui.ACTION_REJECT, str(draft.id), user="UMEMBER")
        await slack_api.wait_for(lambda: slack_api.of("chat.update", ts=draft.posted_ts))
        assert running.store._drafts[draft.id].decided_by == "UMEMBER"
        assert slack_api.of("usergroups.users.list", usergroup="SPAYTEAM")


async def test_on_approved_hook_runs_once_with_the_decision(start_app: StartApp, slack_api: FakeSlack) -> None:
    seen: list[tuple[int, str, str, str]] = []

    async def on_approved(deps: Deps, *, draft: StoredDraft, message: StoredMessage, user: str) -> None:
        seen.append((draft.id, draft.status, message.ts, user))

    async with start_app(hooks=Hooks(on_approved=on_approved, outcome_buttons=True)) as running:
        draft = await paste_and_wait(running, slack_api)
        await running.slack.event(reaction("white_check_mark", draft))
        await running.slack.event(reaction("heavy_check_mark", draft))
        await slack_api.wait_for(lambda: seen)
        update = slack_api.of("chat.update", ts=draft.posted_ts)[0]
        assert ui.ACTION_PAID in update.block_text and ui.ACTION_LOST in update.block_text
        await slack_api.wait_for(lambda: len(slack_api.of("chat.postEphemeral")) == 1)
    assert seen == [(draft.id, "approved", BUYER_TS, "UAGENT")]


async def test_cards_follow_the_agents_slack_locale(running: Running, slack_api: FakeSlack) -> None:
    slack_api.locales["UAGENT"] = "zh-CN"
    draft = await paste_and_wait(running, slack_api)
    card = slack_api.cards()[0]
    assert "发卡行拒绝" in card.block_text and "通过" in card.block_text
    await running.slack.event(reaction("x", draft, user="UOTHER"))
    update = (await slack_api.wait_for(lambda: slack_api.of("chat.update", ts=draft.posted_ts)))[0]
    assert "已由 <@UOTHER> 拒绝" in update.block_text  # the card keeps its language
    assert len(slack_api.of("users.info", user="UAGENT")) == 1  # cached


async def test_other_reactions_and_other_messages_are_ignored(running: Running, slack_api: FakeSlack) -> None:
    draft = await paste_and_wait(running, slack_api)
    await running.slack.event(reaction("tada", draft))
    other = reaction("white_check_mark", draft) | {"item": {"type": "message", "channel": "CPAY", "ts": BUYER_TS}}
    await running.slack.event(other)
    await running.slack.event(reaction("x", draft))  # a marker: once this is handled, the others were too
    await slack_api.wait_for(lambda: slack_api.of("chat.update"))
    assert running.store._drafts[draft.id].status == "rejected" and len(running.store.decisions) == 1


async def test_outcome_buttons_and_reactions_reach_the_storage_hook(start_app: StartApp, slack_api: FakeSlack) -> None:
    outcomes: list[tuple[int, str, str]] = []

    async def on_outcome(deps: Deps, *, draft_id: int, outcome: str, user: str, channel: str) -> None:
        outcomes.append((draft_id, outcome, user))
        draft = await deps.store.get_draft(draft_id)
        assert draft is not None
        await close_card(deps, draft, outcome=outcome, user=user)

    async with start_app(hooks=Hooks(on_outcome=on_outcome, outcome_buttons=True)) as running:
        draft = await paste_and_wait(running, slack_api)
        await running.slack.click(ui.ACTION_PAID, str(draft.id), user="U1")
        await running.slack.event(reaction("wastebasket", draft, user="U2"))
        await slack_api.wait_for(lambda: len(outcomes) == 2)
        closed = await slack_api.wait_for(lambda: len(slack_api.of("chat.update")) == 2 and slack_api.of("chat.update"))
    assert sorted(outcomes) == [(draft.id, "lost", "U2"), (draft.id, "paid", "U1")]
    assert any("Buyer paid — case closed by <@U1>" in c.block_text for c in closed)
    assert all(ui.ACTION_PAID not in c.block_text for c in closed)
