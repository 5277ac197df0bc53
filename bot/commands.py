"""The CLI's subcommands. Each parses its arguments, calls the core, and prints."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from tqdm import tqdm

from bot.config import Settings
from bot.evaluate import Prediction, evaluate, format_report, read_rows
from bot.pipeline import Engine
from bot.render import render_card

DEMO_MESSAGES = [
    ("amazon", "Hi, my Visa keeps getting declined at checkout for order 112-3456789-1234567. I have money on it!"),
    ("shopee", "kak aku udah transfer ke VA BCA dari kemarin tapi pesanan masih belum dibayar, gimana ini?"),
    ("shopee", "我付款的时候一直收不到银行的验证码，订单还能保留吗？"),
    ("shopee", "Bị trừ tiền 2 lần cho cùng một đơn hàng, shop kiểm tra giúp mình với"),
    ("amazon", "Mein Ratenkauf wurde abgelehnt, obwohl ich genug Rahmen habe. Was kann ich tun?"),
    ("shopee", "Please hold my order, I get my salary on Friday and will pay then. My card is 4111 1111 1111 1111"),
    ("shopee", "O cupom de desconto some quando vou pagar e aparece erro no pagamento"),
    ("shopee", "I already paid, when will my parcel be shipped?"),
]


def draft(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import print_json, read_text_arg

    text = read_text_arg(args.text)
    engine = Engine(settings, preload=False)
    result = asyncio.run(
        engine.draft(text, platform=args.platform, agent_language=args.agent_language, force=args.force)
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print(render_card(result, engine.knowledge))
    return 0


def demo(args: argparse.Namespace, settings: Settings) -> int:
    engine = Engine(settings, preload=False)
    mode = f"LLM {settings.model}" if engine.llm else "offline: KB fallback drafts (set OPENAI_API_KEY for LLM drafts)"
    print(f"payfix demo — {len(DEMO_MESSAGES)} buyer messages — {mode}\n")

    async def run_all() -> None:
        for i, (platform, text) in enumerate(DEMO_MESSAGES, 1):
            result = await engine.draft(text, platform=platform, agent_language=args.agent_language)
            print(f"── {i}. [{platform}] {result.text}")
            print(render_card(result, engine.knowledge))
            print()

    asyncio.run(run_all())
    return 0


def evaluate_file(args: argparse.Namespace, settings: Settings) -> int:
    rows = read_rows(args.file)
    engine = Engine(settings if args.llm else _without_llm(settings), preload=len(rows) > 50)
    predictions_iter = tqdm(rows, disable=len(rows) < 200, desc="eval", unit="msg")

    def predict(row: dict[str, Any]) -> Prediction:
        platform = row.get("platform") if row.get("platform") in ("shopee", "amazon", "lazada", "tiktok") else "auto"
        if args.llm:
            result = asyncio.run(engine.draft(row["text"], platform=str(platform)))
            return Prediction(result.is_payment_issue, result.diagnosis, result.confidence, result.language)
        c = engine.classify(row["text"], platform=str(platform))
        return Prediction(c.verdict.is_payment_issue, c.verdict.diagnosis, c.verdict.confidence, c.language.code)

    report, predictions = evaluate(predictions_iter, predict)
    if args.predictions:
        with args.predictions.open("w", encoding="utf-8") as out:
            for p in predictions:
                row = {"is_payment_issue": p.is_payment_issue, "diagnosis": p.diagnosis,
                       "confidence": p.confidence, "language": p.language}  # fmt: skip
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


def kb_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.kbcheck import check

    problems = check(settings)
    for problem in problems:
        print(f"✗ {problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {settings.knowledge_dir}")
        return 4
    print(f"knowledge OK: {settings.knowledge_dir}")
    return 0


def serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.slack.server import run

    return run(settings, port=args.port)


def stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.analytics.cli import stats_command

    return stats_command(settings, month=args.month, out=args.out, as_json=args.json)


def purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.maintenance import purge_command

    return purge_command(settings)


def migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.maintenance import migrate_command

    return migrate_command(settings)


def _without_llm(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, openai_api_key=None)
