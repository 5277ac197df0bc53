"""The ASGI application uvicorn serves: `POST /slack/events` (Events API, slash commands, interactivity —
Bolt verifies the signature), `GET /healthz`, and the lifespan that starts and drains the app."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler

from bot.slack.app import PayfixApp

log = logging.getLogger("payfix.slack")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]
EVENTS_PATH = "/slack/events"


class SlackASGI:
    """`events=False` (Socket Mode) keeps only /healthz: events then arrive over the WebSocket."""

    def __init__(
        self, app: PayfixApp, *, events: bool = True, on_startup: Sequence[Hook] = (), on_shutdown: Sequence[Hook] = ()
    ) -> None:
        self._app = app
        self._bolt = AsyncSlackRequestHandler(app.bolt, path=EVENTS_PATH) if events else None
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] == "/healthz" and scope["method"] in ("GET", "HEAD"):
            await _plain(send, 200, b"ok\n")
        elif scope["type"] == "http" and self._bolt is not None:
            self._app.deps.ingress.arrived()
            await self._bolt(scope, receive, send)  # type: ignore[arg-type]
        elif scope["type"] == "http":
            await _plain(send, 404, b"Not Found\n")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._app.start()
                for hook in self._on_startup:
                    await hook()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self._on_shutdown:
                    await hook()
                await self._app.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _plain(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
