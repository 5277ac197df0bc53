"""The drafting pipeline, top to bottom: intake → redaction → prefilter → language → retrieval → prompt →
LLM → guard → fallback. Slack-free: the Slack app, the CLI and the benchmarks all call `Engine.draft`.

Only redacted text moves past step 2: it is what the LLM sees, what is stored and what is shown.
"""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.errors import LLMUnavailable
from bot.fallback import FallbackDrafter
from bot.guard import Guard
from bot.intake import Intake, take
from bot.kb import KnowledgeBase, Section
from bot.knowledge import Knowledge, load_knowledge
from bot.language import FALLBACK_LANGUAGE, Detected, LanguageDetector
from bot.models import DraftResult, Usage
from bot.prefilter import Prefilter, PrefilterResult
from bot.prompts import count_tokens, fence, load_templates
from bot.record import record
from bot.redact import Redaction, Redactor

if TYPE_CHECKING:
    from bot.llm import LLMAnswer, LLMClient

KB_BUDGET_TOKENS = 200  # keeps the whole prompt ≤ 1,500 tokens with a long buyer message


@record
class Classified:
    """Steps 1–4: everything known about a message before any prompt is built."""

    intake: Intake
    redaction: Redaction
    verdict: PrefilterResult
    language: Detected


class Engine:
    """Everything built once at start-up; `draft` is then safe to call concurrently."""

    def __init__(self, settings: Settings, *, llm: LLMClient | None = None, preload: bool = True) -> None:
        self.settings = settings
        self.knowledge: Knowledge = load_knowledge(settings.knowledge_dir)
        self.redactor = Redactor.from_file(settings.knowledge_dir / "redaction.yaml")
        self.prefilter = Prefilter(self.knowledge)
        self.detector = LanguageDetector(self.knowledge, preload=preload)
        self.kb = KnowledgeBase.load(settings.knowledge_dir / "kb", self.knowledge.kb_terms, count_tokens)
        self.templates = load_templates(settings.prompts_dir)
        self.fallback = FallbackDrafter(self.knowledge)
        self.guard = Guard.from_file(settings.knowledge_dir / "guard.yaml", settings.link_allowlist, self.language_of)
        self.llm = llm if llm is not None else _default_llm(settings)
        self.system_prompt = self.templates["system"].render(taxonomy=self._taxonomy_text())
        self.stable_prefix_tokens = count_tokens(self.system_prompt)
        self._steps: dict[tuple[str, str], tuple[str, ...]] = {}  # (tag, agent language) → the agent's steps
        # Tokens of the draft template around its variables, counted once: per draft only the buyer text is
        # tokenised (KB sections carry their counts), which keeps tiktoken off the hot path.
        empty = dict.fromkeys(self.templates["draft"].variables, "")
        self._draft_overhead_tokens = count_tokens(self.templates["draft"].render(**empty)) + 40

    def with_llm(self, llm: LLMClient | None, settings: Settings | None = None) -> Engine:
        """The same loaded data (rules, KB, lingua models) with another LLM client: cheap, shares no state."""
        twin = copy.copy(self)
        twin.llm = llm
        twin.settings = settings or self.settings
        return twin

    # -- steps 1-4 -------------------------------------------------------------------------------------
    def classify(self, text: str, *, platform: str = "auto") -> Classified:
        """Cheap, synchronous and LLM-free: what the prefilter and `payfix eval` run."""
        intake = take(text, platform=platform, max_chars=self.settings.max_input_chars)
        redaction = self.redactor.redact(intake.text)
        verdict = self.prefilter.classify(redaction.text)
        language = self.detector.detect(redaction.text, verdict.lang_votes)
        if not language.supported and not verdict.is_payment_issue and _enough_words(redaction.text):
            # No rules in this language: the prefilter cannot tell, and dropping a French buyer's payment
            # problem silently is worse than one draft too many. An `unclear` draft (English reply asking for
            # the exact error, a notice on the card) goes to the agent; with an LLM, the LLM judges.
            verdict = replace(verdict, is_payment_issue=True, diagnosis="unclear", confidence=0.3)
        return Classified(intake, redaction, verdict, language)

    def language_of(self, text: str) -> Detected:
        """The language of any text (an LLM's reply, say) by the buyer message's cascade: lexicon votes from
        the prefilter's markers first, lingua only when they are unclear."""
        return self.detector.detect(text, self.prefilter.scan(text).lang_votes)

    # -- the whole pipeline ------------------------------------------------------------------------------
    async def draft(
        self, text: str, *, platform: str = "auto", agent_language: str | None = None, force: bool = False,
        classified: Classified | None = None,
    ) -> DraftResult:  # fmt: skip
        """Draft a reply. Not a payment problem (and not `force`) → a `prefilter` result with no reply.
        `classified`: steps 1–4 already run on this text with this platform (the Slack flow decides its
        :eyes: on them first), so they are not run twice."""
        started = time.perf_counter()
        agent_lang = agent_language or self.settings.agent_language or "zh-CN"
        c = classified or self.classify(text, platform=platform)
        if not c.verdict.is_payment_issue and not force:
            return self._result(c, agent_lang, source="prefilter", reply=("", ""), started=started)
        diagnosis = c.verdict.diagnosis if c.verdict.is_payment_issue else "unclear"
        sections = self.kb.retrieve(diagnosis=diagnosis, platform=c.intake.platform, budget_tokens=KB_BUDGET_TOKENS)
        if self.llm is None:
            return self._fallback(c, diagnosis, sections, agent_lang, started, "no_api_key")
        user_prompt = self._user_prompt(c, diagnosis, sections, agent_lang)
        try:
            answer = await self.llm.complete(system=self.system_prompt, user=user_prompt)
        except LLMUnavailable as exc:
            return self._fallback(c, diagnosis, sections, agent_lang, started, exc.reason)
        return self._from_llm(c, answer, sections, agent_lang, started)

    def _from_llm(
        self, c: Classified, answer: LLMAnswer, sections: list[Section], agent_lang: str, started: float
    ) -> DraftResult:
        reply_language = self._reply_language(c.language)
        flags = self.guard.check(answer.reply, language=reply_language)
        known = {s.id for s in sections}
        if flags:
            return self._fallback(c, answer.diagnosis, sections, agent_lang, started, "guard", flags)
        return self._result(
            c,
            agent_lang,
            source="llm",
            reply=(answer.reply, answer.reply_translation),
            started=started,
            diagnosis=answer.diagnosis,
            confidence=answer.confidence,
            citations=[cid for cid in answer.citations if cid in known] or sorted(known),
            usage=answer.usage,
            model=answer.model,
        )

    def _fallback(
        self,
        c: Classified,
        diagnosis: str,
        sections: list[Section],
        agent_lang: str,
        started: float,
        reason: str,
        flags: list[str] | None = None,
    ) -> DraftResult:
        reply = self.fallback.compose(diagnosis, language=self._reply_language(c.language), agent_language=agent_lang)
        return self._result(
            c, agent_lang, source="fallback", reply=reply, started=started, diagnosis=diagnosis,
            citations=[s.id for s in sections], guard_flags=flags or [], fallback_reason=reason,
        )  # fmt: skip

    def prompt_tokens(self, c: Classified, sections: list[Section]) -> int:
        """Tokens the LLM would be sent for this draft (system prefix + draft prompt), without re-tokenising.

        Not part of a fallback draft's usage: a draft reports what was sent to an LLM (the monthly token
        figures add these up), and counting a prompt nobody sends costs a tokeniser pass per draft."""
        kb = sum(s.tokens + 8 for s in sections)
        return self.stable_prefix_tokens + self._draft_overhead_tokens + kb + count_tokens(c.redaction.text)

    def _reply_language(self, detected: Detected) -> str:
        return detected.code if detected.supported and detected.code in self.knowledge.languages else FALLBACK_LANGUAGE

    def _result(
        self,
        c: Classified,
        agent_lang: str,
        *,
        source: str,
        reply: tuple[str, str],
        started: float,
        diagnosis: str | None = None,
        confidence: float | None = None,
        citations: list[str] | None = None,
        usage: Usage | None = None,
        model: str | None = None,
        guard_flags: list[str] | None = None,
        fallback_reason: str | None = None,
    ) -> DraftResult:
        tag = self.knowledge.tags[diagnosis or c.verdict.diagnosis]
        notices = self._notices(c, agent_lang) if source != "prefilter" else []
        latency = round((time.perf_counter() - started) * 1000, 3)
        if usage is None:
            usage = Usage(stable_prefix_tokens=self.stable_prefix_tokens, latency_ms=latency)
        else:
            usage = Usage(usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens,
                          self.stable_prefix_tokens, latency, usage.attempts)  # fmt: skip
        return DraftResult(
            is_payment_issue=c.verdict.is_payment_issue,
            diagnosis=tag.id,
            confidence=confidence if confidence is not None else c.verdict.confidence,
            evidence=list(c.verdict.evidence),
            language=c.language.code,
            language_supported=c.language.supported,
            platform=c.intake.platform,
            reply=reply[0],
            reply_translation=reply[1],
            agent_language=agent_lang,
            citations=citations or [],
            next_actions=list(self._next_actions(tag.id, agent_lang)),
            follow_up_hours=tag.follow_up_hours,
            source=source,
            guard_flags=guard_flags or [],
            usage=usage,
            model=model,
            order_id=c.intake.order_id,
            redactions=dict(c.redaction.counts),
            notices=notices,
            fallback_reason=fallback_reason,
            text=c.redaction.text,
        )

    def _next_actions(self, tag: str, agent_lang: str) -> tuple[str, ...]:
        """The agent's steps for a tag, in the agent's language: static data, looked up once per pair."""
        key = (tag, agent_lang)
        steps = self._steps.get(key)
        if steps is None:
            steps = tuple(self.knowledge.action_text(a, agent_lang) for a in self.knowledge.tags[tag].next_actions)
            self._steps[key] = steps
        return steps

    def _notices(self, c: Classified, agent_lang: str) -> list[str]:
        if not c.intake.truncated_from and c.language.supported:
            return []
        ui = self.knowledge.ui(agent_lang)
        notices = []
        if c.intake.truncated_from:
            notices.append(ui["notice_truncated"].format(original=c.intake.truncated_from, kept=len(c.intake.text)))
        if not c.language.supported:
            notices.append(ui["notice_unsupported_language"].format(language=c.language.code))
        return notices

    def _taxonomy_text(self) -> str:
        return "\n".join(f"- {t.id}: {t.label['en']}" for t in self.knowledge.tags.values())

    def _user_prompt(self, c: Classified, diagnosis: str, sections: list[Section], agent_lang: str) -> str:
        kb = "\n\n".join(f"[{s.id}] {s.title}\n{s.body}" for s in sections) or "(no article)"
        ranked = ", ".join(f"{t} ({s:g})" for t, s in c.verdict.ranked[:3]) or "none"
        return self.templates["draft"].render(
            platform=c.intake.platform,
            buyer_language=self._reply_language(c.language),
            agent_language=agent_lang,
            candidates=f"{diagnosis}; prefilter scores: {ranked}",
            knowledge=kb,
            buyer_message=fence(c.redaction.text),
        )


def _enough_words(text: str) -> bool:
    """Four words, or a dozen letters of an unspaced script: "merci beaucoup" is no case to draft."""
    words = text.split()
    return len(words) >= 4 or (len(words) == 1 and sum(ch.isalpha() for ch in text) >= 12)


def _default_llm(settings: Settings) -> LLMClient | None:
    """The configured LLM client, or None offline. `openai` is imported only when it is needed."""
    if not settings.llm_enabled:
        return None
    from bot.llm import LLMClient

    return LLMClient.from_settings(settings)


__all__ = ["Classified", "Engine", "load_knowledge"]
