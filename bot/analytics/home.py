"""The App Home tab: the agent's open follow-ups and this month's figures, above the usage help.
A pure function from data to the view dict; the Slack layer fetches the data and publishes the view."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.analytics.stats import MonthStats
from bot.analytics.summary import duration, percent

Block = dict[str, Any]
MAX_FOLLOW_UPS = 15
SECTION_MAX = 3000


@dataclass(frozen=True, slots=True)
class HomeFollowUp:
    """One open reminder, as the App Home lists it."""

    channel: str
    post_at: datetime
    diagnosis: str
    order_id: str | None


def slack_time(moment: datetime) -> str:
    """Slack renders <!date^…> in the reader's own time zone; the text after | is the fallback."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def home_view(strings: Mapping[str, str], *, follow_ups: list[HomeFollowUp], month: str, stats: MonthStats | None,
              tag_label: Callable[[str], str], help_blocks: list[Block], more: int = 0) -> Block:  # fmt: skip
    """Open follow-ups (soonest first; `more` open ones not passed in are counted), the month's figures (None:
    no SQL store), then the help."""
    listed = _follow_up_lines(strings, follow_ups, tag_label, more)
    blocks: list[Block] = [_header(strings["home_followups_title"]), _section(listed)]
    blocks += [{"type": "divider"}, _header(strings["home_month_title"].format(month=month))]
    blocks.append(_section(_figures(strings, stats)))
    blocks += [{"type": "divider"}, *help_blocks]
    return {"type": "home", "blocks": blocks[:100]}


def _follow_up_lines(strings: Mapping[str, str], follow_ups: list[HomeFollowUp], tag_label: Callable[[str], str],
                     more: int) -> str:  # fmt: skip
    if not follow_ups:
        return strings["home_followups_none"]
    ordered = sorted(follow_ups, key=lambda f: f.post_at)
    lines = [_follow_up_line(strings, f, tag_label) for f in ordered[:MAX_FOLLOW_UPS]]
    hidden = more + max(0, len(ordered) - MAX_FOLLOW_UPS)
    if hidden:
        lines.append(strings["home_more"].format(count=hidden))
    return "\n".join(lines)


def _follow_up_line(strings: Mapping[str, str], follow_up: HomeFollowUp, tag_label: Callable[[str], str]) -> str:
    order = strings["followup_order"].format(order_id=follow_up.order_id) if follow_up.order_id else ""
    return strings["home_followup_item"].format(
        label=tag_label(follow_up.diagnosis), channel=follow_up.channel, when=slack_time(follow_up.post_at), order=order
    )


def _figures(strings: Mapping[str, str], stats: MonthStats | None) -> str:
    if stats is None:
        return strings["home_month_unavailable"]
    return strings["home_month_figures"].format(
        cases=stats.cases, approval_rate=percent(strings, stats.approval_rate),
        rescue_rate=percent(strings, stats.rescue_rate), median=duration(strings, stats.median_minutes_to_approval),
    )  # fmt: skip


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_MAX]}}
