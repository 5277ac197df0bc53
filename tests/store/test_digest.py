"""The weekly ops digest: the spike rule on seeded weeks (positive and negative cases), payment methods named in
the text, the message operations read, and delivery once across replicas."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from store_helpers import Clock, draft_result, message

from bot.analytics.digest import Spike, compute_digest, digest_loop, format_digest, send_digest, week_anchor
from bot.analytics.facts import Case
from bot.analytics.methods import PaymentMethods
from bot.config import Settings
from bot.knowledge import Knowledge
from bot.store.sql import SqlStore

END = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 in Jakarta
TZ = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def methods() -> PaymentMethods:
    return PaymentMethods.load(Settings.from_env({}).knowledge_dir / "payment_methods.yaml")


def case(tag: str, *, days_ago: float, text: str = "payment problem") -> Case:
    return Case(message_id=0, received_at=END - timedelta(days=days_ago), channel="C1", text=text, diagnosis=tag,
                platform="shopee", language="id", decision=None, approved_at=None, approved_by=None, outcome=None,
                drafts=())  # fmt: skip


def week(tag: str, count: int, *, weeks_ago: int = 0, text: str = "payment problem") -> list[Case]:
    """`count` cases spread over one week: 0 = the digest's week, 1–4 = the four weeks before."""
    return [case(tag, days_ago=weeks_ago * 7 + 0.5 + i * 6 / max(count, 1), text=text) for i in range(count)]


def history(tag: str, total: int, text: str = "payment problem") -> list[Case]:
    return [c for w in range(1, 5) for c in week(tag, total // 4 + (1 if w <= total % 4 else 0), weeks_ago=w,
                                                     text=text)]  # fmt: skip


SEEDED = [
    # positive: 6 this week against an average of 1 → spike
    *week("bank_transfer_delay", 2, text="transfer ke VA BCA belum masuk"),
    *week("bank_transfer_delay", 4, text="sudah transfer tapi belum terverifikasi"),
    *history("bank_transfer_delay", 4),
    # boundary: exactly twice the average (6 vs 3) counts
    *week("limit_exceeded", 6), *history("limit_exceeded", 12),
    # negative: 7 against an average of 4 (twice would be 8) → steady
    *week("card_declined", 7, text="my Visa card got declined <b>again</b> & again"),
    *history("card_declined", 16, text="Visa declined"),
    # negative: new, but under the minimum count
    *week("voucher_conflict", 3),
    # the tag is steady (5 vs 3) but the same wallet spikes (5 vs 0.5)
    *week("insufficient_funds", 5, text="saldo GoPay tidak cukup"), *history("insufficient_funds", 10),
    *history("insufficient_funds", 2, text="gopay saldo kurang"),
    # outside the five weeks: ignored
    case("bank_transfer_delay", days_ago=40), case("bank_transfer_delay", days_ago=-1),
]  # fmt: skip


def test_the_spike_rule_on_seeded_weeks(methods: PaymentMethods) -> None:
    digest = compute_digest(SEEDED, end=END, methods=methods, min_count=5)
    assert digest.spikes == [
        Spike("bank_transfer_delay", None, 6, 1.0),
        Spike("limit_exceeded", None, 6, 3.0),
        Spike("insufficient_funds", "gopay", 5, 0.5),
    ]
    assert digest.cases == 27 and digest.start == END - timedelta(days=7)
    assert [(t.tag, t.count) for t in digest.top] == [
        ("card_declined", 7), ("bank_transfer_delay", 6), ("limit_exceeded", 6), ("insufficient_funds", 5),
        ("voucher_conflict", 3),
    ]  # fmt: skip
    assert len(digest.top[0].examples) == 2


def test_the_minimum_count_gates_spikes(methods: PaymentMethods) -> None:
    assert [s.tag for s in compute_digest(SEEDED, end=END, methods=methods, min_count=3).spikes].count(
        "voucher_conflict") == 1  # fmt: skip
    assert compute_digest(SEEDED, end=END, methods=methods, min_count=7).spikes == []
    quiet = compute_digest(history("card_declined", 16), end=END, methods=methods, min_count=1)
    assert quiet.spikes == [] and quiet.cases == 0


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("transfer ke VA BCA dari kemarin", ["bca"]),
        ("saldo GoPay saya kurang", ["gopay"]),
        ("dana tidak cukup di rekening", []),  # "dana" = funds, not the DANA wallet
        ("bayar pakai DANA gagal", ["dana"]),
        ("I love ovomaltine", []),
        ("Visa/Mastercard both declined", ["mastercard", "visa"]),
        ("用支付宝付款失败了", ["alipay"]),
        ("โอนผ่านพร้อมเพย์แล้ว", ["promptpay"]),
        ("paid with Touch 'n Go", ["touch_n_go"]),
    ],
)
def test_payment_methods_named_in_the_text(methods: PaymentMethods, text: str, found: list[str]) -> None:
    assert methods.find(text) == found


def test_the_digest_text_operations_read(methods: PaymentMethods, knowledge: Knowledge) -> None:
    digest = compute_digest(SEEDED, end=END, methods=methods, min_count=5)
    text = format_digest(digest, knowledge.ui("en"), tag_label=lambda t: knowledge.label(t, "en"), methods=methods,
                         tz=TZ)  # fmt: skip
    lines = text.splitlines()
    assert lines[0] == "📊 payfix weekly digest, 2026-11-16 – 2026-11-23: 27 payment cases"
    assert "1. Card declined by issuer: 7" in lines
    assert "      e.g. “my Visa card got declined &lt;b&gt;again&lt;/b&gt; &amp; again”" in lines  # escaped
    assert "• Bank transfer / virtual account not reflected: 6 this week (four-week average 1 a week)" in lines
    assert "• Insufficient funds or balance, naming GoPay: 5 this week (four-week average 0.5 a week)" in lines
    assert not any("Card declined" in line for line in lines if line.startswith("•"))
    zh = format_digest(digest, knowledge.ui("zh-CN"), tag_label=lambda t: knowledge.label(t, "zh-CN"),
                       methods=methods, tz=TZ)  # fmt: skip
    assert "• 余额或额度不足，涉及 GoPay：本周 5 个（前四周平均每周 0.5 个）" in zh.splitlines()
    empty = compute_digest([], end=END, methods=methods, min_count=5)
    assert format_digest(empty, knowledge.ui("en"), tag_label=str, methods=methods, tz=TZ).endswith(
        "no payment cases this week.")  # fmt: skip


def test_the_digest_is_due_on_monday_at_nine_local() -> None:
    assert week_anchor(END, TZ) == END
    assert week_anchor(END - timedelta(minutes=1), TZ) == END - timedelta(days=7)
    assert week_anchor(END + timedelta(days=3), TZ) == END


async def seed_week(store: SqlStore, clock: Clock) -> None:
    for i in range(3):
        clock.set(END - timedelta(days=1, hours=i))
        row, _ = await store.record_message(message(f"Ev{i}", text=f"sudah transfer BCA #{i}, belum masuk"))
        await store.save_draft(message_id=row.id, result=draft_result(diagnosis="bank_transfer_delay"))
    clock.set(END)


async def test_send_digest_posts_to_the_ops_channel(store: SqlStore, clock: Clock, knowledge: Knowledge) -> None:
    await seed_week(store, clock)
    posted: list[tuple[str, str]] = []

    async def post(channel: str, text: str) -> None:
        posted.append((channel, text))

    settings = replace(Settings.from_env({"PAYFIX_OPS_CHANNEL": "COPS", "PAYFIX_SPIKE_MIN_COUNT": "3"}),
                       agent_language="en")  # fmt: skip
    digest = await send_digest(store, settings, knowledge, post)
    assert digest.spikes == [Spike("bank_transfer_delay", None, 3, 0.0), Spike("bank_transfer_delay", "bca", 3, 0.0)]
    ((channel, text),) = posted
    assert channel == "COPS" and "sudah transfer BCA #0, belum masuk" in text and "naming BCA: 3" in text


async def test_the_digest_loop_sends_once_a_week(store: SqlStore, clock: Clock, knowledge: Knowledge) -> None:
    await seed_week(store, clock)
    posted = asyncio.Queue[str]()

    async def post(channel: str, text: str) -> None:
        await posted.put(text)

    settings = Settings.from_env({"PAYFIX_OPS_CHANNEL": "COPS", "PAYFIX_TIMEZONE": "Asia/Jakarta"})
    loop = asyncio.create_task(digest_loop(store, settings, knowledge, post, check_every_s=0.01, worker="a"))
    try:
        first = await asyncio.wait_for(posted.get(), timeout=10)
        assert "每周摘要" in first  # no PAYFIX_AGENT_LANGUAGE: Simplified Chinese, like the Slack app
        clock.advance(days=6)  # checks keep running every 10 ms: nothing more is due this week
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(posted.get(), timeout=0.3)
        clock.advance(days=1)  # next Monday 09:00
        await asyncio.wait_for(posted.get(), timeout=10)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def test_no_ops_channel_no_digest(store: SqlStore, knowledge: Knowledge) -> None:
    async def post(channel: str, text: str) -> None:
        raise AssertionError("posted without PAYFIX_OPS_CHANNEL")

    await asyncio.wait_for(digest_loop(store, Settings.from_env({}), knowledge, post, check_every_s=0.01), 5)
