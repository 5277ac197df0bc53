"""`payfix eval`: score the prefilter (or the whole pipeline) on a labelled JSONL file.

Rows: {"text", "platform"?, "is_payment"?, "diagnosis"?, "language"?}. A row whose `is_payment` is not a
boolean is scored as neither positive nor negative (it still gets a prediction line).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import InputError


@dataclass(frozen=True, slots=True)
class Prediction:
    is_payment_issue: bool
    diagnosis: str
    confidence: float
    language: str


@dataclass(slots=True)
class Tally:
    """Counts for one slice (overall or one language)."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    diag_ok: int = 0
    diag_n: int = 0
    lang_ok: int = 0
    lang_n: int = 0

    def add(self, row: dict[str, Any], pred: Prediction) -> None:
        gold = row.get("is_payment")
        if isinstance(gold, bool):
            if gold:
                self.tp += pred.is_payment_issue
                self.fn += not pred.is_payment_issue
            else:
                self.fp += pred.is_payment_issue
                self.tn += not pred.is_payment_issue
            if gold and isinstance(row.get("diagnosis"), str):
                self.diag_n += 1
                self.diag_ok += pred.diagnosis == row["diagnosis"]
        if isinstance(row.get("language"), str):
            self.lang_n += 1
            self.lang_ok += pred.language == row["language"]

    def metrics(self) -> dict[str, float | int | None]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "n": self.tp + self.fn + self.fp + self.tn,
            "recall": ratio(self.tp, self.tp + self.fn),
            "precision": ratio(self.tp, self.tp + self.fp),
            "false_positive_rate": ratio(self.fp, self.fp + self.tn),
            "diagnosis_accuracy": ratio(self.diag_ok, self.diag_n),
            "language_accuracy": ratio(self.lang_ok, self.lang_n),
        }


@dataclass(slots=True)
class Report:
    overall: Tally = field(default_factory=Tally)
    by_language: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, row: dict[str, Any], pred: Prediction) -> None:
        self.overall.add(row, pred)
        self.by_language[str(row.get("language") or pred.language)].add(row, pred)
        if isinstance(row.get("is_payment"), bool):
            gold = row.get("diagnosis") if row["is_payment"] else "not_payment"
            self.confusion[(str(gold), pred.diagnosis)] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.metrics(),
            "by_language": {k: v.metrics() for k, v in sorted(self.by_language.items())},
            "confusion": [{"gold": g, "predicted": p, "count": c} for (g, p), c in sorted(self.confusion.items())],
        }


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file; a malformed line is an input error naming the line."""
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read {path}: {exc}", f"无法读取 {path}：{exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not JSON ({exc.msg})", f"{path}:{number}：不是合法 JSON") from exc
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise InputError(f"{path}:{number}: a row needs a string 'text'", f"{path}:{number}：每行需要字符串 text")
        rows.append(row)
    return rows


def evaluate(
    rows: Iterable[dict[str, Any]], predict: Callable[[dict[str, Any]], Prediction]
) -> tuple[Report, list[Prediction]]:
    report, predictions = Report(), []
    for row in rows:
        pred = predict(row)
        predictions.append(pred)
        report.add(row, pred)
    return report, predictions


def format_report(report: Report) -> str:
    """A plain-text table: overall, per language, then the confusion pairs that are wrong."""
    data = report.as_dict()
    cols = ("n", "recall", "precision", "false_positive_rate", "diagnosis_accuracy", "language_accuracy")
    head = f"{'slice':<8}" + "".join(f"{c[:12]:>13}" for c in cols)
    lines = [head, "-" * len(head)]
    for name, m in [("overall", data["overall"]), *data["by_language"].items()]:
        lines.append(f"{name:<8}" + "".join(f"{_fmt(m[c]):>13}" for c in cols))
    wrong = [c for c in data["confusion"] if c["gold"] != c["predicted"]]
    if wrong:
        lines += ["", "confusions (gold -> predicted: count)"]
        lines += [f"  {c['gold']} -> {c['predicted']}: {c['count']}" for c in wrong]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    return "-" if value is None else str(value)
