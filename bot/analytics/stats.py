"""Monthly figures, computed from the month's cases (pure functions: the tests check them to the unit).

Definitions (all over the cases whose buyer message arrived in the month, in PAYFIX_TIMEZONE):
  approval rate   approved or edited-and-approved cases ÷ cases          (edit rate: edited ÷ cases)
  rejection rate  rejected cases ÷ cases                                 (the rest: no decision yet)
  rescue rate     buyer paid ÷ closed cases (paid + lost)
  time to approval  first approval − message received; the median over approved cases
  tokens, fallback share  over every draft version (regenerations included): fallback drafts ÷ drafts
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.analytics.facts import Case
from bot.errors import InputError

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class MonthWindow:
    label: str  # YYYY-MM
    start: datetime  # aware, local midnight on the 1st
    end: datetime  # the next month's start


def month_window(month: str | None, *, tz: ZoneInfo, now: datetime) -> MonthWindow:
    """The calendar month `YYYY-MM` in `tz` (default: the month `now` falls in)."""
    if month is None:
        local = now.astimezone(tz)
        year, number = local.year, local.month
    else:
        match = _MONTH.fullmatch(month.strip())
        if match is None:
            raise InputError(f"Month must look like 2026-11, got {month!r}", f"月份格式应为 2026-11，当前为 {month!r}")
        year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=tz)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    return MonthWindow(f"{year:04d}-{number:02d}", start, end)


@dataclass(frozen=True, slots=True)
class MonthStats:
    month: str
    timezone: str
    cases: int
    by_diagnosis: dict[str, int]
    by_platform: dict[str, int]
    by_language: dict[str, int]
    heatmap: list[list[int]]  # [weekday, Monday = 0][hour 0–23], local time
    approved: int  # edited-and-approved included
    edited: int
    rejected: int
    undecided: int
    paid: int
    lost: int
    median_minutes_to_approval: float | None
    drafts: int
    fallback_drafts: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int

    @property
    def approval_rate(self) -> float | None:
        return _ratio(self.approved, self.cases)

    @property
    def edit_rate(self) -> float | None:
        return _ratio(self.edited, self.cases)

    @property
    def rejection_rate(self) -> float | None:
        return _ratio(self.rejected, self.cases)

    @property
    def rescue_rate(self) -> float | None:
        return _ratio(self.paid, self.paid + self.lost)

    @property
    def fallback_share(self) -> float | None:
        return _ratio(self.fallback_drafts, self.drafts)

    @property
    def busiest(self) -> tuple[int, int, int] | None:
        """(weekday, hour, count) of the busiest hour, or None without cases."""
        best = max(((day, hour, n) for day, row in enumerate(self.heatmap) for hour, n in enumerate(row)),
                   key=lambda cell: (cell[2], -cell[0], -cell[1]))  # fmt: skip
        return best if best[2] else None

    def to_dict(self) -> dict[str, Any]:
        rates = {name: getattr(self, name) for name in
                 ("approval_rate", "edit_rate", "rejection_rate", "rescue_rate", "fallback_share")}  # fmt: skip
        return {**asdict(self), **rates}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _ranked(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items(), key=lambda item: (-item[1], item[0])))


def compute(cases: list[Case], *, month: str, tz: ZoneInfo) -> MonthStats:
    heatmap = [[0] * 24 for _ in range(7)]
    for case in cases:
        local = case.received_at.astimezone(tz)
        heatmap[local.weekday()][local.hour] += 1
    decisions = Counter(case.decision for case in cases)
    outcomes = Counter(case.outcome for case in cases)
    waits = [(c.approved_at - c.received_at).total_seconds() / 60 for c in cases if c.approved_at is not None]
    drafts = [cost for case in cases for cost in case.drafts]
    return MonthStats(
        month=month, timezone=tz.key, cases=len(cases),
        by_diagnosis=_ranked(c.diagnosis for c in cases), by_platform=_ranked(c.platform for c in cases),
        by_language=_ranked(c.language for c in cases), heatmap=heatmap,
        approved=decisions["approved"] + decisions["edited"], edited=decisions["edited"],
        rejected=decisions["rejected"], undecided=decisions[None], paid=outcomes["paid"], lost=outcomes["lost"],
        median_minutes_to_approval=statistics.median(waits) if waits else None,
        drafts=len(drafts), fallback_drafts=sum(d.source == "fallback" for d in drafts),
        prompt_tokens=sum(d.prompt_tokens for d in drafts), completion_tokens=sum(d.completion_tokens for d in drafts),
        cached_tokens=sum(d.cached_tokens for d in drafts),
    )  # fmt: skip
