"""Monthly statistics checked to the unit against a seeded month, the text in both languages, the PNG, and the
`payfix stats` command."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib.image
import pytest
from store_helpers import Clock, draft_result, message

from bot.analytics.facts import load_cases
from bot.analytics.report import monthly_report
from bot.analytics.stats import compute, month_window
from bot.cli import main
from bot.errors import InputError
from bot.knowledge import Knowledge
from bot.models import Usage
from bot.store.sql import SqlStore

TZ = ZoneInfo("Asia/Jakarta")  # UTC+7: the month's edges and the heatmap are local
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Seed:
    key: str
    at: datetime  # received, UTC
    diagnosis: str
    platform: str
    language: str
    decision: str | None = None  # approved | edited | rejected
    after_min: float = 0  # decision this long after the message
    outcome: str | None = None
    regenerated: bool = False  # v1 (llm) regenerated, v2 (fallback) decided


SEEDS = [
    # 01:30 local on Sunday 1 November (still 31 October in UTC): counted in November
    Seed("a", datetime(2026, 10, 31, 18, 30, tzinfo=UTC), "card_declined", "shopee", "id", "approved", 10, "paid"),
    Seed("b", datetime(2026, 11, 2, 2, 0, tzinfo=UTC), "bank_transfer_delay", "shopee", "id", "edited", 30, "paid"),
    Seed("c", datetime(2026, 11, 2, 2, 20, tzinfo=UTC), "bank_transfer_delay", "shopee", "vi", "approved", 50, "lost",
         regenerated=True),
    Seed("d", datetime(2026, 11, 3, 3, 0, tzinfo=UTC), "card_declined", "amazon", "en", "rejected", 5),
    Seed("e", datetime(2026, 11, 10, 13, 0, tzinfo=UTC), "insufficient_funds", "lazada", "en"),
    # 00:30 local on 1 December: not November
    Seed("f", datetime(2026, 11, 30, 17, 30, tzinfo=UTC), "card_declined", "shopee", "en", "approved", 1, "paid"),
]
LLM_USAGE = Usage(prompt_tokens=1200, completion_tokens=90, cached_tokens=1024, latency_ms=900, attempts=1)


async def seed(store: SqlStore, clock: Clock, seeds: list[Seed] = SEEDS) -> None:
    for s in seeds:
        clock.set(s.at)
        row, _ = await store.record_message(message(s.key, text=f"buyer message {s.key}", platform=s.platform))
        clock.advance(seconds=20)
        result = draft_result(diagnosis=s.diagnosis, platform=s.platform, language=s.language, usage=LLM_USAGE)
        draft = await store.save_draft(message_id=row.id, result=result)
        if s.regenerated:
            await store.record_decision(draft_id=draft.id, decision="regenerated", user="U1")
            fallback = draft_result(diagnosis=s.diagnosis, platform=s.platform, language=s.language, source="fallback",
                                    usage=Usage(), model=None)  # fmt: skip
            draft = await store.save_draft(message_id=row.id, result=fallback)
        await store.mark_message(message_id=row.id, status="drafted")
        if s.decision:
            clock.set(s.at + timedelta(minutes=s.after_min))
            await store.record_decision(draft_id=draft.id, decision=s.decision, user="U1",
                                        edited_text="edited reply" if s.decision == "edited" else None)  # fmt: skip
        if s.outcome:
            clock.advance(hours=3)
            await store.record_outcome(draft_id=draft.id, outcome=s.outcome, user="U1")
    clock.set(datetime(2026, 11, 10, 14, 0, tzinfo=UTC))
    await store.record_message(message("skipped", text="when will my parcel ship?"))  # never drafted: not a case


async def november(store: SqlStore, clock: Clock) -> dict[str, object]:
    await seed(store, clock)
    window = month_window("2026-11", tz=TZ, now=clock.now)
    cases = await store.run(lambda s: load_cases(s, window.start, window.end))
    return compute(cases, month=window.label, tz=TZ).to_dict()


async def test_the_seeded_month_adds_up_exactly(store: SqlStore, clock: Clock) -> None:
    stats = await november(store, clock)
    heatmap = stats.pop("heatmap")
    assert stats == {
        "month": "2026-11", "timezone": "Asia/Jakarta", "cases": 5,
        "by_diagnosis": {"bank_transfer_delay": 2, "card_declined": 2, "insufficient_funds": 1},
        "by_platform": {"shopee": 3, "amazon": 1, "lazada": 1},
        "by_language": {"en": 2, "id": 2, "vi": 1},
        "approved": 3, "edited": 1, "rejected": 1, "undecided": 1, "paid": 2, "lost": 1,
        "median_minutes_to_approval": 30.0,  # 10, 30 and 50 minutes
        "drafts": 6, "fallback_drafts": 1, "prompt_tokens": 6000, "completion_tokens": 450, "cached_tokens": 5120,
        "approval_rate": 0.6, "edit_rate": 0.2, "rejection_rate": 0.2, "rescue_rate": 2 / 3, "fallback_share": 1 / 6,
    }  # fmt: skip
    cells = {(day, hour): n for day, row in enumerate(heatmap) for hour, n in enumerate(row) if n}  # type: ignore[arg-type]
    assert cells == {(6, 1): 1, (0, 9): 2, (1, 10): 1, (1, 20): 1}  # Sun 01h, Mon 09h ×2, Tue 10h, Tue 20h


def test_month_windows_are_local_calendar_months() -> None:
    window = month_window("2026-12", tz=TZ, now=datetime.now(UTC))
    assert window.start == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert month_window(None, tz=TZ, now=datetime(2026, 11, 30, 18, tzinfo=UTC)).label == "2026-12"
    for bad in ("2026-13", "26-11", "November", "2026-1"):
        with pytest.raises(InputError):
            month_window(bad, tz=TZ, now=datetime.now(UTC))


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        ("en", ["payfix statistics for 2026-11 (times in Asia/Jakarta)", "Cases drafted: 5",
                "By diagnosis: Bank transfer / virtual account not reflected 2 · Card declined by issuer 2 · "
                "Insufficient funds or balance 1",
                "By platform: shopee 3 · amazon 1 · lazada 1",
                "Decisions: approved 3 (60%), of which edited 1 (20%); rejected 1 (20%); no decision yet 1",
                "Rescue rate: 67% (buyer paid in 2 of 3 closed cases)", "Median time to approval: 30 min",
                "LLM: 6,000 prompt + 450 completion tokens (5,120 cached) for 6 drafts; knowledge-base fallback 1 "
                "times (17%)", "Busiest hour: Mon 09:00–10:00 (2 cases)"]),
        ("zh-CN", ["payfix 2026-11 统计（时间按 Asia/Jakarta）", "已起草案例：5",
                   "按诊断：银行转账/虚拟账户未到账 2 · 发卡行拒绝/风控拦截 2 · 余额或额度不足 1",
                   "处理结果：通过 3（60%），其中编辑后通过 1（20%）；拒绝 1（20%）；尚未处理 1",
                   "挽回率：67%（已结案 3 个，其中买家付款 2 个）", "通过耗时中位数：30 分钟",
                   "最繁忙时段：周一 09:00–10:00（2 个案例）"]),
    ],
)  # fmt: skip
async def test_the_summary_reads_without_the_chart(
    store: SqlStore, clock: Clock, knowledge: Knowledge, language: str, lines: list[str]
) -> None:
    await seed(store, clock)
    report = await monthly_report(store, knowledge=knowledge, timezone="Asia/Jakarta", month="2026-11",
                                  language=language)  # fmt: skip
    text_lines = report.text.splitlines()
    for line in lines:
        assert line in text_lines
    assert report.stats.cases == 5 and report.filename == "payfix-stats-2026-11.png"
    assert_png(report.png)


def assert_png(data: bytes) -> None:
    """A real PNG that decodes to the chart's size (12 × 8.5 in at 100 dpi)."""
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert pixels.shape[:2] == (850, 1200) and pixels.std() > 0.05  # not a blank image
    from PIL import Image  # installed with matplotlib

    with Image.open(io.BytesIO(data)) as image:
        image.verify()


async def test_payfix_stats_prints_json_and_writes_the_png(
    store: SqlStore, clock: Clock, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    await seed(store, clock)
    monkeypatch.setenv("PAYFIX_DATABASE_URL", database_url)
    monkeypatch.setenv("PAYFIX_TIMEZONE", "Asia/Jakarta")
    out = tmp_path / "report.png"
    assert main(["stats", "--month", "2026-11", "--json", "--out", str(out)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["cases"], figures["paid"], figures["lost"], figures["chart"]) == (5, 2, 1, str(out))
    assert figures["median_minutes_to_approval"] == 30.0 and figures["fallback_share"] == 1 / 6
    assert_png(out.read_bytes())
    assert main(["stats", "--month", "2026-11"]) == 0
    assert "Rescue rate: 67% (buyer paid in 2 of 3 closed cases)" in capsys.readouterr().out


def test_payfix_stats_rejects_a_bad_month_and_handles_an_empty_one(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAYFIX_DATABASE_URL", database_url)
    assert main(["stats", "--month", "2026-13"]) == 2
    assert "2026-11" in capsys.readouterr().err
    assert main(["stats", "--month", "2026-10"]) == 0
    assert "No buyer messages were drafted in 2026-10." in capsys.readouterr().out
