"""Intake: turn whatever the agent pasted into clean text, or refuse it with a clear error.

Text is decoded strictly as UTF-8, NFC-normalised (so `é` typed two ways is one character), stripped of
control characters, and truncated past `max_chars` with a notice that travels with the draft — never silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.errors import InputError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_PLATFORM_WORDS = {
    "amazon": re.compile(r"(?i)amazon|revise payment|your orders|亚马逊|亞馬遜|アマゾン"),
    "shopee": re.compile(r"(?i)shopee|spaylater|spay ?later|虾皮|蝦皮|ช้อปปี้"),
    "lazada": re.compile(r"(?i)lazada|lazpay|来赞达"),
    "tiktok": re.compile(r"(?i)tiktok|tik tok|抖音"),
}
_AMAZON_ORDER = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
_SHOPEE_ORDER = re.compile(r"\b\d{6}[0-9A-Z]{8,12}\b")
PLATFORMS = ("auto", "shopee", "amazon", "lazada", "tiktok")


@dataclass(frozen=True, slots=True)
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
    junk = len(_CONTROL.findall(text))
    text = _CONTROL.sub("", text).strip()
    if not text:
        raise InputError("The message is empty.", "消息为空。")
    if junk > max(8, len(text) // 10):
        raise InputError(
            "The message is mostly control characters; paste the buyer's text again.",
            "消息大部分是控制字符，请重新粘贴买家原文。",
        )
    if not any(ch.isalpha() for ch in text):
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
    if _AMAZON_ORDER.search(text):
        return "amazon"
    for name, pattern in _PLATFORM_WORDS.items():
        if pattern.search(text):
            return name
    if _SHOPEE_ORDER.search(text):
        return "shopee"
    return "unknown"


def find_order_id(text: str) -> str | None:
    found = _AMAZON_ORDER.search(text) or _SHOPEE_ORDER.search(text)
    return found.group(0) if found else None


def take(text: str, *, platform: str = "auto", max_chars: int) -> Intake:
    """Run all intake steps on one message."""
    body, original = clean(text, max_chars=max_chars)
    return Intake(
        text=body, platform=detect_platform(body, platform), order_id=find_order_id(body), truncated_from=original
    )
