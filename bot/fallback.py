"""The fallback drafter: a reply composed from the KB's per-tag templates, no LLM needed.

Used when there is no API key, the LLM is down, or its draft broke a guard rule. The reply is in the buyer's
language when a template exists (English otherwise) and its counterpart in the agent's language is the
translation, so the agent can read what will be sent.
"""

from __future__ import annotations

from bot.knowledge import Knowledge

AGENT_PACKS = {"en": "en", "zh-CN": "zh-CN"}


class FallbackDrafter:
    def __init__(self, knowledge: Knowledge) -> None:
        self._packs = knowledge.languages

    def compose(self, diagnosis: str, *, language: str, agent_language: str) -> tuple[str, str]:
        """(reply in the buyer's language, the same reply in the agent's language)."""
        tag = diagnosis if diagnosis != "not_payment" else "unclear"
        reply = self._template(language, tag) or self._template("en", tag)
        translation = self._template(AGENT_PACKS.get(agent_language, "en"), tag) or reply
        return reply, translation

    def _template(self, language: str, tag: str) -> str:
        pack = self._packs.get(language)
        return pack.replies.get(tag, "") if pack else ""
