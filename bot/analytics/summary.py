"""The monthly statistics as text an agent reads in Slack or a terminal, in English or Simplified Chinese.
Every sentence comes from knowledge/ui/<lang>.yaml; this module only fills them in."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.analytics.stats import MonthStats

Strings = Mapping[str, str]
Namer = Callable[[str], str]
TOP_ITEMS = 8


def percent(strings: Strings, rate: float | None) -> str:
    return strings["stats_na"] if rate is None else f"{rate:.0%}"


def duration(strings: Strings, minutes: float | None) -> str:
    if minutes is None:
        return strings["stats_na"]
    if minutes < 90:
        return strings["stats_minutes"].format(minutes=f"{minutes:.0f}")
    return strings["stats_hours"].format(hours=f"{minutes / 60:.1f}")


def _items(counts: Mapping[str, int], name: Namer) -> str:
    shown = [f"{name(key)} {count}" for key, count in list(counts.items())[:TOP_ITEMS]]
    rest = sum(list(counts.values())[TOP_ITEMS:])
    return " · ".join(shown + ([f"… {rest}"] if rest else []))


def summary_text(stats: MonthStats, strings: Strings, *, tag_label: Namer, language_name: Namer) -> str:
    """Readable without the chart: one line per figure."""
    title = strings["stats_title"].format(month=stats.month, timezone=stats.timezone)
    if not stats.cases:
        return f"{title}\n{strings['stats_empty'].format(month=stats.month)}"
    lines = [
        title,
        strings["stats_cases"].format(cases=stats.cases),
        strings["stats_by_diagnosis"].format(items=_items(stats.by_diagnosis, tag_label)),
        strings["stats_by_platform"].format(items=_items(stats.by_platform, str)),
        strings["stats_by_language"].format(items=_items(stats.by_language, language_name)),
        _decisions(stats, strings),
        _rescue(stats, strings),
        _median(stats, strings),
        _llm(stats, strings),
    ]
    busiest = stats.busiest
    if busiest is not None:
        day, hour, count = busiest
        weekday = strings["stats_weekdays"].split(",")[day]
        lines.append(strings["stats_busiest"].format(weekday=weekday, hour=hour, hour_end=(hour + 1) % 24,
                                                     count=count))  # fmt: skip
    return "\n".join(lines)


def _decisions(stats: MonthStats, strings: Strings) -> str:
    return strings["stats_decisions"].format(
        approved=stats.approved, approval_rate=percent(strings, stats.approval_rate), edited=stats.edited,
        edit_rate=percent(strings, stats.edit_rate), rejected=stats.rejected,
        rejection_rate=percent(strings, stats.rejection_rate), undecided=stats.undecided,
    )  # fmt: skip


def _llm(stats: MonthStats, strings: Strings) -> str:
    return strings["stats_llm"].format(
        prompt_tokens=f"{stats.prompt_tokens:,}", completion_tokens=f"{stats.completion_tokens:,}",
        cached_tokens=f"{stats.cached_tokens:,}", drafts=stats.drafts, fallback=stats.fallback_drafts,
        fallback_share=percent(strings, stats.fallback_share),
    )  # fmt: skip


def _rescue(stats: MonthStats, strings: Strings) -> str:
    closed = stats.paid + stats.lost
    if not closed:
        return strings["stats_rescue_none"]
    return strings["stats_rescue"].format(rescue_rate=percent(strings, stats.rescue_rate), paid=stats.paid,
                                          closed=closed)  # fmt: skip


def _median(stats: MonthStats, strings: Strings) -> str:
    if stats.median_minutes_to_approval is None:
        return strings["stats_median_none"]
    return strings["stats_median"].format(duration=duration(strings, stats.median_minutes_to_approval))
