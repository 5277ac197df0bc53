"""Prompt templates, prompt budget, knowledge-base retrieval and `payfix kb check`."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import TemplateError
from bot.kbcheck import check
from bot.knowledge import PAYMENT_TAGS
from bot.pipeline import KB_BUDGET_TOKENS, Engine
from bot.prompts import Template, count_tokens

LONG_MESSAGE = (
    "Hi, I have been trying to pay for my order since this morning. I used my credit card first and it said the "
    "payment failed, then I tried again with my debit card and the page just kept loading. Now I am not sure if I "
    "was charged or not, and the order still shows as unpaid in the app. Can you please help me check what is "
    "going on? I really need this delivered before the weekend because it is a birthday present for my sister."
)


def test_missing_variable_is_a_loud_error() -> None:
    with pytest.raises(TemplateError, match="buyer"):
        Template("t", "Hello {{ buyer }} from {{ shop }}").render(shop="x")
    with pytest.raises(TemplateError, match="does not use"):
        Template("t", "Hello {{ buyer }}").render(buyer="a", extra="b")


def test_stable_prefix_is_cacheable_and_whole_prompt_small(offline_engine: Engine) -> None:
    assert offline_engine.stable_prefix_tokens >= 1024
    for tag in PAYMENT_TAGS:
        sections = offline_engine.kb.retrieve(diagnosis=tag, platform="shopee", budget_tokens=KB_BUDGET_TOKENS)
        assert sections, tag
        c = offline_engine.classify(LONG_MESSAGE)
        prompt = offline_engine._user_prompt(c, tag, sections, "zh-CN")
        total = offline_engine.stable_prefix_tokens + count_tokens(prompt)
        assert total <= 1500, (tag, total)


def test_retrieval_prefers_the_playbook_and_the_platform(offline_engine: Engine) -> None:
    sections = offline_engine.kb.retrieve(
        diagnosis="bank_transfer_delay", platform="shopee", budget_tokens=KB_BUDGET_TOKENS
    )
    ids = [s.id for s in sections]
    assert ids[0].startswith("bank_transfer_delay#")
    assert any(i.startswith("shopee#") for i in ids), ids


def test_kb_check_passes_on_the_repository(settings: Settings) -> None:
    assert check(settings) == []


@pytest.fixture
def knowledge_copy(tmp_path: Path, settings: Settings) -> Settings:
    shutil.copytree(settings.knowledge_dir, tmp_path / "knowledge")
    return replace(settings, knowledge_dir=tmp_path / "knowledge")


def test_kb_check_reports_a_missing_reply_template(knowledge_copy: Settings) -> None:
    replies = knowledge_copy.knowledge_dir / "languages" / "en" / "replies.yaml"
    text = replies.read_text(encoding="utf-8")
    replies.write_text(text.replace("voucher_conflict:", "voucher_conflict_old:"), encoding="utf-8")
    problems = check(knowledge_copy)
    assert any("no reply for voucher_conflict" in p for p in problems), problems


def test_kb_check_reports_an_unused_rule_file(knowledge_copy: Settings) -> None:
    (knowledge_copy.knowledge_dir / "languages" / "en" / "rules_old.yaml").write_text("context: []\n", encoding="utf-8")
    problems = check(knowledge_copy)
    assert any("rules_old.yaml: unused" in p for p in problems), problems
