"""The storage features end to end through `payfix serve` (a real process, signed requests, fake Slack and
OpenAI over HTTP): approval schedules the reminder with chat.scheduleMessage, the App Home lists it, "Buyer paid"
cancels it with chat.deleteScheduledMessage and records the outcome, and `/payfix stats` uploads the chart."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
from serve_harness import FakeOpenAI, FakeSlack, Serve, SignedClient, message_event, serve_env, wait_for
from sqlalchemy import select

from bot.slack import ui
from bot.store.engine import make_engine
from bot.store.schema import FollowUpRow, MessageRow, OutcomeRow

ORDER = "112-3456789-1234567"
BUYER = f"Please hold my order {ORDER}, I will pay on Friday when my salary arrives. Payment pending for now."
THREAD = "1700000500.000100"


def button_value(blocks: list[dict[str, object]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements") or []:  # type: ignore[attr-defined]
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button on the card")


def message_status(database_url: str, ts: str = THREAD) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(MessageRow.status).where(MessageRow.ts == ts))
    finally:
        engine.dispose()


def rows(database_url: str) -> tuple[list[tuple[str, str | None]], list[str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            follow_ups = [(r.status, r.scheduled_message_id) for r in connection.execute(select(FollowUpRow))]
            outcomes = list(connection.scalars(select(OutcomeRow.outcome).order_by(OutcomeRow.id)).all())
            return follow_ups, outcomes
    finally:
        engine.dispose()


async def test_follow_up_outcome_home_and_stats_through_the_slack_app(
    database_url: str, fake_slack: FakeSlack, fake_openai: FakeOpenAI, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    fake_openai.answer["diagnosis"] = "pending_payment_order"  # waits on the buyer: a reminder is due
    app = Serve(serve_env(slack=fake_slack, openai=fake_openai, database_url=database_url), tmp_path / "serve.log")
    signed = SignedClient(http)
    await app.start(http)
    try:
        assert await signed.event(app.events_url, message_event(BUYER, ts=THREAD), event_id="EvW1") == 200
        (card,) = await wait_for(fake_slack.cards, timeout=30, what="the draft card")
        draft_id = button_value(card.args["blocks"], ui.ACTION_APPROVE)
        await wait_for(lambda: message_status(database_url) == "drafted", timeout=10,
                       what="the card's position stored (an agent cannot click faster than that)")  # fmt: skip

        approved_at = time.time()
        assert await signed.click(app.events_url, ui.ACTION_APPROVE, draft_id, user="UAPPROVER", channel="CPAY") == 200
        (scheduled,) = await wait_for(lambda: fake_slack.of("chat.scheduleMessage"), timeout=15, what="the reminder")
        args = scheduled.args
        assert args["channel"] == "CPAY" and args["thread_ts"] == THREAD
        assert abs(int(args["post_at"]) - (approved_at + 24 * 3600)) < 60
        assert "<@UAPPROVER>" in args["text"] and ORDER in args["text"]
        note = await wait_for(lambda: [c for c in fake_slack.of("chat.postEphemeral", user="UAPPROVER")
                                       if "follow-up reminder will be posted" in str(c.args.get("text"))],
                              timeout=10, what="the approver's note")  # fmt: skip
        assert note[0].args["thread_ts"] == THREAD
        reminder_id = scheduled.answer["scheduled_message_id"]
        assert rows(database_url)[0] == [("scheduled", reminder_id)]

        home_event = {"type": "app_home_opened", "user": "UAPPROVER", "channel": "DHOME", "tab": "home"}
        assert await signed.event(app.events_url, home_event, event_id="EvW2") == 200
        (home,) = await wait_for(lambda: fake_slack.of("views.publish", user_id="UAPPROVER"), timeout=10,
                                 what="the App Home")  # fmt: skip
        home_text = str(home.args["view"])
        assert "Your open follow-ups" in home_text and f"for order {ORDER}" in home_text and "Cases 1" in home_text

        assert await signed.click(app.events_url, ui.ACTION_PAID, draft_id, user="UAGENT", channel="CPAY") == 200
        (deleted,) = await wait_for(lambda: fake_slack.of("chat.deleteScheduledMessage"), timeout=10,
                                    what="the reminder cancelled")  # fmt: skip
        assert deleted.args["scheduled_message_id"] == reminder_id
        await wait_for(lambda: fake_slack.of("chat.postMessage", thread_ts=THREAD, text=(
            "💰 <@UAGENT> closed this case: the buyer paid. The follow-up reminder is cancelled.")), timeout=10,
            what="the closing note")  # fmt: skip
        assert rows(database_url) == ([("cancelled", reminder_id)], ["paid"])

        assert await signed.command(app.events_url, "stats", user="UAGENT", channel="CPAY") == 200
        (upload,) = await wait_for(lambda: fake_slack.of("files.completeUploadExternal"), timeout=30,
                                   what="the stats upload")  # fmt: skip
        comment = str(upload.args["initial_comment"])
        assert "Cases drafted: 1" in comment and "Rescue rate: 100% (buyer paid in 1 of 1 closed cases)" in comment
        assert any(b"\x89PNG\r\n\x1a\n" in body for body in fake_slack.uploads)

        # a second case, closed with a reaction on its card instead of the button
        second = f"Order {ORDER[:-1]}8 is pending payment, I will pay tomorrow after payday, please keep it."
        assert await signed.event(app.events_url, message_event(second, ts="1700000600.000100"), event_id="EvW3") == 200
        card2 = (await wait_for(lambda: fake_slack.cards()[1:], timeout=30, what="the second card"))[0]
        await wait_for(lambda: message_status(database_url, "1700000600.000100") == "drafted", timeout=10,
                       what="the second card stored")  # fmt: skip
        draft2 = button_value(card2.args["blocks"], ui.ACTION_APPROVE)
        assert await signed.click(app.events_url, ui.ACTION_APPROVE, draft2, user="UAPPROVER", channel="CPAY") == 200
        await wait_for(lambda: fake_slack.of("chat.scheduleMessage")[1:], timeout=15, what="the second reminder")
        item = {"type": "message", "channel": "CPAY", "ts": card2.answer["ts"]}
        reaction = {"type": "reaction_added", "user": "UAGENT", "reaction": "wastebasket", "item": item}
        assert await signed.event(app.events_url, reaction, event_id="EvW4") == 200
        await wait_for(lambda: fake_slack.of("chat.deleteScheduledMessage")[1:], timeout=10,
                       what="the second reminder cancelled by :wastebasket:")  # fmt: skip
        await wait_for(lambda: rows(database_url)[1] == ["paid", "lost"], timeout=10, what="the outcome 'lost'")
    finally:
        app.stop()

