"""Benchmark of the pipeline without the LLM, on every distinct message of the development set.

Measures (1) `Engine.classify` — intake, redaction, prefilter, language — and (2) `Engine.draft` end to end
with the KB fallback drafter (retrieval, templates, guard-free fallback, result assembly), per message, with
no cache anywhere: every timed call sees a different text. Also reports prompt tokens per draft and the
stable prefix. Run: `.venv/bin/python bench/pipeline_bench.py` (add `--rounds N`).
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
from bot.pipeline import Engine

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    engine = Engine(Settings.from_env({}))
    texts = list(dict.fromkeys(str(r["text"]) for p in sorted(DEV.glob("*.jsonl")) for r in read_rows(p)))
    for t in texts[:50]:  # warm the fold table and lingua
        engine.classify(t)
    classify_us, draft_us, tokens = [], [], []
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter_ns()
            engine.classify(text)
            classify_us.append((time.perf_counter_ns() - t0) / 1000)
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter_ns()
            result = _run(engine.draft(text))
            draft_us.append((time.perf_counter_ns() - t0) / 1000)
            if result.source != "prefilter":
                tokens.append(result.usage.prompt_tokens)
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"messages: {len(texts)} distinct x {args.rounds} rounds; languages loaded: {len(engine.knowledge.languages)}"
    )
    for name, values in (("classify", classify_us), ("draft (no LLM)", draft_us)):
        print(f"{name:>15}: mean {statistics.fmean(values):7.1f} µs  p50 {_percentile(values, 0.5):7.1f} µs  "
              f"p99 {_percentile(values, 0.99):7.1f} µs")  # fmt: skip
    print(f"prompt tokens per draft: mean {statistics.fmean(tokens):.0f}, max {max(tokens)}; "
          f"stable prefix {engine.stable_prefix_tokens} tokens")  # fmt: skip


if __name__ == "__main__":
    main()
