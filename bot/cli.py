"""The `payfix` command line. Each subcommand parses its input, calls the core, and formats the output.

Exit codes: 0 ok, 1 unexpected failure (logged), 2 bad input, 3 bad configuration, 4 bad knowledge data.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Settings
from bot.errors import InputError, PayfixError
from bot.intake import PLATFORMS, decode

log = logging.getLogger("payfix")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="payfix", description="Draft replies for buyers stuck at payment.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("draft", help="draft a reply to one buyer message")
    d.add_argument("text", help="the buyer's message, or - to read stdin, or @FILE to read a file")
    d.add_argument("--platform", choices=PLATFORMS, default="auto")
    d.add_argument("--agent-language", choices=("en", "zh-CN"))
    d.add_argument("--force", action="store_true", help="draft even when the prefilter says it is not about payment")
    d.add_argument("--json", action="store_true", help="print the result as JSON")
    demo = sub.add_parser("demo", help="run sample messages through the whole pipeline (offline without a key)")
    demo.add_argument("--agent-language", choices=("en", "zh-CN"))
    e = sub.add_parser("eval", help="score the prefilter on a labelled JSONL file")
    e.add_argument("file", type=Path)
    e.add_argument("--predictions", type=Path, help="write one JSON prediction per input row here")
    e.add_argument("--json", action="store_true")
    e.add_argument("--llm", action="store_true", help="score the whole pipeline, LLM included")
    kb = sub.add_parser("kb", help="knowledge-base tools")
    kb.add_argument("action", choices=("check",))
    s = sub.add_parser("serve", help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    s.add_argument("--port", type=int)
    st = sub.add_parser("stats", help="monthly statistics from the database")
    st.add_argument("--month", help="YYYY-MM (default: this month)")
    st.add_argument("--out", type=Path, help="write the chart as a PNG")
    st.add_argument("--json", action="store_true")
    sub.add_parser("purge", help="delete rows older than PAYFIX_RETENTION_DAYS")
    sub.add_parser("migrate", help="apply database migrations")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    level = os.environ.get("PAYFIX_LOG_LEVEL", "WARNING")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        return _dispatch(args, settings)
    except PayfixError as exc:
        lang = getattr(args, "agent_language", None) or os.environ.get("PAYFIX_AGENT_LANGUAGE")
        # No agent language chosen: say it in both, as every agent-facing string exists in both.
        print(f"payfix: {exc.message(lang) if lang else f'{exc.en} / {exc.zh}'}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot import commands

    handlers = {
        "draft": commands.draft,
        "demo": commands.demo,
        "eval": commands.evaluate_file,
        "kb": commands.kb_check,
        "serve": commands.serve,
        "stats": commands.stats,
        "purge": commands.purge,
        "migrate": commands.migrate,
    }
    return handlers[args.command](args, settings)


def read_text_arg(value: str) -> str:
    """`-` reads stdin, `@path` reads a file, anything else is the message itself."""
    if value == "-":
        return decode(sys.stdin.buffer.read())
    if value.startswith("@"):
        try:
            return decode(Path(value[1:]).read_bytes())
        except OSError as exc:
            path = value[1:]
            raise InputError(f"Cannot read {path}: {exc.strerror}", f"无法读取 {path}：{exc.strerror}") from exc
    return value


def print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))

if __name__ == "__main__":
    raise SystemExit(main())
