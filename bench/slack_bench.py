"""Benchmark of the Slack app under a burst: N simultaneous signed message events over HTTP.

What runs: `payfix serve` as a separate process (the production entry point: uvicorn, Bolt, the store that
`serve` opens), a fake Slack Web API and a fake OpenAI server whose every completion takes `--llm-delay`
seconds (both local aiohttp servers in this process). After a warm-up, N distinct payment messages are
POSTed at once over keep-alive connections, each signed like Slack signs it.

Measured, per event: ack latency (request sent → HTTP 200) and event-to-draft (request sent → the draft card's
chat.postMessage reaches the fake Slack). Goals (issue 4): ack p99 ≤ 50 ms; event-to-draft p99 ≤ 1.08 × LLM.

Run: `.venv/bin/python bench/slack_bench.py [--events 200] [--llm-delay 2.0] [--store memory|sql] [--out FILE]`
(`--store sql` runs the real `payfix serve` on a temporary SQLite file; `memory` the same `serve()` with the
in-memory store, to measure the Slack layer alone.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "slack"))
from slack_fakes import FakeSlack, SignedSlack, good_answer, message_event  # noqa: E402

from bot.redact import luhn_ok  # noqa: E402

SECRET = "bench-signing-secret-0123456789"
STORES = {"memory": "in-memory store", "sql": "SQL store (SQLite file, PAYFIX_DATABASE_URL default driver)"}
TEXTS = [
    "Hi, my Visa keeps getting declined at checkout for order {order}. I have money on it!",
    "Payment failed twice for order {order}, the card was declined, please help",
    "I was charged twice for order {order}, please check the double charge",
    "My payment for order {order} shows pending, I paid by bank transfer yesterday",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def fake_openai(delay_s: float) -> tuple[web.AppRunner, str, list[float]]:
    """Chat Completions that take `delay_s` each, concurrently (a slow model, not a slow queue)."""
    seen: list[float] = []
    body = json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-bench",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": json.dumps(good_answer())}}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 90, "total_tokens": 1290},
    })  # fmt: skip

    async def complete(request: web.Request) -> web.Response:
        seen.append(time.perf_counter())
        await request.read()
        await asyncio.sleep(delay_s)
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", complete)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    return runner, f"http://127.0.0.1:{port}/v1", seen


def start_app(
    slack_url: str, openai_url: str, port: int, tmp: Path, args: argparse.Namespace
) -> subprocess.Popen[bytes]:
    """`payfix serve` with the fakes' URLs (or, for `--store memory`, the same `serve()` with a MemoryStore);
    its log goes to tmp/serve.log (a pipe nobody reads could fill up)."""
    env = {
        **os.environ, "PORT": str(port), "SLACK_BOT_TOKEN": "xoxb-bench-token", "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_url, "OPENAI_API_KEY": "sk-bench-key", "OPENAI_BASE_URL": openai_url,
        "PAYFIX_MODEL": "gpt-bench", "PAYFIX_LLM_CONCURRENCY": str(args.concurrency), "PAYFIX_AGENT_LANGUAGE": "en",
        "PAYFIX_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "PAYFIX_LOG_LEVEL": os.environ.get("PAYFIX_LOG_LEVEL", "WARNING"),
    }  # fmt: skip
    env.pop("SLACK_APP_TOKEN", None)
    payfix = [str(Path(sys.executable).parent / "payfix"), "serve"]
    command = payfix if args.store == "sql" else [sys.executable, __file__, "--serve-with-memory-store"]
    if args.app == "floor":
        command = [sys.executable, str(Path(__file__).with_name("slack_floor.py"))]
    log = (tmp / "serve.log").open("wb")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def serve_with_memory_store() -> None:
    """The child process for `--store memory`: `payfix serve` exactly, but with the in-memory store."""
    from bot.config import Settings
    from bot.slack.server import run
    from bot.store.memory import MemoryStore

    run(Settings.from_env(os.environ), store=MemoryStore())


async def wait_healthy(session: aiohttp.ClientSession, url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(2400):
        if proc.poll() is not None:
            raise SystemExit(f"payfix serve exited with {proc.returncode}; see its log")
        try:
            async with session.get(f"{url}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise SystemExit("payfix serve did not become healthy in 120 s")


async def burst(client: SignedSlack, bodies: list[tuple[str, str]]) -> dict[str, tuple[float, float, float, int]]:
    """POST all events at once; per thread ts: (burst start, request on the wire, HTTP 200 received, status).

    One client process writes 200 requests one after another, so the last leaves ~tens of ms after the first:
    "on the wire" (aiohttp's request-sent trace) separates the app's ack time from the client's own queue."""
    ready = asyncio.Event()
    start = 0.0

    async def one(ts: str, body: str) -> tuple[str, tuple[float, float, float, int]]:
        headers = client.headers(body, content_type="application/json")
        wire: dict[str, float] = {}
        await ready.wait()
        async with client.session.post(client.url, data=body.encode(), headers=headers, trace_request_ctx=wire) as r:
            await r.read()
        return ts, (start, wire["sent"], time.perf_counter(), r.status)

    tasks = [asyncio.ensure_future(one(ts, body)) for ts, body in bodies]
    await asyncio.sleep(0.05)  # every request is built and waiting on the start signal
    start = time.perf_counter()
    ready.set()
    return dict(await asyncio.gather(*tasks))


def wire_trace() -> aiohttp.TraceConfig:
    """Records when each request's body has been written to its socket (`trace_request_ctx["sent"]`)."""

    async def sent(_session: object, context: Any, _params: object) -> None:
        if isinstance(context.trace_request_ctx, dict):
            context.trace_request_ctx["sent"] = time.perf_counter()

    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(sent)
    return trace


def order_id(n: int) -> str:
    """A distinct Amazon-style order id (n < 1,000,000). Luhn-valid ones are avoided: payfix masks those as
    card numbers, which would make two messages identical and the second a duplicate link, not a draft."""
    tail = n
    while luhn_ok(digits := f"112{4_000_000 + n:07d}{tail % 10_000_000:07d}"):
        tail += 1_000_000
    return f"{digits[:3]}-{digits[3:10]}-{digits[10:]}"


def events(n: int, *, prefix: str) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        ts = f"17000{prefix}{i:05d}.000100"
        text = TEXTS[i % len(TEXTS)].format(order=order_id(int(prefix) * 100_000 + i))
        envelope = {"token": "x", "team_id": "T0", "api_app_id": "A0", "type": "event_callback",
                    "event_id": f"Ev{prefix}{i:06d}", "event_time": int(time.time()),
                    "event": message_event(text, ts=ts, user=f"UAGENT{i % 10}")}  # fmt: skip
        out.append((ts, json.dumps(envelope)))
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    slack = FakeSlack()
    await slack.start()
    openai_runner, openai_url, llm_calls = await fake_openai(args.llm_delay)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_app(slack.url, openai_url, port, Path(tmp), args)
        connector = aiohttp.TCPConnector(limit=0, force_close=False, keepalive_timeout=60)
        async with aiohttp.ClientSession(connector=connector, trace_configs=[wire_trace()]) as session:
            try:
                await wait_healthy(session, url, proc)
                client = SignedSlack(f"{url}/slack/events", SECRET, session)
                await warm_up(client, slack, session, url, args.events)
                slack.calls.clear()
                llm_calls.clear()
                load_before = os.getloadavg()[0]
                cpu_before, burst_start = process_cpu_s(proc.pid), time.perf_counter()
                acks = await burst(client, events(args.events, prefix="2"))
                cards = await slack.wait_for(lambda: _cards(slack, acks), timeout=60)
                app_cpu = process_cpu_s(proc.pid) - cpu_before
            finally:
                proc.send_signal(signal.SIGTERM)
                exit_code = proc.wait(timeout=60)
                if args.log:
                    args.log.write_bytes((Path(tmp) / "serve.log").read_bytes())
    await openai_runner.cleanup()
    await slack.stop()
    ack_ms = [(acked - sent) * 1000 for _, sent, acked, _ in acks.values()]
    from_start_ms = [(acked - start) * 1000 for start, _, acked, _ in acks.values()]
    draft_s = [cards[ts] - start for ts, (start, _, _, _) in acks.items()]
    return {
        "events": args.events, "llm_delay_s": args.llm_delay, "concurrency": args.concurrency, "store": args.store,
        "app": args.app,
        "statuses": sorted({st for *_, st in acks.values()}), "drafted": len(cards), "llm_calls": len(llm_calls),
        "ack_from_start_p99_ms": pct(from_start_ms, 0.99),
        "ack_p50_ms": pct(ack_ms, 0.5), "ack_p99_ms": pct(ack_ms, 0.99), "ack_max_ms": max(ack_ms),
        "draft_p50_s": pct(draft_s, 0.5), "draft_p99_s": pct(draft_s, 0.99), "draft_max_s": max(draft_s),
        "serve_exit_code": exit_code, "load_before": load_before, "app_cpu_s": app_cpu,
        "llm_sent_s": (min(llm_calls) - burst_start, max(llm_calls) - burst_start) if llm_calls else (0.0, 0.0),
    }  # fmt: skip


async def warm_up(client: SignedSlack, slack: FakeSlack, session: aiohttp.ClientSession, url: str, n: int) -> None:
    """A running deployment is warm: one burst of the same size first (auth.test cached, lingua loaded, the
    app's keep-alive pools to Slack and the LLM filled), then every client connection touched again."""
    warm = await burst(client, events(n, prefix="1"))
    await slack.wait_for(lambda: _cards(slack, warm), timeout=120)
    await _quiet(slack, 0.5)
    await asyncio.gather(*(_touch(session, url) for _ in range(n)))


async def _touch(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(f"{url}/healthz") as response:
        await response.read()


async def _quiet(slack: FakeSlack, seconds: float) -> None:
    """Until the app has made no Slack call for `seconds` (the warm-up's drafts are all out)."""
    seen = -1
    while seen != len(slack.calls):
        seen = len(slack.calls)
        await asyncio.sleep(seconds)


def _cards(slack: FakeSlack, wanted: dict[str, Any]) -> dict[str, float] | None:
    arrived = {c.args.get("thread_ts"): c.at for c in slack.cards()}
    return {ts: arrived[ts] for ts in wanted} if all(ts in arrived for ts in wanted) else None


def report(r: dict[str, Any], command: str) -> str:
    app = "the floor app (`bench/slack_floor.py`)" if r["app"] == "floor" else "the app"
    goal_draft = 1.08 * r["llm_delay_s"]
    ok_ack = "✅" if r["ack_p99_ms"] <= 50 else "❌"
    ok_draft = "✅" if r["draft_p99_s"] <= goal_draft else "❌"
    return "\n".join([
        f"## Slack app: {r['events']} simultaneous message events, LLM mocked at {r['llm_delay_s']:g} s, "
        f"{STORES[r['store']] if r['app'] == 'payfix' else 'bare stack, no store'}",
        "",
        f"Command: `{command}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{app} in its own process (uvicorn + Bolt AsyncApp), "
        f"PAYFIX_LLM_CONCURRENCY={r['concurrency']}.",
        "",
        "| measure | p50 | p99 | max | goal |",
        "|---|---|---|---|---|",
        f"| ack latency (request on the wire → HTTP 200) | {r['ack_p50_ms']:.1f} ms | {r['ack_p99_ms']:.1f} ms | "
        f"{r['ack_max_ms']:.1f} ms | p99 ≤ 50 ms {ok_ack} |",
        f"| ack, from the burst's start (incl. the client's own send queue) | | "
        f"{r['ack_from_start_p99_ms']:.1f} ms | | |",
        f"| event → draft card posted (from the burst's start) | {r['draft_p50_s']:.3f} s | {r['draft_p99_s']:.3f} s | "
        f"{r['draft_max_s']:.3f} s | p99 ≤ {goal_draft:.2f} s {ok_draft} |",
        "",
        f"Drafted {r['drafted']}/{r['events']}; LLM requests {r['llm_calls']} (the first reached the LLM "
        f"{r['llm_sent_s'][0]:.3f} s after the burst began, the last {r['llm_sent_s'][1]:.3f} s); the app used "
        f"{r['app_cpu_s']:.2f} s of CPU for the burst; HTTP statuses {r['statuses']}; after SIGTERM {app} "
        f"drained and exited by the signal (code {r['serve_exit_code']}). Load average before the burst: "
        f"{r['load_before']:.2f} on {os.cpu_count()} CPUs.",
        "",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--llm-delay", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=256, help="PAYFIX_LLM_CONCURRENCY for the app")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.add_argument("--log", type=Path, help="keep the log of `payfix serve` here")
    parser.add_argument("--store", choices=STORES, default="memory")
    parser.add_argument("--app", choices=("payfix", "floor"), default="payfix",
                        help="floor: bench/slack_floor.py, the bare Bolt + openai + slack-sdk stack")  # fmt: skip
    parser.add_argument("--serve-with-memory-store", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_with_memory_store:
        serve_with_memory_store()
        return
    result = uvloop.run(run(args))  # the harness (client and both fakes) shares the cores: the faster loop
    text = report(result, "python bench/slack_bench.py " + shlex.join(sys.argv[1:]))
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    main()
