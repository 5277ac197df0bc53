"""`payfix serve`: the Slack app under uvicorn (a production ASGI server with graceful shutdown).

HTTP mode: Events API, slash commands and interactivity at POST /slack/events, GET /healthz.
Socket Mode (SLACK_APP_TOKEN set): events over Slack's WebSocket; uvicorn still serves /healthz for the
container health check. SIGTERM/SIGINT: uvicorn stops accepting, finishes requests, then the lifespan
drains background drafts.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
from collections.abc import Callable

import httpx
import uvicorn
from openai import AsyncOpenAI, DefaultAioHttpClient
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.config import Settings
from bot.llm import LLMClient, RetryPolicy
from bot.pipeline import Engine
from bot.slack.app import PayfixApp, build_app
from bot.slack.asgi import SlackASGI
from bot.slack.deps import Hooks
from bot.store import open_store
from bot.store.api import Store

log = logging.getLogger("payfix.slack")


def storage_hooks(settings: Settings, store: Store, engine: Engine) -> Hooks:
    """Follow-ups, outcomes, stats and the App Home from the storage issue's wiring, when this build has it."""
    try:
        wiring = importlib.import_module("bot.slack.followup_wiring")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.slack.followup_wiring":
            raise
        return Hooks()
    hooks: Hooks = wiring.storage_hooks(settings, store, engine.knowledge)
    return hooks


def asgi_for(settings: Settings, app: PayfixApp) -> SlackASGI:
    """The ASGI app for either mode (Socket Mode connects in the lifespan, after the app has started)."""
    if not settings.slack_app_token:
        return SlackASGI(app)
    handler = AsyncSocketModeHandler(app.bolt, settings.slack_app_token)
    return SlackASGI(app, events=False, on_startup=[handler.connect_async], on_shutdown=[handler.close_async])


def server_llm(settings: Settings) -> tuple[LLMClient | None, AsyncOpenAI | None]:
    """The core's LLM client on an aiohttp transport, for `payfix serve`.

    Why not the default httpx transport: under a burst (200 drafts in flight) httpx's connection pool costs
    8–25 ms of CPU per call — its bookkeeping walks every connection for every request — against ~2 ms on
    aiohttp, and 200 one-second completions took 5–8 s instead of ~2 s (bench/slack_bench.py, issue 4).
    Retries, timeouts, concurrency cap: the same settings as `LLMClient.from_settings`."""
    if not settings.llm_enabled:
        return None, None
    cap = settings.llm_concurrency
    limits = httpx.Limits(max_connections=cap, max_keepalive_connections=cap, keepalive_expiry=60)
    client = AsyncOpenAI(
        api_key=settings.openai_api_key, base_url=settings.openai_base_url, timeout=settings.llm_timeout_s,
        max_retries=0, http_client=DefaultAioHttpClient(timeout=settings.llm_timeout_s, limits=limits),
    )  # fmt: skip
    policy = RetryPolicy(max_attempts=settings.llm_max_attempts, total_budget_s=settings.llm_total_budget_s)
    return LLMClient(client, model=settings.model, policy=policy, concurrency=settings.llm_concurrency), client


async def serve(settings: Settings, port: int, *, store: Store | None = None) -> None:
    """Serve until SIGTERM/SIGINT. `store` defaults to PAYFIX_DATABASE_URL's (benchmarks pass a MemoryStore)."""
    llm, openai_client = server_llm(settings)
    engine = Engine(settings, llm=llm)
    store = store or open_store(settings)  # migrates the schema; an unreachable database fails here, at start
    app = build_app(settings, engine, store, hooks=storage_hooks(settings, store, engine))
    # Everything built so far lives as long as the process: ~300,000 objects (rules, KB, templates) that
    # every full garbage collection would walk again — a ~40 ms pause, longer with cold caches, landing in
    # the middle of a burst of events. Frozen, the collector only looks at what requests allocate.
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        asgi_for(settings, app), host="0.0.0.0", port=port, lifespan="on", log_level="info",
        timeout_graceful_shutdown=int(app.deps.timing.shutdown_grace_s), backlog=2048, access_log=False,
        timeout_keep_alive=75,  # longer than load balancers' idle timeout (60 s): no reset-connection 502s
    )  # fmt: skip
    mode = "Socket Mode" if settings.slack_app_token else f"HTTP on :{port} (POST /slack/events)"
    log.warning(
        "payfix serve: %s, store %s, LLM %s", mode, type(store).__name__, settings.model if engine.llm else "off"
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        close = getattr(store, "aclose", None)
        if close is not None:
            await close()
        if openai_client is not None:
            await openai_client.close()


def run(settings: Settings, port: int | None = None, *, store: Store | None = None) -> int:
    """Blocks until SIGTERM/SIGINT. Missing or placeholder Slack secrets fail here, before anything starts."""
    settings.require_slack()
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(serve(settings, port or settings.port, store=store))
    return 0


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (Linux, macOS): the same asyncio code on a faster event loop."""
    try:
        import uvloop
    except ModuleNotFoundError:
        return None
    return uvloop.new_event_loop
