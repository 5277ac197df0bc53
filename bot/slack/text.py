"""Text helpers for Slack: escaping and word-boundary splitting, shared by the card builders."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Where a long text may be broken, best first: a paragraph, a line, a sentence end, any space; for
# unsegmented scripts (zh, ja, th) a CJK/Thai punctuation mark or a space is the only "word" boundary.
_BREAKS = ("\n\n", "\n", "。", "！", "？", "! ", "? ", ". ", "，", "、", "; ", ", ", " ")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_SPACES = re.compile(r"\s+")


def escape(text: str) -> str:
    """Slack's three control characters; everything else is shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_text(text: str, limit: int) -> list[str]:
    """Split into pieces of at most `limit` characters at the best boundary available.

    Joining the pieces (with the boundary they were split at) gives the text back. Only a run longer than
    `limit` with no boundary at all is cut mid-run (never inside an `&amp;` entity); the card announces splits.
    """
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _break_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _break_point(text: str, limit: int) -> int:
    window = text[: limit + 1]
    floor = limit // 2  # a break in the first half would make many tiny parts; prefer a later one
    for mark in _BREAKS:
        at = window.rfind(mark, floor)
        if at > 0:
            return min(at + len(mark), limit) if not mark.isspace() else at
    for mark in _BREAKS:
        at = window.rfind(mark)
        if at > 0:
            return min(at + len(mark), limit) if not mark.isspace() else at
    return _outside_entity(text, limit)


def _outside_entity(text: str, cut: int) -> int:
    for m in _ENTITY.finditer(text, max(0, cut - 5), cut + 5):
        if m.start() < cut < m.end():
            return m.start()
    return cut


def content_hash(text: str) -> str:
    """Identity of a paste: the same words, whatever the case, spacing or Unicode form."""
    normal = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()
