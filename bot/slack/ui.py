"""Block Kit builders: pure functions from a draft (and the agent's strings) to Slack blocks.

Nothing here talks to Slack or to the store, so every layout rule — Block Kit limits included — is testable
on its own. Limits (api.slack.com/reference/block-kit): ≤ 50 blocks per message, section text ≤ 3000
characters, header text ≤ 150, button value ≤ 2000, ≤ 10 context elements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.models import DraftResult
from bot.slack.text import escape, split_text

Block = dict[str, Any]
Strings = Mapping[str, str]

ACTION_APPROVE = "payfix_approve"
ACTION_EDIT = "payfix_edit"
ACTION_REGENERATE = "payfix_regenerate"
ACTION_REJECT = "payfix_reject"
ACTION_PAID = "payfix_outcome_paid"  # handled by the storage issue's listeners
ACTION_LOST = "payfix_outcome_lost"
ACTION_DRAFT_ANYWAY = "payfix_draft_anyway"
EDIT_VIEW = "payfix_edit_view"
EDIT_BLOCK = "reply"
EDIT_INPUT = "text"

SECTION_MAX = 3000
HEADER_MAX = 150
MAX_BLOCKS = 50
CONTEXT_MAX = 10
_FENCE = "```"
_CODE_CHUNK = SECTION_MAX - 2 * len(_FENCE)
_MAX_PARTS = 8  # per text: two texts of 8 parts keep a card far below 50 blocks
INPUT_MAX = 3000  # plain_text_input max_length


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text[:SECTION_MAX])}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t[:SECTION_MAX]) for t in texts[:CONTEXT_MAX]]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    spec: Block = {"type": "button", "action_id": action_id, "value": value[:2000],
                   "text": {"type": "plain_text", "text": text[:75], "emoji": True}}  # fmt: skip
    if style:
        spec["style"] = style
    return spec


def draft_card(
    result: DraftResult,
    *,
    ui: Strings,
    label: str,
    draft_id: int,
    version: int,
    status: str | None = None,
    decision_buttons: bool = True,
    outcome_buttons: bool = False,
) -> list[Block]:
    """The card in the thread. `status` (a decided draft) replaces the decision buttons with a status line;
    `outcome_buttons` adds "Buyer paid" / "Order lost" (their listeners belong to the storage issue)."""
    title = ui["slack_card_title"].format(label=label)
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": _clip(title, HEADER_MAX)}}]
    blocks.append(context(*_facts(result, ui, version)))
    blocks += _reply_blocks(result, ui)
    if result.next_actions:
        steps = "\n".join(f"• {escape(step)}" for step in result.next_actions)
        blocks.append(section(f"{ui['slack_next_steps']}\n{steps}"))
    blocks.append(context(*_footer(result, ui)))
    if status:
        blocks.append(section(status))
    buttons = _buttons(ui, draft_id, decisions=decision_buttons and not status, outcomes=outcome_buttons)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"payfix_draft_{draft_id}", "elements": buttons})
    return blocks[:MAX_BLOCKS]


def card_fallback_text(ui: Strings, label: str) -> str:
    """The notification text Slack shows where blocks cannot be rendered."""
    return ui["slack_card_fallback"].format(label=label)


def _facts(result: DraftResult, ui: Strings, version: int) -> list[str]:
    facts = [ui["slack_confidence"].format(confidence=f"{result.confidence:.0%}")]
    if result.evidence:
        phrases = ", ".join(f"“{escape(e)}”" for e in result.evidence[:12])
        facts.append(ui["slack_matched"].format(phrases=phrases))
    facts.append(ui["slack_platform"].format(platform=result.platform))
    facts.append(ui["slack_version"].format(version=version))
    return facts


def _reply_blocks(result: DraftResult, ui: Strings) -> list[Block]:
    """The reply as copyable code blocks, then its rendering for the agent; long texts split, never cut
    silently: a split or a cut is announced in the card."""
    reply_parts, reply_cut = _parts(escape(result.reply.replace(_FENCE, "`\u200b``")), _CODE_CHUNK)
    blocks = [section(ui["slack_reply_title"].format(language=result.language))]
    blocks += [section(f"{_FENCE}{part}{_FENCE}") for part in reply_parts]
    notes = []
    if len(reply_parts) > 1:
        notes.append(ui["slack_reply_split"].format(parts=len(reply_parts)))
    translation_parts, translation_cut = _parts(escape(result.reply_translation), SECTION_MAX)
    if reply_cut or translation_cut:
        notes.append(ui["slack_reply_cut"].format(parts=_MAX_PARTS))
    if notes:
        blocks.append(context(*(f"⚠️ {n}" for n in notes)))
    if translation_parts and result.reply_translation.strip() != result.reply.strip():
        blocks.append(section(ui["slack_translation_title"]))
        blocks += [section(part) for part in translation_parts]
    return blocks


def _parts(text: str, limit: int) -> tuple[list[str], bool]:
    parts = split_text(text, limit) if text.strip() else []
    return parts[:_MAX_PARTS], len(parts) > _MAX_PARTS


def _footer(result: DraftResult, ui: Strings) -> list[str]:
    kb = ui["slack_kb"].format(citations=", ".join(result.citations)) if result.citations else ui["slack_kb_none"]
    usage = result.usage
    source = result.source
    if result.source == "fallback":
        source = ui["slack_meta_fallback"].format(reason=result.fallback_reason or "-")
    meta = ui["slack_meta"].format(
        source=source, model=result.model or "-", latency=f"{usage.latency_ms:.0f}",
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens, cached_tokens=usage.cached_tokens,
    )  # fmt: skip
    footer = [escape(kb), escape(meta)]
    if result.guard_flags:
        footer.append(escape(ui["slack_guard_flags"].format(flags=", ".join(result.guard_flags))))
    footer += [f"⚠️ {escape(notice)}" for notice in result.notices]
    return footer


def _buttons(ui: Strings, draft_id: int, *, decisions: bool, outcomes: bool) -> list[Block]:
    value = str(draft_id)
    out: list[Block] = []
    if decisions:
        out += [
            button(ui["slack_button_approve"], ACTION_APPROVE, value, "primary"),
            button(ui["slack_button_edit"], ACTION_EDIT, value),
            button(ui["slack_button_regenerate"], ACTION_REGENERATE, value),
            button(ui["slack_button_reject"], ACTION_REJECT, value, "danger"),
        ]
    if outcomes:
        out += [
            button(ui["slack_button_paid"], ACTION_PAID, value),
            button(ui["slack_button_lost"], ACTION_LOST, value),
        ]
    return out


def status_line(ui: Strings, decision: str, user: str) -> str:
    """The line a decided (or closed: paid / lost) card shows instead of its buttons."""
    key = {"approved": "slack_status_approved", "edited": "slack_status_edited", "rejected": "slack_status_rejected",
           "regenerated": "slack_status_superseded", "superseded": "slack_status_superseded",
           "paid": "slack_status_paid", "lost": "slack_status_lost"}[decision]  # fmt: skip
    return ui[key].format(user=user)


def not_payment_blocks(ui: Strings, message_id: int) -> list[Block]:
    """Ephemeral answer to `/payfix TEXT` when the text is not about payment, with "Draft anyway"."""
    return [
        section(ui["slack_not_payment"]),
        {
            "type": "actions",
            "elements": [button(ui["slack_button_draft_anyway"], ACTION_DRAFT_ANYWAY, str(message_id))],
        },
    ]


def help_blocks(ui: Strings) -> list[Block]:
    return [section(ui["slack_help"].strip())]


def home_view(ui: Strings) -> Block:
    """The App Home tab: the same help, where agents look for it first."""
    return {"type": "home", "blocks": help_blocks(ui)}


def edit_modal(ui: Strings, *, draft_id: int, text: str) -> Block:
    """The Edit modal; its submission approves the edited text. The draft id travels in private_metadata.
    Slack's text input holds 3,000 characters: a longer reply is shown cut, and the hint says so."""
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "private_metadata": str(draft_id),
        "title": {"type": "plain_text", "text": _clip(ui["slack_edit_title"], 24)},
        "submit": {"type": "plain_text", "text": _clip(ui["slack_edit_submit"], 24)},
        "close": {"type": "plain_text", "text": _clip(ui["slack_edit_cancel"], 24)},
        "blocks": [
            {
                "type": "input",
                "block_id": EDIT_BLOCK,
                "label": {"type": "plain_text", "text": ui["slack_edit_label"]},
                "hint": {
                    "type": "plain_text",
                    "text": ui["slack_edit_too_long" if len(text) > INPUT_MAX else "slack_edit_hint"],
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_INPUT,
                    "multiline": True,
                    "initial_value": text[:INPUT_MAX],
                    "max_length": INPUT_MAX,
                },
            }
        ],
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
