"""The database schema as SQLAlchemy 2 models. Alembic migrations (migrations/versions) create it; a test
checks the two never drift apart.

Only redacted text is stored, and every text or JSON column that can carry buyer or agent words is a
`RedactedText` / `RedactedJSON`: the card check in bot/store/safety.py runs on each value as it is bound into
a statement, so no code path (ORM or Core, present or future) can write a card number.
Times are timezone-aware UTC in Python; SQLite stores them as naive UTC, PostgreSQL as timestamptz.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from bot.store.safety import check_value


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: payfix stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RedactedText(TypeDecorator[str]):
    """Text that may hold buyer or agent words: refused if a card number is in it."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None:
            check_value(value)
        return value


class RedactedJSON(TypeDecorator[Any]):
    """JSON (JSONB on PostgreSQL) whose every string is card-checked like `RedactedText`."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        check_value(value)
        return value


class Base(DeclarativeBase):
    # Named unique constraints, so the models and the migrations agree on names on every backend.
    metadata = MetaData(naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"})


class MessageRow(Base):
    """A buyer message as an agent shared it (redacted), and the drafting lease on it."""

    __tablename__ = "buyer_messages"
    __table_args__ = (
        Index("ix_buyer_messages_claim", "status", "lease_expires_at"),
        Index("ix_buyer_messages_duplicate", "channel", "content_hash", "received_at"),
        Index("ix_buyer_messages_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_key: Mapped[str] = mapped_column(String(255), unique=True)
    team: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(RedactedText)
    content_hash: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))  # the buyer's, known once drafted
    agent_language: Mapped[str | None] = mapped_column(String(8))
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending | drafting | drafted | skipped | failed
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DraftRow(Base):
    """One version of a draft. `result` is the whole DraftResult; the columns beside it are what stats need."""

    __tablename__ = "drafts"
    __table_args__ = (
        UniqueConstraint("message_id", "version", name="uq_drafts_message_version"),
        Index("ix_drafts_posted", "posted_channel", "posted_ts"),
        Index("ix_drafts_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("buyer_messages.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    diagnosis: Mapped[str] = mapped_column(String(48))
    source: Mapped[str] = mapped_column(String(16))  # llm | fallback
    model: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    cached_tokens: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    guard_flags: Mapped[list[str]] = mapped_column(RedactedJSON)
    result: Mapped[dict[str, Any]] = mapped_column(RedactedJSON)
    posted_channel: Mapped[str | None] = mapped_column(String(32))
    posted_ts: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # open | approved | rejected | superseded
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_text: Mapped[str | None] = mapped_column(RedactedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DecisionRow(Base):
    """Who decided what about a draft, and when; one row per (draft, decision)."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("draft_id", "decision", name="uq_decisions_draft_decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(32))
    edited_text: Mapped[str | None] = mapped_column(RedactedText)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FollowUpRow(Base):
    """A reminder Slack will post in the thread (chat.scheduleMessage), until the case is closed."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_agent_status", "agent", "status"), Index("ix_follow_ups_draft", "draft_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    scheduled_message_id: Mapped[str | None] = mapped_column(String(64))
    post_at: Mapped[datetime] = mapped_column(UTCDateTime)
    agent: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # scheduled | cancelled | sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutcomeRow(Base):
    """How the case ended: the buyer paid, or the order was lost. The first outcome closes the case."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(String(8))  # paid | lost
    user_id: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRunRow(Base):
    """Periodic jobs (daily purge, weekly digest): when each last ran, and who holds it now. Revision 0002."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
