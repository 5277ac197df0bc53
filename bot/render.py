"""Plain-text rendering of a draft for the terminal (`payfix draft`, `payfix demo`)."""

from __future__ import annotations

import textwrap

from bot.knowledge import Knowledge
from bot.models import DraftResult

_LABELS = {
    "en": {"diagnosis": "Diagnosis", "evidence": "Matched", "reply": "Suggested reply", "translation": "For you",
           "next": "Next steps", "kb": "Knowledge base", "meta": "Source", "none": "Not a payment problem: no draft."},
    "zh-CN": {"diagnosis": "诊断", "evidence": "命中词", "reply": "建议回复", "translation": "译文", "next": "下一步",
              "kb": "知识库", "meta": "来源", "none": "非支付问题：不生成草稿。"},
}  # fmt: skip


def render_card(result: DraftResult, knowledge: Knowledge, *, width: int = 100) -> str:
    lab = _LABELS.get(result.agent_language, _LABELS["en"])
    label = knowledge.label(result.diagnosis, result.agent_language)
    lines = [f"{lab['diagnosis']}: {label} [{result.diagnosis}] ({result.confidence:.0%})"]
    if result.evidence:
        lines.append(f"{lab['evidence']}: " + ", ".join(f"“{e}”" for e in result.evidence))
    if result.source == "prefilter":
        lines.append(lab["none"])
        return "\n".join(lines)
    lines.append(f"{lab['reply']} ({result.language}):")
    lines += _indent(result.reply, width)
    if result.reply_translation.strip() and result.reply_translation.strip() != result.reply.strip():
        lines.append(f"{lab['translation']} ({result.agent_language}):")  # not when the buyer writes the agent's
        lines += _indent(result.reply_translation, width)
    lines.append(f"{lab['next']}:")
    lines += [f"  • {step}" for step in result.next_actions]
    lines.append(f"{lab['kb']}: {', '.join(result.citations) or '-'}")
    lines += [f"! {notice}" for notice in result.notices]
    usage = result.usage
    meta = f"{result.source}" + (f" ({result.fallback_reason})" if result.fallback_reason else "")
    meta += f" · {result.platform}"
    if result.source == "llm":
        meta += f" · {usage.prompt_tokens} prompt tokens"
    meta += f" · {usage.latency_ms:.1f} ms"
    if result.guard_flags:
        meta += f" · guard: {', '.join(result.guard_flags)}"
    lines.append(f"{lab['meta']}: {meta}")
    return "\n".join(lines)


def _indent(text: str, width: int) -> list[str]:
    out = []
    for para in text.splitlines() or [""]:
        out += textwrap.wrap(para, width=width - 4, initial_indent="  │ ", subsequent_indent="  │ ") or ["  │"]
    return out
