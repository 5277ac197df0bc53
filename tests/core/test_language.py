"""Language detection through the whole cascade, and the prefilter's limits on rule phrases.

The dev-set test gates accuracy per language; these pin the behaviours the cascade exists for: unserved
languages are recognised (lingua's trigram screen shortlists them), close pairs are told apart, and data that
the packed automaton cannot hold is refused at start-up instead of being matched wrongly.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import KnowledgeError
from bot.knowledge import load_knowledge
from bot.pipeline import Engine
from bot.prefilter import Prefilter
from bot.textnorm import fold


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Bonjour, ma carte a été refusée trois fois, que dois-je faire ?", "fr"),
        ("Ciao, il pagamento con la mia carta non va a buon fine, cosa devo fare?", "it"),
        ("Hallo, mijn betaling is mislukt bij het afrekenen, wat moet ik doen?", "nl"),
        ("Dzień dobry, moja karta została odrzucona przy płatności", "pl"),
        ("Merhaba, kartım reddedildi ve ödeme yapamıyorum", "tr"),
    ],
)
def test_a_language_we_do_not_serve_is_named_and_marked_unsupported(
    offline_engine: Engine, text: str, code: str
) -> None:
    detected = offline_engine.classify(text).language
    assert (detected.code, detected.supported) == (code, False)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("kak aku udah bayar tapi statusnya masih belum dibayar, gimana ya", "id"),
        ("saya dah bayar tapi status masih belum bayar, macam mana ni", "ms"),
        ("o pagamento não passa, aparece erro no cartão", "pt-BR"),
        ("el pago no pasa, me sale error con la tarjeta", "es"),
        ("hindi po pumasok yung bayad ko sa gcash, paano po ito", "tl"),
        ("mình thanh toán không được, báo lỗi thẻ", "vi"),
        ("Meine Zahlung geht nicht durch, was kann ich tun?", "de"),
        ("my payment keeps failing at checkout, what should i do", "en"),
    ],
)
def test_served_languages_are_recognised(offline_engine: Engine, text: str, code: str) -> None:
    detected = offline_engine.classify(text).language
    assert (detected.code, detected.supported) == (code, True)


def test_a_mixed_message_takes_its_dominant_language(offline_engine: Engine) -> None:
    text = "kak, pas checkout muncul 'payment failed' terus, saldo ShopeePay aku cukup kok, kenapa ya?"
    assert offline_engine.classify(text).language.code == "id"


def test_a_rule_phrase_too_long_for_the_automaton_fails_at_start(tmp_path: Path, settings: Settings) -> None:
    shutil.copytree(settings.knowledge_dir, tmp_path / "knowledge")
    rules = tmp_path / "knowledge" / "languages" / "en" / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("context: [", "context: [" + "very " * 30 + "long phrase, ", 1), encoding="utf-8")
    knowledge = load_knowledge(replace(settings, knowledge_dir=tmp_path / "knowledge").knowledge_dir)
    with pytest.raises(KnowledgeError, match="over 126 characters"):
        Prefilter(knowledge)


def test_a_phrase_every_pack_lists_counts_once_but_votes_for_each(offline_engine: Engine) -> None:
    """"visa" is payment context in all twelve packs: one piece of context, one vote per language."""
    scan = offline_engine.prefilter.scan("visa")
    assert scan.context == 1.0
    assert scan.lang_votes == dict.fromkeys(offline_engine.knowledge.languages, 1.0)


@pytest.mark.parametrize(
    "text",
    [
        "".join(map(chr, range(128))),
        "Hi, my card was DECLINED at checkout!! (3x) what to do?",
        "Thẻ bị TỪ CHỐI, đã thử 3 lần",
        "ＶＩＳＡ卡支付失败，怎么办",
        "บัตรโดนปฏิเสธ ค่ะ",
        "Zahlung über PayPal abgelehnt – ß",
    ],
)
def test_fold_keeps_length_and_gives_ascii_the_same_fold_as_any_text(text: str) -> None:
    """The ASCII byte-table path must agree with the per-character table on every ASCII character."""
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded == "".join(fold(ch + "é")[0] for ch in text)  # "é" forces the non-ASCII path per character
