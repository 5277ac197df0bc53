"""`payfix serve` as a real subprocess, with the world around it faked at the HTTP layer: a Slack Web API and an
OpenAI-compatible server on free local ports (the LLM can be held back to keep drafts in flight), and a client
that signs Events API / interactivity / slash-command requests with the app's signing secret."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

SIGNING_SECRET = "store-test-signing-secret-42"
PAYFIX = str(Path(sys.executable).with_name("payfix"))
TEAM = "T0STORE"
REPLY = ("Sorry the payment did not go through. Please try again on the checkout page, or choose another payment "
         "method there. We will never ask for your card number, CVV or OTP.")  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for(check: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Poll `check` (every 20 ms) until it is truthy; fail with `what` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class _Server:
    def __init__(self) -> None:
        self.app = web.Application(client_max_size=16 * 1024 * 1024)
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)


class FakeSlack(_Server):
    """The Slack Web API (every method answers ok) plus the file-upload URL files_upload_v2 posts to."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.uploads: list[bytes] = []
        self._ids = itertools.count(1)
        self.app.router.add_route("*", "/api/{method}", self._api)
        self.app.router.add_post("/upload/{file_id}", self._upload)

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def of(self, method: str, **match: Any) -> list[Call]:
        return [c for c in self.calls if c.method == method and all(c.args.get(k) == v for k, v in match.items())]

    def cards(self) -> list[Call]:
        """Draft cards: chat.postMessage calls whose blocks start with a header."""
        return [c for c in self.of("chat.postMessage") if any(b.get("type") == "header" for b in c.args.get("blocks")
                                                                   or [])]  # fmt: skip

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            args = dict(await request.json())
        else:
            args = {**request.query, **(await request.post())}
            for key in ("blocks", "view", "files"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        call = Call(method, args, {"ok": True, **self._answer(method, args)})
        self.calls.append(call)
        return web.json_response(call.answer)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        n = next(self._ids)
        ts = f"{1_800_000_000 + n}.000100"
        if method == "chat.postMessage":
            return {"channel": args.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method == "chat.scheduleMessage":
            return {"channel": args.get("channel"), "scheduled_message_id": f"Q{n}", "post_at": args.get("post_at")}
        if method == "users.info":
            return {"user": {"id": args.get("user"), "locale": "en-US"}}
        if method == "auth.test":
            return {"user_id": "UBOT", "bot_id": "BBOT", "team_id": TEAM}
        if method == "files.getUploadURLExternal":
            return {"upload_url": f"{self.base}/upload/F{n}", "file_id": f"F{n}"}
        if method == "files.completeUploadExternal":
            return {"files": [{"id": f["id"]} for f in args.get("files") or []]}
        return {}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads.append(await request.read())
        return web.Response(text="OK - uploaded")


class FakeOpenAI(_Server):
    """Chat Completions. While `gate` is clear every request waits (drafts stay in flight); `answer` is the JSON
    the model returns."""

    def __init__(self, diagnosis: str = "card_declined") -> None:
        super().__init__()
        self.requests = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.answer = {"diagnosis": diagnosis, "confidence": 0.9, "reply": REPLY, "citations": [],
                       "reply_translation": "很抱歉付款未成功。请在结账页重试或换一种支付方式。"}  # fmt: skip
        self.app.router.add_post("/v1/chat/completions", self._complete)

    @property
    def url(self) -> str:
        return f"{self.base}/v1"

    async def _complete(self, request: web.Request) -> web.Response:
        await request.read()
        self.requests += 1
        await self.gate.wait()
        return web.json_response({
            "id": "chatcmpl-store", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-test",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": json.dumps(self.answer, ensure_ascii=False)}}],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 90, "total_tokens": 1290,
                      "prompt_tokens_details": {"cached_tokens": 1024}},
        })  # fmt: skip


@dataclass
class Serve:
    """One `payfix serve` process (HTTP mode) on a free port."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self, session: aiohttp.ClientSession, timeout: float = 60) -> None:
        env = {**os.environ, **self.env, "PORT": str(self.port)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([PAYFIX, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"payfix serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                async with session.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        raise AssertionError(f"payfix serve not healthy after {timeout}s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no draining — a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, as an orchestrator stops a replica; killed if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class SignedClient:
    """Requests as Slack sends them, signed: v0 HMAC-SHA256 over "v0:{timestamp}:{body}"."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self._ids = itertools.count(1)

    async def _post(self, url: str, body: str, content_type: str) -> int:
        stamp = str(int(time.time()))
        digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
        headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}",
                   "Content-Type": content_type}  # fmt: skip
        async with self.session.post(url, data=body.encode(), headers=headers) as response:
            await response.read()
            return response.status

    async def event(self, url: str, event: dict[str, Any], *, event_id: str) -> int:
        envelope = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0STORE", "type": "event_callback",
                    "event_id": event_id, "event_time": int(time.time()), "event": event,
                    "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}]}  # fmt: skip
        return await self._post(url, json.dumps(envelope), "application/json")

    async def click(self, url: str, action_id: str, value: str, *, user: str, channel: str) -> int:
        payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user}, "channel": {"id": channel},
                   "trigger_id": f"trig.{next(self._ids)}", "api_app_id": "A0STORE", "response_url": "",
                   "container": {"type": "message", "channel_id": channel}, "message": {"ts": "1.0"},
                   "actions": [{"action_id": action_id, "value": value, "type": "button"}]}  # fmt: skip
        return await self._post(url, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def command(self, url: str, text: str, *, user: str, channel: str) -> int:
        form = {"command": "/payfix", "text": text, "user_id": user, "channel_id": channel, "team_id": TEAM,
                "trigger_id": f"trig.{next(self._ids)}", "response_url": "", "token": "legacy"}  # fmt: skip
        return await self._post(url, urlencode(form), "application/x-www-form-urlencoded")


def message_event(text: str, *, ts: str, user: str = "UAGENT", channel: str = "CPAY") -> dict[str, Any]:
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "team": TEAM}


def serve_env(*, slack: FakeSlack, openai: FakeOpenAI, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-store-test-1", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.url,
        "OPENAI_API_KEY": "sk-store-test-1", "OPENAI_BASE_URL": openai.url, "PAYFIX_MODEL": "gpt-test",
        "PAYFIX_DATABASE_URL": database_url, "PAYFIX_AGENT_LANGUAGE": "en", "PAYFIX_LOG_LEVEL": "INFO",
        "PAYFIX_CLAIM_LEASE_SECONDS": "3", "PAYFIX_LLM_BUDGET": "20", **extra,
    }  # fmt: skip
