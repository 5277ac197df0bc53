"""The `payfix` command as a user runs it: real subprocesses, exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SLACK_", "PAYFIX_"))}


def payfix(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, env=ENV, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (("draft", "-"), b"", b"empty"),
        (("draft", "-"), b"   \n\t  ", b"empty"),
        (("draft", "-"), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"binary"),
        (("draft", "-"), b"caf\xe9 payment failed", b"UTF-8"),
        (("draft", "-"), b"\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11ok", b"control"),
        (("draft", "12345 !!! 678"), None, b"no words"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(args: tuple[str, ...], stdin: bytes | None, needle: bytes) -> None:
    done = payfix(*args, stdin=stdin)
    assert done.returncode == 2, done.stderr
    assert needle in done.stderr
    assert b"Traceback" not in done.stderr


def test_unknown_file_and_bad_platform(tmp_path: Path) -> None:
    missing = payfix("draft", f"@{tmp_path / 'nope.txt'}")
    assert missing.returncode == 2 and b"Cannot read" in missing.stderr
    assert payfix("draft", "card declined", "--platform", "ebay").returncode == 2  # argparse refuses it


def test_placeholder_secret_fails_fast() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "draft", "card declined"],
        env={**ENV, "OPENAI_API_KEY": "changeme"}, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 3 and b"OPENAI_API_KEY" in done.stderr


def test_draft_json_has_the_documented_fields() -> None:
    done = payfix("draft", "My card was declined at checkout, card 4111 1111 1111 1111", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    for key in (
        "is_payment_issue",
        "diagnosis",
        "confidence",
        "evidence",
        "language",
        "platform",
        "reply",
        "reply_translation",
        "citations",
        "next_actions",
        "follow_up_hours",
        "source",
        "guard_flags",
        "usage",
    ):
        assert key in data, key  # fmt: skip
    assert data["is_payment_issue"] is True and data["source"] == "fallback"
    assert data["diagnosis"] == "card_declined" and data["language"] == "en"
    assert "4111" not in done.stdout.decode()


def test_huge_input_is_truncated_with_a_notice() -> None:
    text = ("my card was declined again " * 2000).encode()
    done = payfix("draft", "-", "--json", stdin=text)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert any("characters" in n or "字符" in n for n in data["notices"])


def test_eval_writes_one_prediction_per_row_in_order(tmp_path: Path) -> None:
    rows = [
        {"text": "card declined at checkout", "is_payment": True, "diagnosis": "card_declined", "language": "en"},
        {"text": "when will my parcel ship?", "is_payment": False, "language": "en"},
        {"text": "payment failed", "is_payment": "maybe"},
    ]
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    done = payfix("eval", str(data), "--predictions", str(out), "--json")
    assert done.returncode == 0, done.stderr
    preds = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(preds) == 3
    assert preds[0]["is_payment_issue"] is True and preds[1]["is_payment_issue"] is False
    report = json.loads(done.stdout)
    assert report["overall"]["n"] == 2  # the non-boolean row is scored as neither


def test_eval_rejects_malformed_jsonl(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{not json\n', encoding="utf-8")
    done = payfix("eval", str(bad))
    assert done.returncode == 2 and b":2:" in done.stderr


def test_a_language_without_rules_gets_an_english_unclear_draft_and_a_notice() -> None:
    """No French rules: the prefilter cannot judge, so the agent gets the case rather than silence."""
    text = "Bonjour, ma carte bancaire a été refusée au moment du paiement, que dois-je faire ?"
    done = payfix("draft", text, "--json", "--agent-language", "en")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["is_payment_issue"], result["diagnosis"], result["language"]) == (True, "unclear", "fr")
    assert result["reply"].startswith("Hi") and any("English" in notice for notice in result["notices"])
    short = json.loads(payfix("draft", "merci beaucoup", "--json").stdout)
    assert short["is_payment_issue"] is False
