"""`payfix stats [--month YYYY-MM] [--out report.png] [--json]`: the month's figures from the database."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.analytics.report import build_report, load_month
from bot.config import Settings
from bot.errors import InputError
from bot.knowledge import load_knowledge
from bot.store.sql import open_store


def stats_command(settings: Settings, *, month: str | None, out: Path | None, as_json: bool) -> int:
    """Prints the summary (PAYFIX_AGENT_LANGUAGE, else English) or, with --json, every figure; --out writes
    the chart. Exit 2 for a malformed month or an unwritable --out path."""
    tz = ZoneInfo(settings.timezone)
    store = open_store(settings)
    try:
        window, cases = load_month(store, month, tz)
    finally:
        store.close()
    language = settings.agent_language or "en"
    report = build_report(cases, window=window, tz=tz, knowledge=load_knowledge(settings.knowledge_dir),
                          language=language)  # fmt: skip
    if out is not None:
        try:
            out.write_bytes(report.png)
        except OSError as exc:
            raise InputError(f"Cannot write {out}: {exc.strerror}", f"无法写入 {out}：{exc.strerror}") from None
    if as_json:
        payload = report.stats.to_dict() | {"chart": str(out) if out else None}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(report.text)
        if out is not None:
            print(f"\n{out}")
    return 0
