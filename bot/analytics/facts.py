"""The facts analytics work on: one `Case` per drafted buyer message, one `DraftCost` per draft version.

Loaded with four small queries per window (messages, drafts, decisions, outcomes) and joined in Python,
which keeps the SQL portable; a month of a busy shop is thousands of rows, not millions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.schema import DecisionRow, DraftRow, MessageRow, OutcomeRow

APPROVALS = ("approved", "edited")
FINAL_DECISIONS = ("approved", "edited", "rejected")


@dataclass(frozen=True, slots=True)
class DraftCost:
    """What one draft version cost."""

    source: str  # llm | fallback
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int


@dataclass(frozen=True, slots=True)
class Case:
    """A buyer message that got at least one draft, as its latest version and decisions left it."""

    message_id: int
    received_at: datetime
    channel: str
    text: str  # redacted
    diagnosis: str  # of the latest version
    platform: str
    language: str
    decision: str | None  # approved | edited | rejected | None: the last final decision on any version
    approved_at: datetime | None  # the first approval (or edit-and-approve)
    approved_by: str | None
    outcome: str | None  # paid | lost
    drafts: tuple[DraftCost, ...]


def load_cases(session: Session, start: datetime, end: datetime) -> list[Case]:
    """Cases whose buyer message arrived in [start, end), oldest first."""
    messages = session.scalars(
        select(MessageRow).where(MessageRow.received_at >= start, MessageRow.received_at < end)
        .where(MessageRow.id.in_(select(DraftRow.message_id))).order_by(MessageRow.received_at, MessageRow.id)
    ).all()  # fmt: skip
    in_window = select(MessageRow.id).where(MessageRow.received_at >= start, MessageRow.received_at < end)
    drafts = session.scalars(select(DraftRow).where(DraftRow.message_id.in_(in_window)).order_by(DraftRow.id)).all()
    draft_ids = select(DraftRow.id).where(DraftRow.message_id.in_(in_window))
    decisions = session.scalars(
        select(DecisionRow).where(DecisionRow.draft_id.in_(draft_ids)).order_by(DecisionRow.decided_at)
    ).all()
    outcomes = session.scalars(select(OutcomeRow).where(OutcomeRow.draft_id.in_(draft_ids))).all()
    return _assemble(messages, drafts, decisions, outcomes)


def _assemble(messages: Sequence[MessageRow], drafts: Sequence[DraftRow], decisions: Sequence[DecisionRow],
              outcomes: Sequence[OutcomeRow]) -> list[Case]:  # fmt: skip
    by_message: dict[int, list[DraftRow]] = defaultdict(list)
    message_of: dict[int, int] = {}
    for draft in drafts:
        by_message[draft.message_id].append(draft)
        message_of[draft.id] = draft.message_id
    decided: dict[int, list[DecisionRow]] = defaultdict(list)
    for decision in decisions:
        decided[message_of[decision.draft_id]].append(decision)
    outcome_of = {message_of[o.draft_id]: o.outcome for o in sorted(outcomes, key=lambda o: o.recorded_at)}
    return [_case(m, by_message[m.id], decided[m.id], outcome_of.get(m.id)) for m in messages]


def _case(message: MessageRow, drafts: list[DraftRow], decisions: list[DecisionRow], outcome: str | None) -> Case:
    latest = max(drafts, key=lambda d: d.version)
    finals = [d for d in decisions if d.decision in FINAL_DECISIONS]
    approvals = [d for d in decisions if d.decision in APPROVALS]
    first_approval = approvals[0] if approvals else None
    return Case(
        message_id=message.id, received_at=message.received_at, channel=message.channel, text=message.text,
        diagnosis=latest.diagnosis, platform=latest.platform, language=latest.language,
        decision=finals[-1].decision if finals else None,
        approved_at=first_approval.decided_at if first_approval else None,
        approved_by=first_approval.user_id if first_approval else None, outcome=outcome,
        drafts=tuple(DraftCost(d.source, d.prompt_tokens, d.completion_tokens, d.cached_tokens) for d in drafts),
    )  # fmt: skip
