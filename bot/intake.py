"""Intake: turn whatever the agent pasted into clean text, or refuse it with a clear error.

Text is decoded strictly as UTF-8, NFC-normalised (so `é` typed two ways is one character), stripped of
control characters, and truncated past `max_chars` with a notice that travels with the draft — never silently.
"""

from __future__ import annotations

import re
import unicodedata

from bot.errors import InputError
from bot.record import record

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Names buyers use for each marketplace, matched as plain substrings of the lower-cased text (a `str.find`
# per name costs tens of nanoseconds; one case-insensitive alternation regex per platform cost microseconds).
_LETTER = re.compile(r"[^\W\d_]")
_PLATFORM_WORDS: dict[str, tuple[str, ...]] = {
    "amazon": ("amazon", "revise payment", "your orders", "亚马逊", "亞馬遜", "アマゾン"),
    "shopee": ("shopee", "spaylater", "spay later", "虾皮", "蝦皮", "ช้อปปี้"),
    "lazada": ("lazada", "lazpay", "来赞达"),
    "tiktok": ("tiktok", "tik tok", "抖音"),
}
# Amazon order ids (123-1234567-1234567) and Shopee order sns (6 digits + 8-12 digits/capitals), in one pass.
_DIGITS = re.compile(r"\d\d\d", re.ASCII)  # spelled out: `re` scans for "\d{3}" twice as slowly
ORDER_ID = re.compile(r"\b(?:(?P<amazon>\d{3}-\d{7}-\d{7})|(?P<shopee>\d{6}[0-9A-Z]{8,12}))\b", re.ASCII)
PLATFORMS = ("auto", "shopee", "amazon", "lazada", "tiktok")


@record
class Intake:
    """Clean buyer text plus what intake noticed about it."""

    text: str
    platform: str
    order_id: str | None
    truncated_from: int | None


def decode(raw: bytes) -> str:
    """Decode bytes from stdin or a file; refuse binary data and invalid UTF-8."""
    if b"\x00" in raw:
        raise InputError("The input looks binary (it contains NUL bytes).", "输入内容像是二进制数据（含 NUL 字节）。")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"The input is not valid UTF-8 (byte {exc.start}).", f"输入不是合法的 UTF-8 编码（第 {exc.start} 字节）。"
        ) from exc


def clean(text: str, *, max_chars: int) -> tuple[str, int | None]:
    """Normalise and validate; returns the text and the original length when it had to be truncated."""
    if "\x00" in text:
        raise InputError("The input looks binary (it contains NUL bytes).", "输入内容像是二进制数据（含 NUL 字节）。")
    text = unicodedata.normalize("NFC", text)
    junk = 0
    if _CONTROL.search(text):  # rare: the common case pays for one search, not a findall and a sub
        junk = len(_CONTROL.findall(text))
        text = _CONTROL.sub("", text)
    text = text.strip()
    if not text:
        raise InputError("The message is empty.", "消息为空。")
    if junk > max(8, len(text) // 10):
        raise InputError(
            "The message is mostly control characters; paste the buyer's text again.",
            "消息大部分是控制字符，请重新粘贴买家原文。",
        )
    if not _LETTER.search(text):
        raise InputError("The message has no words to read.", "消息中没有可识别的文字。")
    if len(text) > max_chars:
        cut = text.rfind(" ", max_chars - 200, max_chars)
        return text[: cut if cut > 0 else max_chars], len(text)
    return text, None


def detect_platform(text: str, given: str = "auto") -> str:
    """The marketplace: as given, else inferred from order-id formats and names; `unknown` when unsure."""
    if given not in PLATFORMS:
        raise InputError(
            f"Unknown platform {given!r}; use one of {', '.join(PLATFORMS)}.",
            f"未知平台 {given!r}；可选：{', '.join(PLATFORMS)}。",
        )
    if given != "auto":
        return given
    return _infer_platform(text, _order_ids(text))


def _infer_platform(text: str, ids: dict[str, str]) -> str:
    if "amazon" in ids:
        return "amazon"
    lowered = text.lower()
    for name, words in _PLATFORM_WORDS.items():
        for word in words:  # plain loops: a generator per platform would cost more than the searches
            if word in lowered:
                return name
    return "shopee" if "shopee" in ids else "unknown"


def _order_ids(text: str) -> dict[str, str]:
    """The first order id of each format; digits are rare in buyer text, so most messages skip the regex."""
    found: dict[str, str] = {}
    if not _DIGITS.search(text):
        return found
    for match in ORDER_ID.finditer(text):
        kind = match.lastgroup or ""
        found.setdefault(kind, match.group(0))
    return found


def take(text: str, *, platform: str = "auto", max_chars: int) -> Intake:
    """Run all intake steps on one message."""
    body, original = clean(text, max_chars=max_chars)
    ids = _order_ids(body)
    found = detect_platform(body, platform) if platform != "auto" else _infer_platform(body, ids)
    return Intake(
        text=body, platform=found, order_id=ids.get("amazon") or ids.get("shopee"), truncated_from=original
    )
