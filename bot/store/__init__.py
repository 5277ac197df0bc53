"""Durable state: buyer messages, draft versions, decisions, follow-ups and outcomes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.store.sql import SqlStore


def open_store(settings: Settings) -> SqlStore:
    """The store for PAYFIX_DATABASE_URL, its schema migrated to the newest revision.

    Imported lazily so `import bot.store` stays cheap for code that only needs the API types."""
    from bot.store.sql import open_store as open_sql

    return open_sql(settings)
