"""Helpers shared by the store tests (a module of its own: `conftest` is not importable by name)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pg_schemas import POSTGRES

from bot.models import DraftResult, Usage
from bot.store.api import MessageIn

BACKENDS = [pytest.param("sqlite", id="sqlite"), POSTGRES]


class Clock:
    """The store's clock, moved by the tests: leases expire and months fill up without sleeping."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.now = moment


def message(key: str, *, text: str = "my card was declined", channel: str = "C1", user: str = "UAGENT",
            content_hash: str | None = None, platform: str = "auto") -> MessageIn:  # fmt: skip
    return MessageIn(event_key=key, team="T1", channel=channel, ts=f"1700000000.{key}",
                     user=user, text=text, content_hash=content_hash or f"h:{text}", platform=platform)  # fmt: skip


def draft_result(**overrides: Any) -> DraftResult:
    values: dict[str, Any] = dict(
        is_payment_issue=True, diagnosis="card_declined", confidence=0.9, evidence=["declined"], language="en",
        language_supported=True, platform="shopee", reply="Please call your bank, then retry at checkout.",
        reply_translation="请联系银行后在结账页重试。", agent_language="en", citations=["card_declined#advise"],
        next_actions=["Ask for the error text."], follow_up_hours=24, source="llm", guard_flags=[],
        usage=Usage(prompt_tokens=1200, completion_tokens=90, cached_tokens=1024, latency_ms=850.0, attempts=1),
        model="gpt-test", order_id=None, text="my card was declined",
    )  # fmt: skip
    values.update(overrides)
    return DraftResult(**values)
