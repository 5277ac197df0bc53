"""The draft result: what the pipeline returns, the CLI prints as JSON and the Slack card shows."""

from __future__ import annotations

from dataclasses import asdict, field
from typing import Any

from bot.record import record


@record
class Usage:
    """What the draft cost: the tokens the LLM reported (none when no LLM answered) and time."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    stable_prefix_tokens: int = 0
    latency_ms: float = 0.0
    attempts: int = 0


@record
class DraftResult:
    """One drafted answer to one buyer message. Field names are the `--json` contract."""

    is_payment_issue: bool
    diagnosis: str
    confidence: float
    evidence: list[str]
    language: str
    language_supported: bool
    platform: str
    reply: str
    reply_translation: str
    agent_language: str
    citations: list[str]
    next_actions: list[str]
    follow_up_hours: int
    source: str  # llm | fallback | prefilter
    guard_flags: list[str]
    usage: Usage
    model: str | None = None
    order_id: str | None = None
    redactions: dict[str, int] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    fallback_reason: str | None = None
    text: str = ""  # the redacted buyer text: the only form that is ever stored or sent

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
