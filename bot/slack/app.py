"""Building the Slack app: `build_app(settings, engine, store)` → a `PayfixApp` (Bolt AsyncApp + its deps).

Nothing is created at import time. The caller owns the life cycle: `await start()` inside the running loop
(opens the shared HTTP session, starts the sweeper), `await stop()` at shutdown (drains background work).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.pipeline import Engine
from bot.slack.deps import Deps, Hooks, Timing
from bot.slack.drafting import sweep_forever
from bot.slack.listeners import register
from bot.slack.people import People
from bot.slack.web import make_client
from bot.store.api import Store

log = logging.getLogger("payfix.slack")


class PayfixApp:
    """The Bolt app, the dependencies its listeners share, and the background loops' life cycle."""

    def __init__(self, bolt: AsyncApp, deps: Deps, *, owns_client: bool) -> None:
        self.bolt = bolt
        self.deps = deps
        self._owns_client = owns_client
        self._session: aiohttp.ClientSession | None = None
        self._loops: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Open one keep-alive HTTP session for all Web API calls and start the sweeper (it sweeps at once,
        picking up anything a previous process recorded but did not draft) and the hooks' background loops."""
        if self._owns_client and self.deps.client.session is None:
            connector = aiohttp.TCPConnector(limit=256, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)
            self.deps.client.session = self._session
        if not self._loops:
            loop = asyncio.get_running_loop()
            self._loops.append(loop.create_task(sweep_forever(self.deps), name="sweeper"))
            self._loops += [loop.create_task(job(self.deps), name=getattr(job, "__name__", "background"))
                            for job in self.deps.hooks.background]  # fmt: skip

    async def stop(self) -> None:
        """Stop sweeping (and the hooks' loops), let running drafts finish (cancelled after the grace period:
        they stay claimable), then close the session."""
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        await self.deps.tasks.drain(self.deps.timing.shutdown_grace_s)
        if self._session is not None:
            self.deps.client.session = None
            await self._session.close()
            self._session = None


def build_app(
    settings: Settings,
    engine: Engine,
    store: Store,
    *,
    client: AsyncWebClient | None = None,
    hooks: Hooks | None = None,
    timing: Timing | None = None,
) -> PayfixApp:
    """Wire Bolt, the engine and the store. Socket Mode (SLACK_APP_TOKEN) needs no signing secret; over HTTP
    Bolt rejects unsigned, badly signed and stale requests with 401 before any listener runs."""
    owns_client = client is None
    web = client or make_client(settings)
    bolt = AsyncApp(
        client=web,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=not settings.slack_app_token,
        process_before_response=True,  # listeners finish (message recorded) before the HTTP 200
        logger=logging.getLogger("payfix.slack.bolt"),
    )
    deps = Deps(
        settings=settings, engine=engine, store=store, client=web, people=People(web, settings),
        worker_id=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
        hooks=hooks or Hooks(), timing=timing or Timing.for_settings(settings),
    )  # fmt: skip
    register(bolt, deps)
    return PayfixApp(bolt, deps, owns_client=owns_client)
