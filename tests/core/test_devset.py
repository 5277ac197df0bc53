"""The labelled development set gates the prefilter, overall and for every language separately."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.evaluate import Prediction, Report, evaluate, read_rows
from bot.knowledge import PAYMENT_TAGS
from bot.pipeline import Engine

DEV = Path(__file__).resolve().parent.parent / "data" / "dev"
ROWS = [row for path in sorted(DEV.glob("*.jsonl")) for row in read_rows(path)]


@pytest.fixture(scope="module")
def report(offline_engine: Engine) -> Report:
    def predict(row: dict[str, object]) -> Prediction:
        c = offline_engine.classify(str(row["text"]), platform=str(row.get("platform") or "auto"))
        return Prediction(c.verdict.is_payment_issue, c.verdict.diagnosis, c.verdict.confidence, c.language.code)

    return evaluate(ROWS, predict)[0]


def test_the_set_is_big_and_varied_enough() -> None:
    languages = Counter(str(r["language"]) for r in ROWS)
    assert len(ROWS) >= 360 and len(languages) >= 12
    assert min(languages.values()) >= 20, languages
    negatives = sum(1 for r in ROWS if r["is_payment"] is False)
    assert negatives / len(ROWS) >= 0.25
    for tag in PAYMENT_TAGS:
        langs_with_tag = {r["language"] for r in ROWS if r.get("diagnosis") == tag}
        assert len(langs_with_tag) >= 6, tag


def test_overall_gates(report: Report) -> None:
    m = report.overall.metrics()
    assert m["recall"] is not None and m["recall"] >= 0.97, m
    assert m["false_positive_rate"] is not None and m["false_positive_rate"] <= 0.03, m
    assert m["diagnosis_accuracy"] is not None and m["diagnosis_accuracy"] >= 0.90, m
    assert m["language_accuracy"] is not None and m["language_accuracy"] >= 0.95, m


@pytest.mark.parametrize("language", sorted({str(r["language"]) for r in ROWS}))
def test_every_language_gates(report: Report, language: str) -> None:
    m = report.by_language[language].metrics()
    assert m["recall"] is not None and m["recall"] >= 0.95, m
    assert m["false_positive_rate"] is not None and m["false_positive_rate"] <= 0.05, m
