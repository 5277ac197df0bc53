"""Initial schema: buyer messages, draft versions, decisions, follow-ups and outcomes.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "buyer_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_key", sa.String(255), nullable=False),
        sa.Column("team", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("agent_language", sa.String(8), nullable=True),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", TIME, nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.UniqueConstraint("event_key", name="uq_buyer_messages_event_key"),
    )
    op.create_index("ix_buyer_messages_claim", "buyer_messages", ["status", "lease_expires_at"])
    op.create_index("ix_buyer_messages_duplicate", "buyer_messages", ["channel", "content_hash", "received_at"])
    op.create_index("ix_buyer_messages_received_at", "buyer_messages", ["received_at"])
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("buyer_messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("diagnosis", sa.String(48), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("model", sa.String(64), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("guard_flags", JSON, nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("posted_channel", sa.String(32), nullable=True),
        sa.Column("posted_ts", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("decided_at", TIME, nullable=True),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint("message_id", "version", name="uq_drafts_message_version"),
    )
    op.create_index("ix_drafts_posted", "drafts", ["posted_channel", "posted_ts"])
    op.create_index("ix_drafts_created_at", "drafts", ["created_at"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("draft_id", sa.Integer(), sa.ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("edited_text", sa.Text(), nullable=True),
        sa.Column("decided_at", TIME, nullable=False),
        sa.UniqueConstraint("draft_id", "decision", name="uq_decisions_draft_decision"),
    )
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("draft_id", sa.Integer(), sa.ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("thread_ts", sa.String(32), nullable=False),
        sa.Column("scheduled_message_id", sa.String(64), nullable=True),
        sa.Column("post_at", TIME, nullable=False),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("closed_at", TIME, nullable=True),
    )
    op.create_index("ix_follow_ups_agent_status", "follow_ups", ["agent", "status"])
    op.create_index("ix_follow_ups_draft", "follow_ups", ["draft_id"])
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("draft_id", sa.Integer(), sa.ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.UniqueConstraint("draft_id", name="uq_outcomes_draft_id"),
    )


def downgrade() -> None:
    for table in ("outcomes", "follow_ups", "decisions", "drafts", "buyer_messages"):
        op.drop_table(table)
