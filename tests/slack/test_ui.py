"""Block Kit builders: the card's content, and Slack's limits on long and hostile text."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from bot.config import Settings
from bot.knowledge import Knowledge, load_knowledge
from bot.models import DraftResult, Usage
from bot.slack import ui
from bot.slack.text import content_hash, escape, split_text


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(Settings.from_env({}).knowledge_dir)


def result(**overrides: object) -> DraftResult:
    base = DraftResult(
        is_payment_issue=True, diagnosis="card_declined", confidence=0.87, evidence=["declined", "card"],
        language="en", language_supported=True, platform="shopee", reply="Please call your bank & retry <now>.",
        reply_translation="请致电银行后重试。", agent_language="en", citations=["card_declined#advise"],
        next_actions=["Ask for the exact error text"], follow_up_hours=24, source="llm", guard_flags=[],
        usage=Usage(prompt_tokens=1200, completion_tokens=90, cached_tokens=1024, latency_ms=812.4, attempts=1),
        model="gpt-test", text="my card was declined",
    )  # fmt: skip
    return replace(base, **overrides)  # type: ignore[arg-type]


def card(knowledge: Knowledge, r: DraftResult, **kw: object) -> list[dict[str, object]]:
    strings = knowledge.ui(r.agent_language)
    return ui.draft_card(r, ui=strings, label=knowledge.label(r.diagnosis, r.agent_language), draft_id=7, version=1,
                         **kw)  # type: ignore[arg-type]  # fmt: skip


def texts(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_card_shows_everything_an_agent_needs(knowledge: Knowledge) -> None:
    blocks = card(knowledge, result())
    dump = texts(blocks)
    assert blocks[0]["type"] == "header" and "Card declined by issuer" in dump
    assert "Confidence 87%" in dump and "“declined”" in dump
    assert "```Please call your bank &amp; retry &lt;now&gt;.```" in dump  # copyable, escaped for Slack
    assert "请致电银行后重试。" in dump and "Ask for the exact error text" in dump
    assert "card_declined#advise" in dump and "gpt-test" in dump and "1200 in / 90 out (1024 cached)" in dump
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]  # type: ignore[attr-defined]
    assert actions == [ui.ACTION_APPROVE, ui.ACTION_EDIT, ui.ACTION_REGENERATE, ui.ACTION_REJECT]


def test_card_in_chinese_for_chinese_agents(knowledge: Knowledge) -> None:
    dump = texts(card(knowledge, result(agent_language="zh-CN")))
    assert "发卡行拒绝" in dump and "置信度 87%" in dump and "通过" in dump and "重新生成" in dump


def test_fallback_card_says_where_the_reply_came_from(knowledge: Knowledge) -> None:
    r = result(source="fallback", fallback_reason="http_500", model=None, guard_flags=["off_platform_payment"],
               notices=["The buyer seems to write in 'sw'"])  # fmt: skip
    dump = texts(card(knowledge, r))
    assert "fallback" in dump and "http_500" in dump and "off_platform_payment" in dump and "⚠️ The buyer" in dump


def test_long_reply_is_split_at_word_boundaries_within_limits(knowledge: Knowledge) -> None:
    words = [f"word{i}" for i in range(1500)]  # ~11,000 characters
    r = result(reply=" ".join(words), reply_translation=" ".join(words))
    blocks = card(knowledge, r)
    assert len(blocks) <= ui.MAX_BLOCKS
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]  # type: ignore[index]
    assert all(len(s) <= ui.SECTION_MAX for s in sections)
    code = [s.strip("`") for s in sections if s.startswith("```")]
    assert len(code) > 1 and " ".join(code).split() == words  # nothing lost, no word cut
    assert "split into" in texts(blocks)  # the split is announced


def test_overlong_reply_is_cut_with_a_visible_notice(knowledge: Knowledge) -> None:
    r = result(reply="word " * 8000)  # 40,000 characters: more than eight boxes
    blocks = card(knowledge, r)
    assert len(blocks) <= ui.MAX_BLOCKS and "was cut after part" in texts(blocks)


def test_status_replaces_decision_buttons_and_outcome_buttons_are_optional(knowledge: Knowledge) -> None:
    strings = knowledge.ui("en")
    status = ui.status_line(strings, "approved", "U1")
    blocks = card(knowledge, result(), status=status, outcome_buttons=True)
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]  # type: ignore[attr-defined]
    assert actions == [ui.ACTION_PAID, ui.ACTION_LOST]
    assert "Approved by <@U1>" in texts(blocks)
    plain = card(knowledge, result(), status=ui.status_line(strings, "rejected", "U1"))
    assert not [b for b in plain if b["type"] == "actions"]


def test_header_and_button_limits(knowledge: Knowledge) -> None:
    strings = {**knowledge.ui("en"), "slack_card_title": "x" * 400}
    blocks = ui.draft_card(result(), ui=strings, label="l", draft_id=1, version=1)
    assert len(blocks[0]["text"]["text"]) <= ui.HEADER_MAX
    assert len(ui.button("b", "a", "v" * 5000)["value"]) <= 2000


def test_triple_backticks_in_a_reply_cannot_break_the_code_block(knowledge: Knowledge) -> None:
    blocks = card(knowledge, result(reply="use ```this``` code"))
    code = [b["text"]["text"] for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("```")]  # type: ignore[index]
    assert len(code) == 1 and code[0].count("```") == 2


def test_edit_modal_carries_the_draft_and_the_text(knowledge: Knowledge) -> None:
    view = ui.edit_modal(knowledge.ui("zh-CN"), draft_id=42, text="hello")
    assert view["callback_id"] == ui.EDIT_VIEW and view["private_metadata"] == "42"
    assert view["blocks"][0]["element"]["initial_value"] == "hello" and len(view["title"]["text"]) <= 24


def test_split_text_prefers_sentences_and_handles_cjk() -> None:
    cjk = "请联系银行。" * 100  # no spaces at all
    parts = split_text(cjk, 50)
    assert all(len(p) <= 50 for p in parts) and all(p.endswith("。") for p in parts) and "".join(parts) == cjk
    solid = "a" * 120
    assert "".join(split_text(solid, 50)) == solid  # no boundary at all: cut, nothing lost
    assert split_text(escape("&" * 30), 22)[0].endswith(";")  # never inside an entity


def test_content_hash_ignores_case_spacing_and_unicode_form() -> None:
    assert content_hash("My  card\nwas DECLINED") == content_hash("my card was declined")
    assert content_hash("café") == content_hash("cafe\u0301")
    assert content_hash("card declined") != content_hash("card accepted")
    assert re.fullmatch(r"[0-9a-f]{64}", content_hash("x"))


def test_edit_modal_says_when_a_reply_is_too_long_for_it(knowledge: Knowledge) -> None:
    view = ui.edit_modal(knowledge.ui("en"), draft_id=1, text="word " * 1000)
    element = view["blocks"][0]
    assert len(element["element"]["initial_value"]) <= ui.INPUT_MAX and "3,000" in element["hint"]["text"]
