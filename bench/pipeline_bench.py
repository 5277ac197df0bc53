"""Benchmark of the pipeline without the LLM, on every distinct message of the development set.

Measures (1) `Engine.classify` — intake, redaction, prefilter, language — and (2) `Engine.draft` end to end
with the KB fallback drafter (retrieval, templates, guard-free fallback, result assembly), per message, with
no cache anywhere: every timed call sees a different text. Also reports prompt tokens per draft and the
stable prefix (counted outside the timed calls: an offline draft sends no prompt).
Run: `.venv/bin/python bench/pipeline_bench.py` (add `--rounds N`).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, cast

from bot.config import Settings
from bot.evaluate import read_rows
from bot.models import DraftResult
from bot.pipeline import KB_BUDGET_TOKENS, Engine

DEV = Path(__file__).resolve().parent.parent / "tests" / "data" / "dev"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _run(coro: Coroutine[Any, Any, DraftResult]) -> DraftResult:
    """Drive a coroutine that never suspends (no LLM: nothing to await) without an event loop's overhead."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(DraftResult, done.value)
    raise RuntimeError("the offline pipeline suspended: it awaited real I/O")


def prompt_tokens(engine: Engine, text: str) -> int:
    """Tokens of the prompt an LLM draft of `text` would send (0 for a message that is not about payment)."""
    c = engine.classify(text)
    if not c.verdict.is_payment_issue:
        return 0
    sections = engine.kb.retrieve(diagnosis=c.verdict.diagnosis, platform=c.intake.platform,
                                  budget_tokens=KB_BUDGET_TOKENS)  # fmt: skip
    return engine.prompt_tokens(c, sections)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    engine = Engine(Settings.from_env({}))
    texts = list(dict.fromkeys(str(r["text"]) for p in sorted(DEV.glob("*.jsonl")) for r in read_rows(p)))
    for t in texts[:50]:  # warm the fold table and lingua
        engine.classify(t)
    classify_us: list[float] = []
    draft_us: list[float] = []
    round_means: dict[str, list[float]] = {"classify": [], "draft (no LLM)": []}
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter_ns()
            engine.classify(text)
            classify_us.append((time.perf_counter_ns() - t0) / 1000)
        round_means["classify"].append(statistics.fmean(classify_us[-len(texts) :]))
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter_ns()
            _run(engine.draft(text))
            draft_us.append((time.perf_counter_ns() - t0) / 1000)
        round_means["draft (no LLM)"].append(statistics.fmean(draft_us[-len(texts) :]))
    tokens = [prompt_tokens(engine, text) for text in texts]
    tokens = [n for n in tokens if n]
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"messages: {len(texts)} distinct x {args.rounds} rounds; languages loaded: {len(engine.knowledge.languages)}"
    )
    for name, values in (("classify", classify_us), ("draft (no LLM)", draft_us)):
        rounds = " ".join(f"{m:.1f}" for m in round_means[name])
        print(f"{name:>15}: mean {statistics.fmean(values):7.1f} µs  p50 {_percentile(values, 0.5):7.1f} µs  "
              f"p99 {_percentile(values, 0.99):7.1f} µs  (round means: {rounds} µs)")  # fmt: skip
    print(f"prompt tokens per draft: mean {statistics.fmean(tokens):.0f}, max {max(tokens)}; "
          f"stable prefix {engine.stable_prefix_tokens} tokens")  # fmt: skip


if __name__ == "__main__":
    main()
