"""Guard rules on every draft: the last line of defence before an agent (and a buyer) sees it.

A draft must not ask for card data, move payment off the platform, link outside the allowlist, promise refunds
or compensation, or be in a language other than the buyer's. The safety line itself ("we will never ask for
your CVV") names sensitive items too, so sensitive sentences pass only when they carry a negation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from bot.knowledge import read_yaml
from bot.language import LanguageDetector
from bot.textnorm import fold

_CLAUSE = re.compile(r"[.!?。！？\n;；,，、]+")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)([^\s/?#]+)|\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|co|io|me|ly|gl|id|my|ph|vn|th|sg|br|de|jp|cn|tw)(?:\.[a-z]{2})?)\b")

ASKS_FOR_CARD_DATA = "asks_for_card_data"
OFF_PLATFORM_PAYMENT = "off_platform_payment"
LINK_NOT_ALLOWED = "link_not_allowed"
PROMISES_REFUND = "promises_refund"
WRONG_LANGUAGE = "wrong_language"
EMPTY_REPLY = "empty_reply"


def _compile(terms: list[str]) -> re.Pattern[str]:
    """One regex per rule list over folded text: whole words for Latin terms (`*` = prefix), substrings else."""
    parts = []
    for term in terms:
        raw = str(term).strip()
        body = re.escape(fold(raw.rstrip("*")).strip())
        if raw.isascii() or not re.search(r"[\u0E00-\u0E7F\u2E80-\uFFEF]", raw):
            body = rf"(?<![a-z0-9]){body}" + ("" if raw.endswith("*") else r"(?![a-z0-9])")
        parts.append(body)
    return re.compile("|".join(parts))


class Guard:
    def __init__(
        self, rules: dict[str, list[str]], allowlist: Sequence[str], detector: LanguageDetector | None
    ) -> None:
        self._rules = {key: _compile(terms) for key, terms in rules.items()}
        self._allowlist = tuple(a.lower() for a in allowlist)
        self._detector = detector

    @classmethod
    def from_file(cls, path: Path, allowlist: Sequence[str], detector: LanguageDetector | None) -> Guard:
        return cls(read_yaml(path), allowlist, detector)

    def check(self, reply: str, *, language: str) -> list[str]:
        """Every rule the reply breaks (empty when it is safe to show)."""
        if not reply.strip():
            return [EMPTY_REPLY]
        flags: list[str] = []
        for clause in filter(None, (s.strip() for s in _CLAUSE.split(reply))):
            folded = fold(clause)
            negated = self._has("negations", folded)
            if self._has("sensitive", folded) and not negated and self._has("request_verbs", folded):
                flags.append(ASKS_FOR_CARD_DATA)
            if self._has("off_platform", folded) and not negated:
                flags.append(OFF_PLATFORM_PAYMENT)
            if self._has("promises", folded) and not negated:
                flags.append(PROMISES_REFUND)
        if any(not self._allowed(host) for host in self._hosts(reply)):
            flags.append(LINK_NOT_ALLOWED)
        if self._detector is not None and self._wrong_language(reply, language):
            flags.append(WRONG_LANGUAGE)
        return list(dict.fromkeys(flags))

    def _has(self, key: str, folded: str) -> bool:
        pattern = self._rules.get(key)
        return bool(pattern and pattern.search(folded))

    @staticmethod
    def _hosts(reply: str) -> list[str]:
        return [(m.group(1) or m.group(2)).lower() for m in _URL.finditer(reply)]

    def _allowed(self, host: str) -> bool:
        host = host.removeprefix("www.")
        return any(host.startswith(a) or f".{a}" in f".{host}" for a in self._allowlist)

    def _wrong_language(self, reply: str, language: str) -> bool:
        assert self._detector is not None
        found = self._detector.detect(reply, {})
        same_family = found.code.split("-")[0] == language.split("-")[0]
        # Malay and Indonesian replies are close enough that lingua may confuse them: either is acceptable.
        return not same_family and {found.code, language} != {"id", "ms"}
