"""Redaction: every kind of personal data goes, order ids and amounts stay."""

from __future__ import annotations

import pytest

from bot.pipeline import Engine
from bot.redact import luhn_ok


@pytest.mark.parametrize(
    ("text", "gone", "placeholder"),
    [
        ("my card 4111 1111 1111 1111 got declined", "4111", "[CARD]"),
        ("card: 5500-0000-0000-0004 exp 12/27", "5500", "[CARD]"),
        ("cvv 123 is right", "123", "[CVV]"),
        ("CVC: 9876", "9876", "[CVV]"),
        ("OTP: 482913 came too late", "482913", "[OTP]"),
        ("OTP error 482913", "482913", "[OTP]"),  # an error word alone does not make an OTP an error code
        ("error, my OTP is 482913", "482913", "[OTP]"),
        ("验证码是554433一直失效", "554433", "[OTP]"),
        ("mã OTP 123456 không nhận được", "123456", "[OTP]"),
        ("call me on +62 812-3456-7890 please", "3456", "[PHONE]"),
        ("write to buyer.x@mail.example.co.id", "buyer.x", "[EMAIL]"),
        ("sudah transfer dari rekening 1234567890 BCA", "1234567890", "[ACCOUNT]"),
        # keywords match in any case (the patterns run on the lower-cased text, aligned with the original)
        ("MÃ OTP 123456 KHÔNG NHẬN ĐƯỢC", "123456", "[OTP]"),
        ("KODE VERIFIKASI: 4821 tidak masuk", "4821", "[OTP]"),
        ("İstanbul'dan yazıyorum, OTP 654321 gelmedi", "654321", "[OTP]"),  # "İ" lower-cases to two characters
    ],
)
def test_personal_data_is_replaced(offline_engine: Engine, text: str, gone: str, placeholder: str) -> None:
    result = offline_engine.redactor.redact(text)
    assert gone not in result.text
    assert placeholder in result.text


@pytest.mark.parametrize(
    "text",
    [
        "order 112-3456789-1234567 failed",
        "order 2311220ABCDEF12 still unpaid",
        "I paid Rp 150.000 at 10:30 on 12/11",
        "total 1,250,000 VND for 3 items",
        "tracking SPXID012345678901 stuck in Jakarta",
        "checkout shows error code 50013",  # the code the agent needs, not a one-time password
        "muncul kode error: 4001 terus",
        "付款时显示错误代码: 1001",
        "mã lỗi 4003 khi thanh toán",
        "エラーコード E-2301が出ます",
        "ERROR CODE: 50013 at checkout",
        "shotp 123456 is a product code",  # "otp" inside a word is no keyword
    ],
)
def test_non_personal_numbers_survive(offline_engine: Engine, text: str) -> None:
    assert offline_engine.redactor.redact(text).text == text


def test_a_card_number_that_fails_luhn_is_not_labelled_a_card(offline_engine: Engine) -> None:
    # Order ids and tracking numbers of card length exist; only Luhn-valid numbers are called cards.
    assert "[CARD]" not in offline_engine.redactor.redact("card 4111 1111 1111 1112 fails the checksum").text


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("5500000000000004")
    assert not luhn_ok("4111111111111112")


def test_placeholders_are_not_evidence(offline_engine: Engine) -> None:
    """"[CARD]" and "[OTP]" are the redactor's words, not the buyer's: they must not vote for a tag."""
    plain = offline_engine.classify("hello, question about my order").verdict
    redacted = offline_engine.classify("hello, question about my order [CARD] [OTP] [CVV]").verdict
    assert redacted.evidence == plain.evidence == ()
    assert not redacted.is_payment_issue
    assert offline_engine.classify("my card 4111 1111 1111 1111 got declined").verdict.diagnosis == "card_declined"
