"""The SQL store as the Slack tests see it: the same read-only views the in-memory store keeps as fields
(`_messages`, `_drafts`, `decisions`), read from the database, so every Slack test runs on each backend."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.api import StoredDraft, StoredMessage
from bot.store.memory import Decision
from bot.store.schema import DecisionRow, DraftRow, MessageRow
from bot.store.sql import SqlStore, _draft, _message


class ObservedSqlStore(SqlStore):
    @property
    def _messages(self) -> dict[int, StoredMessage]:
        rows = select(MessageRow).order_by(MessageRow.id)
        return self.run_sync(lambda s: {r.id: _message(r) for r in s.scalars(rows)})

    @property
    def _drafts(self) -> dict[int, StoredDraft]:
        rows = select(DraftRow).order_by(DraftRow.id)
        return self.run_sync(lambda s: {r.id: _draft(r) for r in s.scalars(rows)})

    @property
    def decisions(self) -> list[Decision]:
        return self.run_sync(lambda s: [
            Decision(r.draft_id, r.decision, r.user_id, r.edited_text, r.decided_at)
            for r in s.scalars(select(DecisionRow).order_by(DecisionRow.id))
        ])  # fmt: skip
