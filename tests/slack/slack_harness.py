"""Running the real app for tests and the benchmark: built as `payfix serve` builds it, served by uvicorn on a
free port, with a client that signs its requests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import uvicorn
from slack_fakes import SignedSlack

from bot.config import Settings
from bot.llm import LLMClient, RetryPolicy
from bot.pipeline import Engine
from bot.slack.app import PayfixApp, build_app
from bot.slack.asgi import SlackASGI
from bot.slack.deps import Hooks, Timing
from bot.store.memory import MemoryStore


@dataclass
class Running:
    """A started app: where to send requests and what it is made of."""

    app: PayfixApp
    store: MemoryStore
    slack: SignedSlack
    url: str


class serve_app:  # used like a function: `async with serve_app(...) as running`
    """Build the app exactly as `payfix serve` does and run it under uvicorn on a free port."""

    def __init__(self, settings: Settings, engine: Engine, store: MemoryStore, *, hooks: Hooks, timing: Timing) -> None:
        client = LLMClient.from_settings(settings, policy=RetryPolicy.no_wait(max_attempts=2, total_budget_s=5))
        self.app = build_app(settings, engine.with_llm(client, settings), store, hooks=hooks, timing=timing)
        self.store = store
        self.settings = settings

    async def __aenter__(self) -> Running:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(SlackASGI(self.app), lifespan="on", log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.task = asyncio.get_running_loop().create_task(self.server.serve(sockets=[sock]))
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.005)
        self.session = aiohttp.ClientSession()
        url = f"http://127.0.0.1:{port}"
        signed = SignedSlack(f"{url}/slack/events", self.settings.slack_signing_secret or "", self.session)
        return Running(self.app, self.store, signed, url)

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        self.server.should_exit = True
        await self.task


StartApp = Callable[..., serve_app]
