"""/payfix: share-and-draft, "Draft anyway", help, stats — acknowledged before any slow work."""

from __future__ import annotations

import asyncio

import httpx
import respx
from slack_fakes import FakeSlack, completion, good_answer
from slack_harness import Running, StartApp

from bot.slack import ui
from bot.slack.deps import Deps, Hooks

PAYMENT = "My card keeps getting declined at checkout, card 4111 1111 1111 1111"
NOT_PAYMENT = "Which sizes do you have for the blue jacket?"


async def test_payment_text_is_posted_and_drafted_in_its_thread_after_an_immediate_ack(
    running: Running, slack_api: FakeSlack, llm_api: respx.MockRouter
) -> None:
    release, started = asyncio.Event(), asyncio.Event()

    async def slow_llm(request: httpx.Request) -> httpx.Response:
        started.set()
        await release.wait()  # the LLM answers only after the test has seen the ack
        return completion(good_answer())

    llm_api["chat"].mock(side_effect=slow_llm)
    status, body = await running.slack.command(PAYMENT)
    assert status == 200 and body == ""
    root = (await slack_api.wait_for(lambda: slack_api.of("chat.postMessage", channel="CPAY")))[0]
    assert "4111" not in root.args["text"] and "[CARD]" in root.args["text"] and "<@UAGENT>" in root.args["text"]
    await slack_api.wait_for(started.is_set)
    assert not slack_api.cards()  # the ack came back while the LLM was still busy
    release.set()
    (posted,) = running.store._messages.values()
    card = (await slack_api.wait_for(lambda: slack_api.cards()))[0]
    assert card.args["thread_ts"] == posted.ts and posted.event_key.startswith("cmd:")
    assert "Card declined by issuer" in card.block_text


async def test_not_payment_gets_draft_anyway_which_drafts_with_force(
    running: Running, slack_api: FakeSlack, llm_api: respx.MockRouter
) -> None:
    status, _ = await running.slack.command(NOT_PAYMENT, response_url=f"{slack_api.base}/response/one")
    assert status == 200
    note = (await slack_api.wait_for(lambda: slack_api.of("chat.postEphemeral", user="UAGENT")))[0]
    assert "does not look like a payment problem" in note.args["text"]
    assert ui.ACTION_DRAFT_ANYWAY in note.block_text and llm_api["chat"].call_count == 0
    assert not slack_api.of("chat.postMessage")
    value = note.blocks[1]["elements"][0]["value"]
    for _ in range(2):  # a double click drafts once
        await running.slack.click(ui.ACTION_DRAFT_ANYWAY, value, response_url=f"{slack_api.base}/response/one")
    card = (await slack_api.wait_for(lambda: slack_api.cards()))[0]
    root = slack_api.of("chat.postMessage", channel="CPAY")[0]
    assert card.args["thread_ts"] and "blue jacket" in root.args["text"]
    assert llm_api["chat"].call_count == 1 and len(slack_api.cards()) == 1
    assert any(r.get("replace_original") for r in slack_api.responses)  # the button is replaced: "Drafting…"
    forced = [m for m in running.store._messages.values() if m.force]
    assert len(forced) == 1 and forced[0].event_key == f"anyway:{value}"


async def test_help_and_empty_command_answer_in_the_agents_language(running: Running, slack_api: FakeSlack) -> None:
    slack_api.locales["UZH"] = "zh-CN"
    await running.slack.command("", user="UEN")
    await running.slack.command("help", user="UZH")
    en = (await slack_api.wait_for(lambda: slack_api.of("chat.postEphemeral", user="UEN")))[0]
    zh = (await slack_api.wait_for(lambda: slack_api.of("chat.postEphemeral", user="UZH")))[0]
    assert "drafts replies for buyers" in en.block_text and "/payfix stats" in en.block_text
    assert "为付款受阻的买家起草回复" in zh.block_text
    assert not slack_api.of("chat.postMessage") and not running.store._messages


async def test_agent_language_setting_wins_over_the_locale(start_app: StartApp, slack_api: FakeSlack) -> None:
    slack_api.locales["UEN"] = "en-GB"
    async with start_app({"PAYFIX_AGENT_LANGUAGE": "zh-CN"}) as running:
        await running.slack.command("help", user="UEN")
        note = (await slack_api.wait_for(lambda: slack_api.of("chat.postEphemeral", user="UEN")))[0]
        assert "为付款受阻的买家起草回复" in note.block_text and not slack_api.of("users.info")


async def test_stats_without_and_with_a_handler(start_app: StartApp, slack_api: FakeSlack) -> None:
    asked: list[tuple[str | None, str]] = []

    async def stats(deps: Deps, *, channel: str, user: str, month: str | None, language: str) -> None:
        asked.append((month, language))

    async with start_app() as running:
        await running.slack.command("stats", user="U1")
        await running.slack.command("stats 2026-13", user="U2")
        not_configured = (await slack_api.wait_for(lambda: slack_api.of("chat.postEphemeral", user="U1")))[0]
        bad_month = (await slack_api.wait_for(lambda: slack_api.of("chat.postEphemeral", user="U2")))[0]
        assert "not configured" in not_configured.args["text"] and "YYYY-MM" in bad_month.args["text"]
    async with start_app(hooks=Hooks(stats_handler=stats)) as running:
        await running.slack.command("stats 2026-11", user="U3")
        await running.slack.command("STATS", user="U3")
        await slack_api.wait_for(lambda: len(asked) == 2)
    assert sorted(asked, key=str) == sorted([("2026-11", "en"), (None, "en")], key=str)


async def test_channel_the_bot_is_not_in_gets_a_clear_note_through_response_url(
    running: Running, slack_api: FakeSlack
) -> None:
    slack_api.errors["chat.postMessage"] = "not_in_channel"
    slack_api.errors["chat.postEphemeral"] = "not_in_channel"
    await running.slack.command(PAYMENT, response_url=f"{slack_api.base}/response/two")
    (answer,) = await slack_api.wait_for(lambda: slack_api.responses)
    assert "/invite @payfix" in answer["text"] and answer["response_type"] == "ephemeral"
    assert "not_in_channel" not in answer["text"]  # Slack's code is mapped to a sentence
