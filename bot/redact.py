"""Personal-data redaction: runs before anything leaves the process or is stored.

Card numbers are found by shape and confirmed with the Luhn checksum (so order ids and tracking numbers
survive); CVV, OTP and bank-account numbers only next to their keywords (data in knowledge/redaction.yaml);
phones and e-mails by shape. Marketplace order ids are protected first, because agents need them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
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


def _keywords(words: Iterable[str]) -> str:
    """An alternation of lower-case keywords, each required to start a word: "otp(?<![a-z]otp)".

    The text is matched lower-cased instead of with IGNORECASE, and each keyword checks the letter before it
    from behind instead of a lookbehind in front: a pattern whose alternatives all open with a plain letter lets
    `re` jump straight to the characters that can start a keyword (~7 → ~1 µs a pattern on a message)."""
    escaped = sorted((re.escape(w.lower()) for w in words), key=len, reverse=True)
    return "|".join(f"{k}(?<![a-z]{k})" for k in escaped)


def _keyword_pattern(keywords: Iterable[str], low: int, high: int) -> re.Pattern[str]:
    # keyword, up to ~12 chars of glue ("is", ":", "số", "=" ...), then the number.
    return re.compile(rf"(?:{_keywords(keywords)})(?![a-z])([^\d\n]{{0,12}}?)(?<!\d)(\d{{{low},{high}}})(?!\d)")


def _error_code_pattern(error_words: Iterable[str], code_words: Iterable[str]) -> re.Pattern[str] | None:
    """An error word, a code word or ":"/"#" (required), then a 2-8 digit code, optionally with a letter prefix."""
    if not error_words or not code_words:
        return None
    codes = "|".join(sorted((re.escape(w.lower()) for w in code_words), key=len, reverse=True))
    return re.compile(rf"(?:{_keywords(error_words)})\s*(?:{codes})\s*[:#：=]?\s*[a-z]{{0,3}}-?\d{{2,8}}(?!\d)")


def _lower(text: str) -> str:
    """Lower case, one character for one (a rare "İ" lowers to two): offsets in it are offsets in `text`."""
    low = text.lower()
    return low if len(low) == len(text) else "".join(ch.lower()[:1] or ch for ch in text)


def _sub_aligned(
    pattern: re.Pattern[str], text: str, low: str, replace: Callable[[str, re.Match[str]], str]
) -> tuple[str, str]:
    """Replace each match of `pattern` in `low` (the lower-cased `text`) by `replace(original piece, match)`,
    in both strings, so they stay aligned for the next pattern."""
    pieces: list[str] = []
    low_pieces: list[str] = []
    last = 0
    for m in pattern.finditer(low):
        start, end = m.span()
        new = replace(text[start:end], m)
        pieces += (text[last:start], new)
        low_pieces += (low[last:start], _lower(new))
        last = end
    if not pieces:
        return text, low
    return "".join([*pieces, text[last:]]), "".join([*low_pieces, low[last:]])


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

        def protect_piece(piece: str) -> str:
            protected.append(piece)
            return f"\x00{len(protected) - 1}\x00"

        def protect(m: re.Match[str]) -> str:
            return protect_piece(m.group(0))

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
        out = ORDER_ID.sub(protect, out)  # before lower-casing: Shopee order ids are upper case
        low = _lower(out)
        if self._error_code is not None:
            out, low = _sub_aligned(self._error_code, out, low, lambda piece, _: protect_piece(piece))
        for kind, pattern in self._keyed:
            out, low = _sub_aligned(pattern, out, low, functools.partial(_keep_keyword, kind=kind, counts=counts))
        out = _PHONE.sub(lambda m: _phone(m, counts), out)
        if protected:
            out = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], out)
        return Redaction(out, counts)


def _keep_keyword(piece: str, m: re.Match[str], *, kind: str, counts: dict[str, int]) -> str:
    counts[kind] = counts.get(kind, 0) + 1
    return f"{piece[: m.start(2) - m.start(0)]}[{kind}]"


def _phone(m: re.Match[str], counts: dict[str, int]) -> str:
    raw = m.group(0)
    digits = sum(ch.isdigit() for ch in raw)
    # 9-15 digits: shorter runs are amounts, quantities or codes; a phone usually has a + or a leading 0.
    if not 9 <= digits <= 15 or not (raw.lstrip("(").startswith(("+", "0")) or digits >= 10):
        return raw
    counts["PHONE"] = counts.get("PHONE", 0) + 1
    return "[PHONE]"
