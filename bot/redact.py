"""Personal-data redaction: runs before anything leaves the process or is stored.

Card numbers are found by shape and confirmed with the Luhn checksum (so order ids and tracking numbers
survive); CVV, OTP and bank-account numbers only next to their keywords (data in knowledge/redaction.yaml);
phones and e-mails by shape. Marketplace order ids are protected first, because agents need them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from bot.intake import ORDER_ID  # order ids are not personal data: kept as they are
from bot.knowledge import read_yaml
from bot.record import record

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_CARD = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ \-.]?)?(?:\(?0?\d{1,4}\)?[ \-.]?)?\d{3,4}[ \-.]?\d{3,5}(?![\w])")
_THREE_DIGITS = re.compile(r"\d\d\d")
# What redaction puts in place of personal data; the prefilter reads these as blanks, not as words.
PLACEHOLDER = re.compile(r"\[(?:CARD|CVV|OTP|ACCOUNT|PHONE|EMAIL)\]")


def without_placeholders(text: str) -> str:
    """The redacted text with each placeholder blanked, length kept: "[CARD]" and "[OTP]" are the redactor's
    words, not the buyer's, so neither the prefilter (as words) nor the language detector may read them."""
    return PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text) if "[" in text else text


@record
class Redaction:
    """What was removed: the clean text and how many items of each kind."""

    text: str
    counts: dict[str, int]


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum that every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _keyword_pattern(keywords: Iterable[str], low: int, high: int) -> re.Pattern[str]:
    alts = "|".join(sorted((re.escape(k) for k in keywords), key=len, reverse=True))
    # keyword, up to ~12 chars of glue ("is", ":", "số", "=" ...), then the number.
    return re.compile(
        rf"(?i)(?<![a-z])(?:{alts})(?![a-z])([^\d\n]{{0,12}}?)(?<!\d)(\d{{{low},{high}}})(?!\d)"
    )


def _error_code_pattern(error_words: Iterable[str], code_words: Iterable[str]) -> re.Pattern[str] | None:
    """An error word, a code word or ":"/"#" (required), then a 2-8 digit code, optionally with a letter prefix."""
    if not error_words or not code_words:
        return None
    errors = "|".join(sorted((re.escape(w) for w in error_words), key=len, reverse=True))
    codes = "|".join(sorted((re.escape(w) for w in code_words), key=len, reverse=True))
    return re.compile(rf"(?i)(?<![a-z])(?:{errors})\s*(?:{codes})\s*[:#：=]?\s*[A-Z]{{0,3}}-?\d{{2,8}}(?!\d)")


class Redactor:
    """Compiled redaction rules; build once, call `redact` per message."""

    def __init__(
        self, keyword_rules: dict[str, tuple[Sequence[str], int, int]], *, error_code: re.Pattern[str] | None = None
    ) -> None:
        self._error_code = error_code
        self._keyed = [
            (kind.upper(), _keyword_pattern(words, low, high)) for kind, (words, low, high) in keyword_rules.items()
        ]

    @classmethod
    def from_file(cls, path: Path) -> Redactor:
        raw = read_yaml(path)
        codes = raw.pop("error_codes", None) or {}
        rules = {kind: (spec["keywords"], spec["digits"][0], spec["digits"][1]) for kind, spec in raw.items()}
        return cls(rules, error_code=_error_code_pattern(codes.get("error_words", []), codes.get("code_words", [])))

    def redact(self, text: str) -> Redaction:
        counts: dict[str, int] = {}
        protected: list[str] = []

        def protect(m: re.Match[str]) -> str:
            protected.append(m.group(0))
            return f"\x00{len(protected) - 1}\x00"

        def email(m: re.Match[str]) -> str:
            counts["EMAIL"] = counts.get("EMAIL", 0) + 1
            return "[EMAIL]"

        def card(m: re.Match[str]) -> str:
            digits = re.sub(r"\D", "", m.group(0))
            if not luhn_ok(digits):
                return m.group(0)
            counts["CARD"] = counts.get("CARD", 0) + 1
            return "[CARD]"

        out = _EMAIL.sub(email, text) if "@" in text else text
        if not _THREE_DIGITS.search(out):
            return Redaction(out, counts)  # no run of 3+ digits: no card, CVV, OTP, phone or account number
        out = _CARD.sub(card, out)
        out = ORDER_ID.sub(protect, out)
        if self._error_code is not None:
            out = self._error_code.sub(protect, out)
        for kind, pattern in self._keyed:
            out = pattern.sub(functools.partial(_keep_keyword, kind=kind, counts=counts), out)
        out = _PHONE.sub(lambda m: _phone(m, counts), out)
        if protected:
            out = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], out)
        return Redaction(out, counts)


def _keep_keyword(m: re.Match[str], *, kind: str, counts: dict[str, int]) -> str:
    counts[kind] = counts.get(kind, 0) + 1
    start = m.start(2) - m.start(0)
    return f"{m.group(0)[:start]}[{kind}]"


def _phone(m: re.Match[str], counts: dict[str, int]) -> str:
    raw = m.group(0)
    digits = sum(ch.isdigit() for ch in raw)
    # 9-15 digits: shorter runs are amounts, quantities or codes; a phone usually has a + or a leading 0.
    if not 9 <= digits <= 15 or not (raw.lstrip("(").startswith(("+", "0")) or digits >= 10):
        return raw
    counts["PHONE"] = counts.get("PHONE", 0) + 1
    return "[PHONE]"
