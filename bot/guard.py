"""Guard rules on every draft: the last line of defence before an agent (and a buyer) sees it.

A draft must not ask for card data, move payment off the platform, link outside the allowlist, promise refunds
or compensation, or be in a language other than the buyer's. The safety line itself ("we will never ask for
your CVV") names sensitive items too, so sensitive sentences pass only when they carry a negation.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import ahocorasick

from bot.knowledge import read_yaml
from bot.language import Detected
from bot.textnorm import fold

_CLAUSE = re.compile(r"[.!?。！？\n;；,，、]+")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)([^\s/?#]+)|\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|co|io|me|ly|gl|id|my|ph|vn|th|sg|br|de|jp|cn|tw)(?:\.[a-z]{2})?)\b")

ASKS_FOR_CARD_DATA = "asks_for_card_data"
OFF_PLATFORM_PAYMENT = "off_platform_payment"
LINK_NOT_ALLOWED = "link_not_allowed"
PROMISES_REFUND = "promises_refund"
WRONG_LANGUAGE = "wrong_language"
EMPTY_REPLY = "empty_reply"


LANGUAGE_SAMPLE_CHARS = 240  # a reply's language shows in its first sentences; lingua reads only 160 anyway
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_UNSEGMENTED = re.compile(r"[\u0E00-\u0E7F\u2E80-\uFFEF]")


class _Term(NamedTuple):
    rule: str  # negations | sensitive | request_verbs | off_platform | promises
    length: int
    whole_word: bool  # a Latin term: no letter or digit may touch its start (nor its end, unless a prefix)
    prefix: bool


def _terms(rules: dict[str, list[str]]) -> ahocorasick.Automaton:
    """Every term of every rule list in one automaton over folded text: a reply is scanned once, not once per
    list and clause (regex alternations with word-boundary assertions cost ~15 µs a clause each)."""
    found: dict[str, list[_Term]] = {}
    for rule, terms in rules.items():
        for term in terms:
            raw = str(term).strip()
            key = fold(raw.rstrip("*")).strip()
            latin = raw.isascii() or not _UNSEGMENTED.search(raw)
            found.setdefault(key, []).append(_Term(rule, len(key), latin, raw.endswith("*")))
    automaton = ahocorasick.Automaton()
    for key, entries in found.items():
        automaton.add_word(key, tuple(entries))
    automaton.make_automaton()
    return automaton


class Guard:
    def __init__(
        self, rules: dict[str, list[str]], allowlist: Sequence[str], language_of: Callable[[str], Detected] | None
    ) -> None:
        self._terms = _terms(rules)
        self._allowlist = tuple(a.lower() for a in allowlist)
        self._language_of = language_of

    @classmethod
    def from_file(
        cls, path: Path, allowlist: Sequence[str], language_of: Callable[[str], Detected] | None
    ) -> Guard:
        """`language_of` is the pipeline's own language detection (lexicon votes, then lingua): the same
        judgement the buyer's message got, at a fraction of lingua-alone's cost on a long reply."""
        return cls(read_yaml(path), allowlist, language_of)

    def check(self, reply: str, *, language: str) -> list[str]:
        """Every rule the reply breaks (empty when it is safe to show)."""
        if not reply.strip():
            return [EMPTY_REPLY]
        flags: list[str] = []
        for rules in self._rules_by_clause(reply):
            negated = "negations" in rules
            if "sensitive" in rules and not negated and "request_verbs" in rules:
                flags.append(ASKS_FOR_CARD_DATA)
            if "off_platform" in rules and not negated:
                flags.append(OFF_PLATFORM_PAYMENT)
            if "promises" in rules and not negated:
                flags.append(PROMISES_REFUND)
        if any(not self._allowed(host) for host in self._hosts(reply)):
            flags.append(LINK_NOT_ALLOWED)
        if self._language_of is not None and self._wrong_language(reply, language):
            flags.append(WRONG_LANGUAGE)
        return list(dict.fromkeys(flags))

    def _rules_by_clause(self, reply: str) -> list[set[str]]:
        """For each clause (split at . ! ? , ; and their CJK forms), the rule lists with a term inside it.
        A negation counts only in its own clause, so a term must lie wholly within one."""
        cuts = [m.span() for m in _CLAUSE.finditer(reply)]
        starts = [0, *(stop for _, stop in cuts)]
        ends = [start for start, _ in cuts] + [len(reply)]
        folded = fold(reply)  # one character for one: positions in `folded` are positions in `reply`
        clauses: list[set[str]] = [set() for _ in starts]
        for last, terms in self._terms.iter(folded):
            for term in terms:
                first = last - term.length + 1
                if term.whole_word and not _whole_word(folded, first, last, prefix=term.prefix):
                    continue
                index = bisect.bisect_right(starts, first) - 1
                if last < ends[index]:
                    clauses[index].add(term.rule)
        return clauses

    @staticmethod
    def _hosts(reply: str) -> list[str]:
        return [(m.group(1) or m.group(2)).lower() for m in _URL.finditer(reply)]

    def _allowed(self, host: str) -> bool:
        host = host.removeprefix("www.")
        return any(host.startswith(a) or f".{a}" in f".{host}" for a in self._allowlist)

    def _wrong_language(self, reply: str, language: str) -> bool:
        assert self._language_of is not None
        found = self._language_of(reply[:LANGUAGE_SAMPLE_CHARS])
        same_family = found.code.split("-")[0] == language.split("-")[0]
        # Malay and Indonesian replies are close enough that lingua may confuse them: either is acceptable.
        return not same_family and {found.code, language} != {"id", "ms"}


def _whole_word(folded: str, first: int, last: int, *, prefix: bool) -> bool:
    """No letter or digit right before the term, nor right after it (a prefix term may go on)."""
    if first > 0 and folded[first - 1] in _WORD_CHARS:
        return False
    return prefix or last + 1 >= len(folded) or folded[last + 1] not in _WORD_CHARS
