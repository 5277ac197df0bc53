"""The floor under the Slack burst benchmark: the least an app can do with the stack payfix must use.

For every message event: Bolt verifies and acks it, then one `reactions.add` and one LLM request through the
official `openai` client (on the same aiohttp transport as `payfix serve`), then one `chat.postMessage` of a
card-sized message — no store, no prefilter, no guard, no Block Kit building. Served exactly like `payfix
serve` (uvicorn on uvloop). `bench/slack_bench.py --app floor` drives it with the same burst and fakes, so
what payfix itself adds is the difference between the two runs, and what this prints is the best any app
built on Bolt + openai + slack-sdk can do on the machine. Not a product: a measuring stick.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import aiohttp
import httpx
import uvicorn
import uvloop
from openai import AsyncOpenAI, DefaultAioHttpClient
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

CARD = [{"type": "header", "text": {"type": "plain_text", "text": "Card declined"}}] + [
    {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 300}} for _ in range(10)
]


async def main() -> None:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
    web = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"], session=session)
    bolt = AsyncApp(client=web, signing_secret=os.environ["SLACK_SIGNING_SECRET"], process_before_response=True)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256, keepalive_expiry=60)
    llm = AsyncOpenAI(api_key="sk-floor", base_url=os.environ["OPENAI_BASE_URL"], max_retries=0,
                      http_client=DefaultAioHttpClient(timeout=30, limits=limits))  # fmt: skip
    running: set[asyncio.Task[Any]] = set()

    def spawn(coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        running.add(task)
        task.add_done_callback(running.discard)

    async def draft(event: dict[str, Any]) -> None:
        spawn(web.reactions_add(channel=event["channel"], timestamp=event["ts"], name="eyes"))
        body = {"model": "floor", "messages": [{"role": "user", "content": event["text"]}]}
        await llm.post("/chat/completions", body=body, cast_to=httpx.Response)
        await web.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], blocks=CARD, text="draft")

    @bolt.event("message")
    async def message(body: dict[str, Any]) -> None:
        spawn(draft(body["event"]))

    handler = AsyncSlackRequestHandler(bolt)

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["path"] == "/healthz":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        else:
            await handler(scope, receive, send)

    config = uvicorn.Config(asgi, host="127.0.0.1", port=int(os.environ["PORT"]), lifespan="on",
                            log_level="warning", backlog=2048, access_log=False)  # fmt: skip
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    uvloop.run(main())
