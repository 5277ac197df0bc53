"""Channel pastes: a payment message gets :eyes: and a card in its thread; everything else gets nothing."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import respx
from slack_fakes import BOT_ID, FakeSlack, message_event
from slack_harness import Running, StartApp

from bot.slack import ui

PAYMENT = "Hi, my Visa keeps getting declined at checkout for order 112-3456789-1234567. I have money on it!"
NOT_PAYMENT = "I already paid, when will my parcel be shipped?"


async def test_paste_gets_eyes_then_a_draft_card_in_its_thread(
    running: Running, slack_api: FakeSlack, llm_api: respx.MockRouter
) -> None:
    status, _ = await running.slack.event(message_event(PAYMENT, ts="1700000001.000100"))
    assert status == 200
    card = (await slack_api.wait_for(lambda: slack_api.cards(thread_ts="1700000001.000100")))[0]
    assert slack_api.of("reactions.add", name="eyes", timestamp="1700000001.000100", channel="CPAY")
    assert card.args["channel"] == "CPAY" and "Card declined by issuer" in card.block_text
    assert "Please call your bank" in card.block_text and "card_declined#advise" in card.block_text
    assert ui.ACTION_APPROVE in card.block_text and "gpt-test" in card.block_text
    assert llm_api["chat"].call_count == 1
    sent = llm_api["chat"].calls.last.request.content.decode()
    assert "112-3456789-1234567" in sent  # order ids survive redaction
    (eyes,) = slack_api.of("reactions.add")
    assert eyes.at < card.at  # "being worked on" shows before the draft
    await slack_api.wait_for(lambda: running.store._messages[1].status == "drafted")
    (stored,) = running.store._drafts.values()
    assert stored.posted_channel == "CPAY" and stored.posted_ts and stored.version == 1
    assert await running.store.get_draft_by_post(channel="CPAY", ts=stored.posted_ts) == stored


async def test_card_numbers_are_redacted_before_anything_is_stored_or_sent(
    running: Running, slack_api: FakeSlack, llm_api: respx.MockRouter
) -> None:
    text = "Payment failed, my card was declined. Card 4111 1111 1111 1111 cvv 123"
    await running.slack.event(message_event(text, ts="1700000001.000200"))
    await slack_api.wait_for(lambda: slack_api.cards())
    (stored,) = running.store._messages.values()
    assert "4111" not in stored.text and "[CARD]" in stored.text
    assert "4111" not in llm_api["chat"].calls.last.request.content.decode()


async def test_not_payment_means_no_llm_request_and_no_post(
    running: Running, slack_api: FakeSlack, llm_api: respx.MockRouter
) -> None:
    status, _ = await running.slack.event(message_event(NOT_PAYMENT, ts="1700000002.000100"))
    assert status == 200
    await slack_api.wait_for(lambda: running.store._messages[1].status == "skipped")
    assert llm_api["chat"].call_count == 0
    assert not slack_api.of("chat.postMessage") and not slack_api.of("reactions.add")


async def test_slack_retries_of_one_event_make_one_draft(
    running: Running, slack_api: FakeSlack, llm_api: respx.MockRouter
) -> None:
    event = message_event(PAYMENT, ts="1700000003.000100")
    statuses = [(await running.slack.event(event, event_id="EvRETRY"))[0]]
    statuses += [(await running.slack.event(event, event_id="EvRETRY", retry_num=n))[0] for n in (1, 2)]
    assert statuses == [200, 200, 200]
    await slack_api.wait_for(lambda: running.store._messages[1].status == "drafted")
    await asyncio.sleep(0)  # let any (wrongly) started second draft reach the LLM mock
    assert len(slack_api.cards()) == 1 and llm_api["chat"].call_count == 1 and len(running.store._messages) == 1


async def test_the_same_paste_within_an_hour_links_the_first_draft(
    running: Running, slack_api: FakeSlack, llm_api: respx.MockRouter
) -> None:
    await running.slack.event(message_event(PAYMENT, ts="1700000004.000100"))
    await slack_api.wait_for(lambda: slack_api.cards())
    await slack_api.wait_for(lambda: running.store._messages[1].status == "drafted")
    await running.slack.event(message_event("  " + PAYMENT.upper() + " ", ts="1700000005.000100"))
    note = await slack_api.wait_for(lambda: slack_api.of("chat.postMessage", thread_ts="1700000005.000100"))
    assert (
        "see the first draft" in note[0].args["text"]
        and "https://test.slack.com/archives/CPAY/" in note[0].args["text"]
    )
    assert slack_api.of("chat.getPermalink", channel="CPAY")
    assert llm_api["chat"].call_count == 1 and len(slack_api.cards()) == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
        {"thread_ts": "1700000000.000001"},
        {"bot_id": "BOTHER", "subtype": "bot_message"},
        {"bot_id": BOT_ID},
    ],
    ids=["edit", "delete", "join", "thread-reply", "other-bot", "payfix-itself"],
)
async def test_ignored_messages(running: Running, slack_api: FakeSlack, extra: dict[str, str]) -> None:
    status, _ = await running.slack.event(message_event(PAYMENT, ts="1700000006.000100", **extra))
    assert status == 200
    assert running.store._messages == {}  # nothing recorded, so nothing can ever be drafted
    assert not slack_api.of("chat.postMessage")


async def test_bots_listed_in_allowed_bots_are_drafted(start_app: StartApp, slack_api: FakeSlack) -> None:
    async with start_app({"PAYFIX_ALLOWED_BOTS": "BZENDESK", "PAYFIX_CHANNELS": "CPAY"}) as app:
        forwarded = message_event(PAYMENT, ts="1700000007.000100", bot_id="BZENDESK", subtype="bot_message")
        await app.slack.event(forwarded)
        await slack_api.wait_for(lambda: slack_api.cards(thread_ts="1700000007.000100"))
        await app.slack.event(message_event(PAYMENT, ts="1700000008.000100", channel="COTHER"))
        assert len(app.store._messages) == 1  # PAYFIX_CHANNELS keeps other channels out


async def test_openai_down_gives_a_fallback_card(
    running: Running, slack_api: FakeSlack, llm_api: respx.MockRouter
) -> None:
    llm_api["chat"].mock(return_value=httpx.Response(500, json={"error": {"message": "boom"}}))
    await running.slack.event(message_event(PAYMENT, ts="1700000009.000100"))
    card = (await slack_api.wait_for(lambda: slack_api.cards(thread_ts="1700000009.000100")))[0]
    assert "fallback" in card.block_text and "http_500" in card.block_text
    assert ui.ACTION_APPROVE in card.block_text and "```" in card.block_text  # still a usable draft
    assert llm_api["chat"].call_count == 2  # retried (bounded), then fell back


async def test_slack_429_on_post_message_is_retried_and_the_draft_appears(
    running: Running, slack_api: FakeSlack
) -> None:
    slack_api.throttle("chat.postMessage", times=1, retry_after=1)
    await running.slack.event(message_event(PAYMENT, ts="1700000010.000100"))
    card = (await slack_api.wait_for(lambda: slack_api.cards(thread_ts="1700000010.000100"), timeout=8))[0]
    attempts = slack_api.of("chat.postMessage", thread_ts="1700000010.000100")
    assert [a.status for a in attempts] == [429, 200] and card is attempts[1]
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After respected
    # the card's ts reaches the store after Slack answered: wait for it rather than race it
    await slack_api.wait_for(lambda: [d for d in running.store._drafts.values() if d.posted_ts])
    assert len(running.store._drafts) == 1


async def test_app_home_shows_help_in_the_agents_language(running: Running, slack_api: FakeSlack) -> None:
    slack_api.locales["UZH"] = "zh-CN"
    await running.slack.event({"type": "app_home_opened", "user": "UZH", "tab": "home", "channel": "D1"})
    (published,) = await slack_api.wait_for(lambda: slack_api.of("views.publish", user_id="UZH"))
    assert published.args["view"]["type"] == "home" and "为付款受阻的买家起草回复" in json.dumps(
        published.args["view"], ensure_ascii=False
    )
