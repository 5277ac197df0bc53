"""The weekly digest to operations (PAYFIX_OPS_CHANNEL): the most frequent problems with example (redacted)
messages, and spike alerts so operations can add a storefront notice or an FAQ entry.

Spike rule: over the last 7 days, a tag — or a tag together with one bank, wallet or payment method named in the
messages — counts at least PAYFIX_SPIKE_MIN_COUNT cases and at least twice its average week over the four weeks
before. Sent once a week (Monday 09:00 in PAYFIX_TIMEZONE, or at the first start after it), by one replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.analytics.facts import Case, load_cases
from bot.analytics.methods import PaymentMethods
from bot.config import Settings
from bot.errors import PayfixError
from bot.knowledge import Knowledge
from bot.store.maintenance import run_once_across_replicas, worker_name
from bot.store.sql import SqlStore

log = logging.getLogger("payfix.digest")
WEEK = timedelta(days=7)
HISTORY_WEEKS = 4
DIGEST_JOB = "weekly_digest"
EXAMPLE_CHARS = 160
Post = Callable[[str, str], Awaitable[None]]  # (channel, text)


class DeliveryFailed(Exception):
    """The digest could not be posted; the job is retried at the next check."""


@dataclass(frozen=True, slots=True)
class TopTag:
    tag: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Spike:
    tag: str
    method: str | None  # None: the tag as a whole
    count: int
    average: float  # cases per week over the four weeks before


@dataclass(frozen=True, slots=True)
class Digest:
    start: datetime
    end: datetime
    cases: int
    top: list[TopTag]
    spikes: list[Spike]
    min_count: int


def compute_digest(cases: list[Case], *, end: datetime, methods: PaymentMethods, min_count: int, top_n: int = 5,
                   examples: int = 2) -> Digest:  # fmt: skip
    """`cases` must cover the five weeks before `end`; the digest is about the last one."""
    start = end - WEEK
    this_week = [c for c in cases if start <= c.received_at < end]
    before = [c for c in cases if start - HISTORY_WEEKS * WEEK <= c.received_at < start]
    now = Counter(key for case in this_week for key in _keys(case, methods))
    past = Counter(key for case in before for key in _keys(case, methods))
    spikes = [
        Spike(tag, method, count, past[(tag, method)] / HISTORY_WEEKS)
        for (tag, method), count in now.items()
        if count >= min_count and count >= 2 * past[(tag, method)] / HISTORY_WEEKS
    ]
    spikes.sort(key=lambda s: (-s.count, s.tag, s.method or ""))
    tags = Counter(case.diagnosis for case in this_week)
    top = [
        TopTag(tag, count, tuple(_shorten(c.text) for c in reversed(this_week) if c.diagnosis == tag)[:examples])
        for tag, count in sorted(tags.items(), key=lambda item: (-item[1], item[0]))[:top_n]
    ]
    return Digest(start, end, len(this_week), top, spikes, min_count)


def _keys(case: Case, methods: PaymentMethods) -> Iterator[tuple[str, str | None]]:
    yield case.diagnosis, None
    for method in methods.find(case.text):
        yield case.diagnosis, method


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXAMPLE_CHARS else flat[: EXAMPLE_CHARS - 1].rstrip() + "…"


def _escape(text: str) -> str:
    """The digest is Slack mrkdwn: buyer text must not turn into links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_digest(digest: Digest, strings: Mapping[str, str], *, tag_label: Callable[[str], str],
                  methods: PaymentMethods, tz: ZoneInfo) -> str:  # fmt: skip
    last_day = (digest.end - timedelta(seconds=1)).astimezone(tz)
    dates = {"start": f"{digest.start.astimezone(tz):%Y-%m-%d}", "end": f"{last_day:%Y-%m-%d}"}
    if not digest.cases:
        return strings["digest_empty"].format(**dates)
    lines = [strings["digest_title"].format(cases=digest.cases, **dates), strings["digest_top"]]
    for rank, top in enumerate(digest.top, 1):
        lines.append(strings["digest_top_item"].format(rank=rank, label=tag_label(top.tag), count=top.count))
        lines += [strings["digest_example"].format(text=_escape(example)) for example in top.examples]
    if not digest.spikes:
        lines.append(strings["digest_no_spikes"])
        return "\n".join(lines)
    lines.append(strings["digest_spikes"].format(min_count=digest.min_count))
    for spike in digest.spikes:
        values = {"label": tag_label(spike.tag), "count": spike.count, "average": f"{spike.average:g}"}
        if spike.method is None:
            lines.append(strings["digest_spike"].format(**values))
        else:
            lines.append(strings["digest_spike_method"].format(method=methods.name(spike.method), **values))
    return "\n".join(lines)


def week_anchor(now: datetime, tz: ZoneInfo) -> datetime:
    """The latest Monday 09:00 (local) at or before `now`: when this week's digest became due."""
    local = now.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    return monday if monday <= local else monday - WEEK


async def send_digest(store: SqlStore, settings: Settings, knowledge: Knowledge, post: Post) -> Digest:
    """Compute the digest for the week before now and post it to the ops channel."""
    assert settings.ops_channel, "send_digest needs PAYFIX_OPS_CHANNEL"
    tz = ZoneInfo(settings.timezone)
    end = store.clock()
    cases = await store.run(lambda s: load_cases(s, end - (HISTORY_WEEKS + 1) * WEEK, end))
    methods = PaymentMethods.load(settings.knowledge_dir / "payment_methods.yaml")
    digest = compute_digest(cases, end=end, methods=methods, min_count=settings.spike_min_count)
    language = settings.agent_language or "zh-CN"
    text = format_digest(digest, knowledge.ui(language), tag_label=lambda tag: knowledge.label(tag, language)
                         if tag in knowledge.tags else tag, methods=methods, tz=tz)  # fmt: skip
    await post(settings.ops_channel, text)
    return digest


async def digest_loop(store: SqlStore, settings: Settings, knowledge: Knowledge, post: Post, *,
                      check_every_s: float = 3600.0, worker: str | None = None) -> None:  # fmt: skip
    """For `payfix serve`: send the weekly digest once a week, on one replica. Without PAYFIX_OPS_CHANNEL: off."""
    if not settings.ops_channel:
        log.info("weekly digest off: PAYFIX_OPS_CHANNEL is not set")
        return
    worker = worker or worker_name()
    tz = ZoneInfo(settings.timezone)
    while True:
        try:
            await run_once_across_replicas(
                store, name=DIGEST_JOB, every=WEEK, worker=worker, due_before=week_anchor(store.clock(), tz),
                job=lambda: send_digest(store, settings, knowledge, post),
            )  # fmt: skip
        except DeliveryFailed as exc:
            log.warning("weekly digest not delivered (%s): retrying later", exc)
        except PayfixError as exc:
            log.warning("weekly digest skipped: %s", exc.en)
        except SQLAlchemyError:
            log.exception("weekly digest failed")
        await asyncio.sleep(check_every_s)
