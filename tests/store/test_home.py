"""The App Home view: a pure builder from the agent's open follow-ups and the month's figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.analytics.home import MAX_FOLLOW_UPS, HomeFollowUp, home_view
from bot.analytics.stats import MonthStats
from bot.knowledge import Knowledge

HELP = [{"type": "section", "text": {"type": "mrkdwn", "text": "help"}}]
SOON = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def figures() -> MonthStats:
    return MonthStats(
        month="2026-11", timezone="UTC", cases=40, by_diagnosis={}, by_platform={}, by_language={},
        heatmap=[[0] * 24 for _ in range(7)], approved=30, edited=5, rejected=4, undecided=6, paid=12, lost=4,
        median_minutes_to_approval=14.0, drafts=44, fallback_drafts=2, prompt_tokens=1, completion_tokens=1,
        cached_tokens=0,
    )  # fmt: skip


def text_of(view: dict[str, object]) -> str:
    return json.dumps(view, ensure_ascii=False)


def test_open_follow_ups_soonest_first_and_the_months_figures(knowledge: Knowledge) -> None:
    follow_ups = [
        HomeFollowUp("CPAY", SOON + timedelta(hours=5), "bank_transfer_delay", None),
        HomeFollowUp("CPAY", SOON, "pending_payment_order", "112-3456789-1234567"),
    ]
    view = home_view(knowledge.ui("en"), follow_ups=follow_ups, month="2026-11", stats=figures(),
                     tag_label=lambda t: knowledge.label(t, "en"), help_blocks=HELP)  # fmt: skip
    assert view["type"] == "home" and view["blocks"][-1] == HELP[0]
    listing = view["blocks"][1]["text"]["text"].splitlines()
    assert listing[0].startswith("• Order awaiting payment (hold requested) in <#CPAY> for order 112-3456789-1234567")
    assert f"<!date^{int(SOON.timestamp())}^" in listing[0] and "2026-11-24 09:00 UTC" in listing[0]
    assert listing[1].startswith("• Bank transfer / virtual account not reflected in <#CPAY> — reminder")
    assert "Cases 40 · approved 75% · rescued 75% · median time to approval 14 min" in text_of(view)


def test_nothing_open_no_database_and_chinese(knowledge: Knowledge) -> None:
    view = home_view(knowledge.ui("zh-CN"), follow_ups=[], month="2026-11", stats=None,
                     tag_label=lambda t: knowledge.label(t, "zh-CN"), help_blocks=HELP)  # fmt: skip
    text = text_of(view)
    assert "你的待跟进案例" in text and "没有待跟进的案例" in text and "月度数据需要数据库存储" in text


def test_a_long_list_is_capped_within_block_kit_limits(knowledge: Knowledge) -> None:
    many = [HomeFollowUp("C1", SOON + timedelta(minutes=i), "limit_exceeded", None) for i in range(40)]
    view = home_view(knowledge.ui("en"), follow_ups=many, month="2026-11", stats=figures(), tag_label=str,
                     help_blocks=HELP)  # fmt: skip
    listing = view["blocks"][1]["text"]["text"]
    assert listing.count("\n• ") == MAX_FOLLOW_UPS - 1 and listing.endswith("… and 25 more")
    assert len(listing) <= 3000 and len(view["blocks"]) <= 100


def test_follow_ups_not_passed_in_are_counted(knowledge: Knowledge) -> None:
    shown = [HomeFollowUp("C1", SOON, "limit_exceeded", None)]
    view = home_view(knowledge.ui("en"), follow_ups=shown, month="2026-11", stats=None, tag_label=str,
                     help_blocks=HELP, more=7)  # fmt: skip
    assert view["blocks"][1]["text"]["text"].endswith("… and 7 more")
