"""The last line of defence before a row is written: no payment card number ever reaches the database.

Text is redacted upstream (bot/redact.py) before it is stored. This module re-runs the same card check —
13–19 digits, optionally grouped by spaces or dashes, that pass the Luhn checksum — on every text and JSON
value bound into an INSERT or UPDATE (see `schema.RedactedText`), and refuses the write if one slips through.
Because redaction removes exactly these numbers, redacted text never trips it; a hit means a bug upstream.
CVV and OTP codes are only recognisable next to their keywords, which the redactor handles.
"""

from __future__ import annotations

import re
from typing import Any

from bot.errors import PayfixError
from bot.redact import luhn_ok

# The same shape as the redactor's card pattern: digits, single spaces or dashes between them.
CARD_SHAPE = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")


class SensitiveDataError(PayfixError):
    """A value about to be stored looks like a payment card number. Never shows the value itself."""

    code = "sensitive_data"

    def __init__(self) -> None:
        super().__init__(
            "Refused to store text that contains a payment card number; nothing was saved.",
            "拒绝保存包含银行卡号的文本；未保存任何内容。",
        )


def has_card_number(text: str) -> bool:
    """True when `text` holds a Luhn-valid card-shaped number."""
    return any(luhn_ok(re.sub(r"\D", "", m.group(0))) for m in CARD_SHAPE.finditer(text))


def check_value(value: Any) -> None:
    """Raise SensitiveDataError if any string inside `value` (str, or JSON-like lists and dicts) has a card."""
    if isinstance(value, str):
        if has_card_number(value):
            raise SensitiveDataError()
    elif isinstance(value, dict):
        for item in value.values():
            check_value(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item)
