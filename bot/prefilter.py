"""The keyword prefilter: is this a payment problem, which kind, and which words say so.

Every phrase of every language lives in one of two Aho-Corasick automata, so a pass finds tag evidence,
payment context, negatives and language markers together — microseconds per message, and no LLM call for
messages that are not about payment. The rules are data (knowledge/languages/*/rules.yaml).

- Words of space-separated scripts (Latin, digits…) must match whole words. They are stored padded with
  spaces (" card declined ") and matched against a *word view* of the text: folded, Thai and CJK letters
  blanked, one space added at each end. A hit is then a whole-word hit by construction, so the automaton
  never reports "pin" inside "shopping" and the Python loop has no boundary tests to make.
- Han, kana and Thai phrases (and mixed ones such as "visa卡") match as substrings of the folded text, in a
  second automaton that runs only when the text has such letters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick

from bot.errors import KnowledgeError
from bot.knowledge import PAYMENT_TAGS, Knowledge, LanguagePack
from bot.record import record
from bot.redact import without_placeholders
from bot.textnorm import fold

_UNSEGMENTED_LETTER = re.compile(r"[\u0e00-\u0e7f\u2e80-\U0010ffff]")  # Thai, CJK: boundaries for Latin words

WEIGHTS = {"strong": 2.0, "weak": 1.0}
PAYMENT_THRESHOLD = 2.0
NESTED_BONUS_CAP = 1.0


class _Entry(NamedTuple):
    """One rule phrase of one pack, as read at start-up."""

    kind: str  # "tag" | "ctx" | "neg" | "mark"
    target: str  # tag id, or language code for markers
    weight: float
    lang: str


@dataclass(slots=True)
class Scan:
    """What one pass of the automaton found."""

    spans: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)  # tag → (start, end, weight)
    negative_spans: list[tuple[int, int, float]] = field(default_factory=list)
    context: float = 0.0
    lang_votes: dict[str, float] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    negative_evidence: list[str] = field(default_factory=list)


@record
class PrefilterResult:
    """The prefilter's verdict with its reasons."""

    is_payment_issue: bool
    diagnosis: str
    confidence: float
    ranked: tuple[tuple[str, float], ...]
    evidence: tuple[str, ...]
    negative_evidence: tuple[str, ...]
    lang_votes: dict[str, float]


# -- the packed record ---------------------------------------------------------------------------------------
# Each automaton key carries one int (the automaton stores 31-bit ints), not a Python object: ~100,000 keys'
# tuples and strings were scattered over tens of megabytes, and fetching them cost every hit cache misses
# (the hit loop took ~11 µs a message with them, ~7.5 µs without). A key that one pack lists once (97.6 %) is
# whole in its int:
#   bits 0-6 phrase length · 7 prefix rule (`declin*`) · 8-12 language voted for · 13-14 vote · 15-16 kind
#   17-21 tag · 22-23 weight · 24-30 offset (the phrase starts at hit end - offset)
# A key with several meanings is stored as ~i (negative): its meanings are entry i of a small side table.
_MARKER, _TAG_RULE, _NEGATIVE, _CONTEXT = range(4)  # the kind field; a marker only votes for a language
_KINDS = {"mark": _MARKER, "tag": _TAG_RULE, "neg": _NEGATIVE, "ctx": _CONTEXT}
_PREFIX, _LANG, _VOTE, _KIND, _TAG, _WEIGHT, _OFFSET = 7, 8, 13, 15, 17, 22, 24
_FIELDS = {_LANG: 31, _VOTE: 3, _KIND: 3, _TAG: 31, _WEIGHT: 3}  # each field's largest value
_Meaning = tuple[int, int, int]  # kind, tag index, weight
_Shared = tuple[int, tuple[tuple[int, int], ...], tuple[_Meaning, ...]]  # position bits, votes, meanings
_Found = dict[tuple[int, int, int, int], tuple[int, int]]  # (kind, tag, start, end) → (weight, evidence stop)


class Prefilter:
    """Compiled rules of every language pack."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._priority = {tid: tag.priority for tid, tag in knowledge.tags.items()}
        self._langs = tuple(knowledge.languages)
        table: dict[str, list[_Entry]] = {}
        for pack in knowledge.languages.values():
            for key, entry in _entries(pack):
                table.setdefault(key, []).append(entry)
        self._shared: list[_Shared] = []
        self._words = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        self._substrings = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for key, entries in table.items():
            automaton = self._words if key.startswith(" ") else self._substrings
            automaton.add_word(key, self._pack(key, entries))
        self.phrase_count = len(table)
        self._words.make_automaton()
        self._has_substrings = len(self._substrings) > 0
        if self._has_substrings:
            self._substrings.make_automaton()

    def scan(self, text: str) -> Scan:
        """Find every rule phrase in `text` (already NFC-normalised) and add up the evidence."""
        text = without_placeholders(text)  # as words, "[CARD]" would vote ("card", "cvv", "otp")
        folded = fold(text)
        votes = [0] * len(self._langs)
        found: _Found = {}
        unsegmented = _UNSEGMENTED_LETTER.search(folded) is not None
        # The word view: index i + 1 is character i of the text, so every word has a space on both sides.
        view = f" {_UNSEGMENTED_LETTER.sub(' ', folded) if unsegmented else folded} "
        self._collect(votes, found, self._words.iter(view), view)
        if unsegmented and self._has_substrings:
            self._collect(votes, found, self._substrings.iter(folded), view)
        return _summed(found, text, {lang: float(v) for lang, v in zip(self._langs, votes, strict=True) if v})

    def _collect(self, votes: list[int], found: _Found, hits: Iterator[tuple[int, int]], view: str) -> None:
        """Add one automaton's hits. It runs for every hit of every message: integer arithmetic, no calls.

        The same words listed by several packs (or as a word and as a prefix) count once, with the
        strongest weight any pack gives them: the verdict does not depend on the order packs are read in."""
        meanings: tuple[_Meaning, ...]
        for end, code in hits:
            if code < 0:
                code, shared_votes, meanings = self._shared[~code]
                for lang, vote in shared_votes:
                    votes[lang] += vote
                if not meanings:
                    continue
            else:
                votes[code >> _LANG & 31] += code >> _VOTE & 3
                if code >> _KIND & 3 == _MARKER:
                    continue  # a language marker only
                meanings = ((code >> _KIND & 3, code >> _TAG & 31, code >> _WEIGHT & 3),)
            start = end - (code >> _OFFSET)
            length = code & 127
            stop = start + length
            if code >> _PREFIX & 1:  # show the whole word as evidence: up to the next space of the word view
                stop = view.index(" ", stop + 1) - 1
            for kind, tag, weight in meanings:
                key = (kind, tag, start, start + length)
                known = found.get(key)
                if known is None:
                    found[key] = (weight, stop)
                elif weight > known[0]:
                    found[key] = (weight, max(stop, known[1]))

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

    def _pack(self, key: str, entries: list[_Entry]) -> int:
        """The int a key carries: its position bits with its one vote and meaning, or ~(side-table index)."""
        padded = key.startswith(" ")
        prefix = padded and not key.endswith(" ")
        length = len(key) - (0 if not padded else 1 if prefix else 2)
        # Word-view index i + 1 is text index i. " core " ends on its trailing space: the phrase starts
        # length + 1 before; " core" ends on its last letter: length before; a substring key, length - 1.
        offset = length + 1 if padded and not prefix else length if padded else length - 1
        if offset > 127:
            phrase = key.strip()[:60]
            raise KnowledgeError(
                f"A rule phrase is over 126 characters: {phrase}…", f"规则短语超过 126 个字符：{phrase}…"
            )
        position = length | prefix << _PREFIX | offset << _OFFSET
        votes: dict[int, int] = {}
        strongest: dict[tuple[int, int], int] = {}
        for e in entries:
            lang = self._langs.index(e.lang)
            votes[lang] = votes.get(lang, 0) + (int(e.weight) if e.kind == "mark" else 1)
            if e.kind != "mark":
                meaning = (_KINDS[e.kind], PAYMENT_TAGS.index(e.target) if e.kind == "tag" else 0)
                strongest[meaning] = max(strongest.get(meaning, 0), int(e.weight))
        meanings = tuple((kind, tag, weight) for (kind, tag), weight in strongest.items())
        if len(votes) == 1 and len(meanings) <= 1:
            ((lang, vote),) = votes.items()
            kind, tag, weight = meanings[0] if meanings else (0, 0, 0)
            fields = {_LANG: lang, _VOTE: vote, _KIND: kind, _TAG: tag, _WEIGHT: weight}
            if all(value <= _FIELDS[shift] for shift, value in fields.items()):
                return position | sum(value << shift for shift, value in fields.items())
        self._shared.append((position, tuple(votes.items()), meanings))
        return ~(len(self._shared) - 1)


def _summed(found: _Found, text: str, votes: dict[str, float]) -> Scan:
    """The distinct phrases found, as spans per tag, negative spans, context count and the buyer's words."""
    spans: dict[str, list[tuple[int, int, float]]] = {}
    negative: list[tuple[int, int, float]] = []
    evidence: list[str] = []
    negative_evidence: list[str] = []
    context = 0.0
    for (kind, tag, start, _), (weight, stop) in found.items():
        if kind == _TAG_RULE:
            spans.setdefault(PAYMENT_TAGS[tag], []).append((start, stop, weight))
            evidence.append(text[start:stop])
        elif kind == _NEGATIVE:
            negative.append((start, stop, weight))
            negative_evidence.append(text[start:stop])
        else:
            context += 1.0
    return Scan(spans, negative, context, votes, evidence, negative_evidence)


def _merged(spans: list[tuple[int, int, float]]) -> float:
    """Per group of overlapping spans: the strongest weight, plus at most one point for the nested rest."""
    if len(spans) < 2:
        return spans[0][2] if spans else 0.0  # the common cases, without the sort
    total = 0.0
    group_end, best, rest = -1, 0.0, 0.0
    for start, stop, weight in sorted(spans):
        if start < group_end:  # nested in the current group
            group_end = max(group_end, stop)
            best, rest = (weight, rest + best) if weight > best else (best, rest + weight)
        else:
            total += best + min(NESTED_BONUS_CAP, rest)
            group_end, best, rest = stop, weight, 0.0
    return total + best + min(NESTED_BONUS_CAP, rest)


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
    """The automaton key of a rule phrase: " phrase " (whole words), " phrase" (a prefix rule, `phrase*`), or
    the bare phrase for Han, kana and Thai. Every pack's Latin phrases are whole words: a "limit" listed by
    the Thai or Japanese pack must not fire inside Portuguese "limite" (Thai and CJK letters count as word
    boundaries, so "บัตรโดนlimit" still matches)."""
    raw = str(phrase).strip()
    prefix = raw.endswith("*")
    core = fold(raw.rstrip("*")).strip()
    key = core if _unsegmented_script(core) else f" {core}" + ("" if prefix else " ")
    return key, _Entry(kind, target, weight, pack.code)


def _unsegmented_script(phrase: str) -> bool:
    """A phrase written in Han, kana or Thai matches as a substring even inside a segmented language's rules.
    (One regex search: ~100,000 phrases are compiled at every start.)"""
    return _UNSEGMENTED_LETTER.search(phrase) is not None
