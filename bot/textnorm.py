"""Length-preserving text folding shared by the prefilter and language detection.

Folding maps every character to exactly one character (lower case, accents stripped, `đ`→`d`, full-width →
ASCII), so offsets found in folded text point at the same characters in the original: the evidence shown
to agents is the buyer's own words.
"""

from __future__ import annotations

import unicodedata

_SPECIAL = {"đ": "d", "Đ": "d", "ı": "i", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "æ": "a", "œ": "o"}


class _FoldTable(dict[int, str]):
    """A `str.translate` table that computes and caches the fold of each code point on first use."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = _fold_char(char)
        self[code] = folded
        return folded


def _fold_char(char: str) -> str:
    if char in _SPECIAL:
        return _SPECIAL[char]
    norm = unicodedata.normalize("NFKC", char)[:1] or char  # full-width → ASCII, ｶ → カ
    base = unicodedata.normalize("NFKD", norm)[:1] or norm
    # Accents are stripped from Latin letters only: in Thai and Japanese a mark changes the word
    # (ซ้ำ is not ซ, カード is not カート), so those scripts keep every mark.
    folded = base if _is_latin(base) else norm
    lowered = folded.lower()[:1] or folded
    category = unicodedata.category(lowered)
    if category[0] in "LN" or (category[0] == "M" and not _is_latin_mark(lowered)):
        return lowered
    return " "


def _is_latin(char: str) -> bool:
    code = ord(char)
    return code < 0x0250 or 0x1E00 <= code <= 0x1EFF


def _is_latin_mark(char: str) -> bool:
    return 0x0300 <= ord(char) <= 0x036F


_TABLE = _FoldTable()
# The same fold for ASCII (most Latin-script messages), as a byte table: `bytes.translate` indexes an array,
# where `str.translate` looks every character up in the dict above (~1.7 → ~0.3 µs a message).
_ASCII = bytes(ord(_fold_char(chr(code))) for code in range(128)).ljust(256, b" ")


def fold(text: str) -> str:
    """Fold `text` for matching; `len(fold(text)) == len(text)` always holds."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII).decode("ascii")
    return text.translate(_TABLE)
