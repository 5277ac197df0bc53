"""The keyword prefilter: is this a payment problem, which kind, and which words say so.

All phrases of all languages live in one Aho-Corasick automaton over folded text, so one pass finds tag
evidence, payment context, negatives and language markers together — a few microseconds per message,
and no LLM call for messages that are not about payment. The rules are data (knowledge/languages/*/rules.yaml).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick

from bot.knowledge import PAYMENT_TAGS, Knowledge, LanguagePack
from bot.redact import PLACEHOLDER
from bot.textnorm import fold, is_boundary

WEIGHTS = {"strong": 2.0, "weak": 1.0}
PAYMENT_THRESHOLD = 2.0
NESTED_BONUS_CAP = 1.0


class _Entry(NamedTuple):
    kind: str  # "tag" | "ctx" | "neg" | "mark"
    target: str  # tag id, or language code for markers
    weight: float
    lang: str
    length: int
    left: bool  # require a word boundary on the left
    right: bool  # ... and on the right


@dataclass(slots=True)
class Scan:
    """What one pass of the automaton found."""

    spans: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)  # tag → (start, end, weight)
    negative_spans: list[tuple[int, int, float]] = field(default_factory=list)
    context: float = 0.0
    lang_votes: dict[str, float] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    negative_evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PrefilterResult:
    """The prefilter's verdict with its reasons."""

    is_payment_issue: bool
    diagnosis: str
    confidence: float
    ranked: tuple[tuple[str, float], ...]
    evidence: tuple[str, ...]
    negative_evidence: tuple[str, ...]
    lang_votes: dict[str, float]


class _Group(NamedTuple):
    """The entries of one phrase that share its boundary rule, pre-aggregated at start-up: one boundary test
    and one vote update per language, whatever the number of packs that list the phrase."""

    length: int
    left: bool
    right: bool
    votes: tuple[tuple[str, float], ...]  # language → language-vote increment
    entries: tuple[_Entry, ...]  # tag, context and negative entries, one per (kind, target)


class Prefilter:
    """Compiled rules of every language pack."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._priority = {tid: tag.priority for tid, tag in knowledge.tags.items()}
        self._automaton = ahocorasick.Automaton()
        table: dict[str, list[_Entry]] = {}
        for pack in knowledge.languages.values():
            for phrase, entry in _entries(pack):
                table.setdefault(phrase, []).append(entry)
        for phrase, entries in table.items():
            self._automaton.add_word(phrase, _groups(entries))
        self.phrase_count = len(table)
        self._automaton.make_automaton()

    def scan(self, text: str) -> Scan:
        """Find every rule phrase in `text` (already NFC-normalised) and add up the evidence.

        This loop runs for every hit of every message, so it is written for CPython: groups unpacked as plain
        tuples and the word-boundary test inlined (`_inside_word`).
        """
        if "[" in text:  # "[CARD]" says nothing about the problem; as a word it would ("card", "cvv", "otp")
            text = PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text)
        folded = fold(text)
        last = len(folded) - 1
        scan = Scan()
        votes = scan.lang_votes
        seen: set[tuple[str, str, int, int]] = set()
        for end, groups in self._automaton.iter(folded):
            for length, left, right, increments, entries in groups:
                start = end - length + 1
                if left and start > 0 and _inside_word(folded[start - 1]):
                    continue
                if right and end < last and _inside_word(folded[end + 1]):
                    continue
                for lang, increment in increments:
                    votes[lang] = votes.get(lang, 0.0) + increment
                if not entries:
                    continue  # a language marker only
                stop = end + 1
                if left and not right:  # a prefix rule (`declin*`): show the whole word as evidence
                    while stop <= last and _inside_word(folded[stop]):
                        stop += 1
                for e in entries:
                    key = (e.kind, e.target, start, end)
                    if key not in seen:  # the same words listed by two languages count once
                        seen.add(key)
                        _add(scan, e, start, stop, text[start:stop])
        return scan

    @staticmethod
    def scores(scan: Scan) -> tuple[dict[str, float], float]:
        """Tag scores and the negative weight, with overlapping phrases counted as one piece of evidence.

        "debit card keeps failing", "card keeps failing" and "failing" say one thing, not three: a group of
        overlapping matches scores its strongest phrase plus at most `NESTED_BONUS_CAP` for the rest, so long
        rules add confidence without outvoting a different tag just by nesting.
        """
        return {tag: _merged(spans) for tag, spans in scan.spans.items()}, _merged(scan.negative_spans)

    def classify(self, text: str) -> PrefilterResult:
        scan = self.scan(text)
        tag_scores, negative = self.scores(scan)
        ranked = tuple(sorted(tag_scores.items(), key=lambda kv: (-kv[1], self._priority[kv[0]])))
        top = ranked[0][1] if ranked else 0.0
        net = top + min(scan.context, 1.0) - negative
        is_payment = net >= PAYMENT_THRESHOLD
        specific = [(t, s) for t, s in ranked if t != "unclear"]
        if not is_payment:
            diagnosis, confidence = "not_payment", _confidence_not_payment(net)
        elif specific:
            runner_up = specific[1][1] if len(specific) > 1 else 0.0
            diagnosis = specific[0][0]
            confidence = round(min(0.95, 0.45 + 0.1 * specific[0][1] + 0.1 * (specific[0][1] - runner_up)), 2)
        else:
            diagnosis, confidence = "unclear", 0.5
        return PrefilterResult(
            is_payment_issue=is_payment,
            diagnosis=diagnosis,
            confidence=confidence,
            ranked=ranked,
            evidence=tuple(dict.fromkeys(scan.evidence)),
            negative_evidence=tuple(dict.fromkeys(scan.negative_evidence)),
            lang_votes=scan.lang_votes,
        )


def _groups(entries: list[_Entry]) -> tuple[_Group, ...]:
    by_rule: dict[tuple[int, bool, bool], tuple[dict[str, float], dict[tuple[str, str], _Entry]]] = {}
    for e in entries:
        votes, scoring = by_rule.setdefault((e.length, e.left, e.right), ({}, {}))
        votes[e.lang] = votes.get(e.lang, 0.0) + (e.weight if e.kind == "mark" else 1.0)
        if e.kind != "mark":
            scoring.setdefault((e.kind, e.target), e)
    return tuple(
        _Group(length, left, right, tuple(votes.items()), tuple(scoring.values()))
        for (length, left, right), (votes, scoring) in by_rule.items()
    )


def _inside_word(char: str) -> bool:
    """`not is_boundary(char)` for folded text, where every non-alphanumeric character is already a space:
    Thai (U+0E00–U+0E7F) and CJK (from U+2E80) characters end a Latin word too."""
    return char != " " and (char < "\u0e00" or "\u0e7f" < char < "\u2e80")


def _add(scan: Scan, e: _Entry, start: int, stop: int, original: str) -> None:
    if e.kind == "tag":
        scan.spans.setdefault(e.target, []).append((start, stop, e.weight))
        scan.evidence.append(original)
    elif e.kind == "ctx":
        scan.context += 1.0
    elif e.kind == "neg":
        scan.negative_spans.append((start, stop, e.weight))
        scan.negative_evidence.append(original)


def _merged(spans: list[tuple[int, int, float]]) -> float:
    """Per group of overlapping spans: the strongest weight, plus at most one point for the nested rest."""
    if len(spans) == 1:
        return spans[0][2]  # the common case, without the sort
    total = 0.0
    groups: list[tuple[int, list[float]]] = []
    for start, stop, weight in sorted(spans):
        if groups and start < groups[-1][0]:
            groups[-1] = (max(groups[-1][0], stop), [*groups[-1][1], weight])
        else:
            groups.append((stop, [weight]))
    for _, weights in groups:
        best = max(weights)
        total += best + min(NESTED_BONUS_CAP, sum(weights) - best)
    return total


def _confidence_not_payment(net: float) -> float:
    return round(max(0.5, min(0.95, 0.95 - 0.2 * max(net, 0.0))), 2)


def _entries(pack: LanguagePack) -> Iterator[tuple[str, _Entry]]:
    rules = pack.rules
    for phrase in rules.get("context") or []:
        yield _make(pack, phrase, "ctx", "context", 1.0)
    for tag, levels in (rules.get("tags") or {}).items():
        if tag not in PAYMENT_TAGS:
            continue  # `payfix kb check` reports unknown tags
        for level, phrases in (levels or {}).items():
            for phrase in phrases or []:
                yield _make(pack, phrase, "tag", tag, WEIGHTS[level])
    for level, phrases in (rules.get("negatives") or {}).items():
        for phrase in phrases or []:
            yield _make(pack, phrase, "neg", "negative", WEIGHTS[level])
    for level, phrases in pack.markers.items():
        for phrase in phrases:
            yield _make(pack, phrase, "mark", pack.code, WEIGHTS[level])


def _make(pack: LanguagePack, phrase: str, kind: str, target: str, weight: float) -> tuple[str, _Entry]:
    raw = str(phrase).strip()
    prefix = raw.endswith("*")
    key = fold(raw.rstrip("*")).strip()
    # Whole words for every phrase in a space-separated script, whatever the pack: a Latin "limit" listed by
    # the Thai or Japanese pack must not fire inside Portuguese "limite" (Thai and CJK letters count as word
    # boundaries, so "บัตรโดนlimit" still matches). Han, kana and Thai phrases match as substrings.
    bounded = not _unsegmented_script(key)
    entry = _Entry(kind, target, weight, pack.code, len(key), bounded, bounded and not prefix)
    return key, entry


def _unsegmented_script(phrase: str) -> bool:
    """A phrase written in Han, kana or Thai matches as a substring even inside a segmented language's rules."""
    return any(ch.isalnum() and is_boundary(ch) for ch in phrase)
