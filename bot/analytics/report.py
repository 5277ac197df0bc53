"""The monthly report — figures, text and chart — for `payfix stats` and `/payfix stats [YYYY-MM]`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.analytics.chart import render_png
from bot.analytics.facts import Case, load_cases
from bot.analytics.stats import MonthStats, MonthWindow, compute, month_window
from bot.analytics.summary import summary_text
from bot.knowledge import Knowledge
from bot.store.sql import SqlStore


@dataclass(frozen=True, slots=True)
class Report:
    stats: MonthStats
    text: str  # in the agent's language, readable without the chart
    png: bytes

    @property
    def filename(self) -> str:
        return f"payfix-stats-{self.stats.month}.png"


def tag_label(knowledge: Knowledge, language: str) -> Callable[[str], str]:
    return lambda tag: knowledge.label(tag, language) if tag in knowledge.tags else tag


def language_name(knowledge: Knowledge, language: str) -> Callable[[str], str]:
    def name(code: str) -> str:
        pack = knowledge.languages.get(code)
        if pack is None:
            return code
        return pack.name_zh if language == "zh-CN" else pack.name

    return name


def build_report(cases: list[Case], *, window: MonthWindow, tz: ZoneInfo, knowledge: Knowledge, language: str
                 ) -> Report:  # fmt: skip
    """Pure but CPU-bound (the chart takes ~0.2 s): run it off the event loop."""
    stats = compute(cases, month=window.label, tz=tz)
    text = summary_text(stats, knowledge.ui(language), tag_label=tag_label(knowledge, language),
                        language_name=language_name(knowledge, language))  # fmt: skip
    return Report(stats, text, render_png(stats))


def load_month(store: SqlStore, month: str | None, tz: ZoneInfo) -> tuple[MonthWindow, list[Case]]:
    """Synchronous: the CLI's path (the Slack path runs it on the store's executor)."""
    window = month_window(month, tz=tz, now=store.clock())
    return window, store.run_sync(lambda s: load_cases(s, window.start, window.end))


async def monthly_report(store: SqlStore, *, knowledge: Knowledge, timezone: str, month: str | None,
                         language: str) -> Report:  # fmt: skip
    """For `/payfix stats`: the month's report in `language`; raises InputError for a malformed month."""
    tz = ZoneInfo(timezone)
    window = month_window(month, tz=tz, now=store.clock())
    cases = await store.run(lambda s: load_cases(s, window.start, window.end))
    return await asyncio.to_thread(build_report, cases, window=window, tz=tz, knowledge=knowledge, language=language)
