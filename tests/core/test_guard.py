"""Each guard rule, on replies that break it and on the safe replies that look like they might."""

from __future__ import annotations

import pytest

from bot.guard import (
    ASKS_FOR_CARD_DATA,
    EMPTY_REPLY,
    LINK_NOT_ALLOWED,
    OFF_PLATFORM_PAYMENT,
    PROMISES_REFUND,
    WRONG_LANGUAGE,
)
from bot.pipeline import Engine

SAFE_EN = (
    "Sorry the payment did not go through. Please contact your bank to allow online payments and try again on "
    "the checkout page. We will never ask for your card number, CVV or OTP."
)


@pytest.mark.parametrize(
    ("reply", "language", "flag"),
    [
        ("Please send us your card number and the CVV on the back so we can check it.", "en", ASKS_FOR_CARD_DATA),
        ("Could you share the OTP you received? Then we can finish the payment.", "en", ASKS_FOR_CARD_DATA),
        ("请把卡号和安全码发给我们，我们帮您处理。", "zh-CN", ASKS_FOR_CARD_DATA),
        ("Kak, boleh kirim kode OTP yang masuk ke HP ya.", "id", ASKS_FOR_CARD_DATA),
        ("You can also transfer directly to our bank account and we will ship today.", "en", OFF_PLATFORM_PAYMENT),
        ("Add us on WhatsApp and we will send you a payment link there.", "en", OFF_PLATFORM_PAYMENT),
        ("您也可以加微信直接转账给我们。", "zh-CN", OFF_PLATFORM_PAYMENT),
        ("Please check https://bit.ly/pay-now to finish the payment.", "en", LINK_NOT_ALLOWED),
        ("Pay here: www.cheap-pay.example.com and it will work.", "en", LINK_NOT_ALLOWED),
        ("Don't worry, we will refund you in full today.", "en", PROMISES_REFUND),
        ("As compensation we will give you a discount on the next order.", "en", PROMISES_REFUND),
        ("我们会退款给您，请放心。", "zh-CN", PROMISES_REFUND),
        (
            "Lo sentimos mucho, por favor contacte a su banco y vuelva a intentarlo en la página de pago.",
            "en",
            WRONG_LANGUAGE,
        ),
        ("   ", "en", EMPTY_REPLY),
    ],
)
def test_rule_is_flagged(offline_engine: Engine, reply: str, language: str, flag: str) -> None:
    assert flag in offline_engine.guard.check(reply, language=language)


@pytest.mark.parametrize(
    ("reply", "language"),
    [
        (SAFE_EN, "en"),
        ("You can check your order at https://www.amazon.com/your-orders and retry. We never ask for your CVV.", "en"),
        ("很抱歉给您带来不便。请联系发卡银行开通网上支付后重试。我们绝不会索要您的卡号、安全码或验证码。", "zh-CN"),
        ("Please do not pay via WhatsApp or any chat app; only pay on the Shopee checkout page.", "en"),
        ("We cannot promise a refund, but the bank usually releases the held amount within a few days.", "en"),
    ],
)
def test_safe_replies_pass(offline_engine: Engine, reply: str, language: str) -> None:
    assert offline_engine.guard.check(reply, language=language) == []
