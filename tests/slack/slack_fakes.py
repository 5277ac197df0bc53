"""Test doubles at the HTTP layer: a fake Slack Web API server, a client that signs requests like Slack, and
OpenAI completions for respx. Used by conftest.py (fixtures) and by bench/slack_bench.py."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from aiohttp import web

BOT_USER = "UPAYFIXBOT"
BOT_ID = "BPAYFIX"
TEAM = "T0TEST"


@dataclass
class Call:
    """One request the app made to the fake Slack API."""

    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)
    status: int = 200  # what the fake answered: 429 when throttled

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.args.get("blocks") or [])

    @property
    def block_text(self) -> str:
        """Every text in the blocks, joined: what the agent reads on the card."""
        return json.dumps(self.blocks, ensure_ascii=False)


class FakeSlack:
    """A local Slack Web API on a free port. Records every call; can answer 429 (with Retry-After) or an
    error code for a method; serves response_url endpoints under /response/."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self.locales: dict[str, str] = {}
        self.groups: dict[str, list[str]] = {}
        self.errors: dict[str, str] = {}
        self._throttle: dict[str, list[int]] = {}
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)  # slack-sdk GETs some methods (users.info)
        app.router.add_post("/response/{hook}", self._response_url)
        app.router.add_post("/upload/{file}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=4096)  # bursts: no SYN drops
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/"
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def throttle(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 with Retry-After."""
        self._throttle[method] = [retry_after] * times

    # -- queries ------------------------------------------------------------------------------------------
    def of(self, method: str, **match: Any) -> list[Call]:
        return [c for c in self.calls if c.method == method and all(c.args.get(k) == v for k, v in match.items())]

    def cards(self, **match: Any) -> list[Call]:
        """Draft cards Slack accepted: chat.postMessage calls with a header block that were not throttled."""
        posts = self.of("chat.postMessage", **match)
        return [c for c in posts if c.status == 200 and any(b["type"] == "header" for b in c.blocks)]

    async def wait_for(self, check: Callable[[], Any], *, timeout: float = 10.0) -> Any:
        """Poll until `check()` is truthy; return its value. Fails the test with a clear message on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            await asyncio.sleep(0.01)
        methods = [c.method for c in self.calls]
        raise AssertionError(f"condition not met within {timeout}s; Slack calls so far: {methods}")

    # -- handlers -----------------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        call = Call(method, args)
        self.calls.append(call)
        pending = self._throttle.get(method)
        if pending:
            retry_after = pending.pop(0)
            call.status = 429
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(retry_after)})  # fmt: skip
        if method in self.errors:
            return web.json_response({"ok": False, "error": self.errors[method]})
        return web.json_response(self._answer(method, args))

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{1_800_000_000 + next(self._ts)}.000200"
        answers: dict[str, dict[str, Any]] = {
            "auth.test": {"user_id": BOT_USER, "bot_id": BOT_ID, "team_id": TEAM, "user": "payfix", "team": "Test"},
            "chat.postMessage": {"channel": args.get("channel"), "ts": ts, "message": {"ts": ts}},
            "chat.update": {"channel": args.get("channel"), "ts": args.get("ts")},
            "chat.postEphemeral": {"message_ts": ts},
            "users.info": {
                "user": {"id": args.get("user"), "locale": self.locales.get(str(args.get("user")), "en-US")}
            },
            "usergroups.users.list": {"users": self.groups.get(str(args.get("usergroup")), [])},
            "chat.getPermalink": {"permalink": f"https://test.slack.com/archives/{args.get('channel')}/p{ts}"},
            "chat.scheduleMessage": {"scheduled_message_id": f"Q{next(self._ts)}", "post_at": args.get("post_at")},
            "files.getUploadURLExternal": {"upload_url": f"{self.base}/upload/F{ts}", "file_id": f"F{ts}"},
            "files.completeUploadExternal": {"files": [{"id": f["id"], "title": f.get("title")}
                                                       for f in _json_list(args.get("files"))]},
        }  # fmt: skip
        return {"ok": True, **answers.get(method, {})}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file"]] = await request.read()
        return web.Response(text="OK")

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append({"hook": request.match_info["hook"], **(await request.json())})
        return web.Response(text="ok")


async def _arguments(request: web.Request) -> dict[str, Any]:
    """slack-sdk sends JSON for some methods and forms for others; JSON-valued form fields are decoded."""
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    args: dict[str, Any] = {**request.query, **(await request.post())}
    for key in ("blocks", "view", "attachments"):
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args


def _json_list(value: Any) -> list[dict[str, Any]]:
    parsed = json.loads(value) if isinstance(value, str) else value
    return list(parsed or [])


class SignedSlack:
    """Sends requests to the app as Slack does: Events API JSON, slash-command and interactivity forms,
    each signed with the signing secret (v0 HMAC-SHA256 of "v0:{timestamp}:{body}")."""

    def __init__(self, url: str, secret: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.secret = secret
        self.session = session
        self._ids = itertools.count(1)

    def headers(self, body: str, *, timestamp: int | None = None, content_type: str) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        digest = hmac.new(self.secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}

    async def post(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
                    ) -> tuple[int, str]:  # fmt: skip
        body = json.dumps(event_envelope(event, event_id or f"Ev{next(self._ids):06d}"))
        headers = self.headers(body, content_type="application/json")
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(body, headers)

    async def command(self, text: str, *, user: str = "UAGENT", channel: str = "CPAY", response_url: str = ""
                      ) -> tuple[int, str]:  # fmt: skip
        form = {"command": "/payfix", "text": text, "user_id": user, "channel_id": channel, "team_id": TEAM,
                "trigger_id": f"trig.{next(self._ids)}", "response_url": response_url, "token": "legacy"}  # fmt: skip
        body = urlencode(form)
        return await self.post(body, self.headers(body, content_type="application/x-www-form-urlencoded"))

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, self.headers(body, content_type="application/x-www-form-urlencoded"))

    async def click(self, action_id: str, value: str, *, user: str = "UAGENT", channel: str = "CPAY",
                    response_url: str = "") -> tuple[int, str]:  # fmt: skip
        return await self.interact({
            "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user}, "channel": {"id": channel},
            "trigger_id": f"trig.{next(self._ids)}", "response_url": response_url, "api_app_id": "A0TEST",
            "container": {"type": "message", "channel_id": channel}, "message": {"ts": "1.0"},
            "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "b"}],
        })  # fmt: skip

    async def submit_view(self, callback_id: str, *, private_metadata: str, values: dict[str, Any],
                          user: str = "UAGENT") -> tuple[int, str]:  # fmt: skip
        return await self.interact({
            "type": "view_submission", "team": {"id": TEAM}, "user": {"id": user}, "api_app_id": "A0TEST",
            "trigger_id": f"trig.{next(self._ids)}",
            "view": {"id": "V1", "type": "modal", "callback_id": callback_id, "private_metadata": private_metadata,
                     "state": {"values": values}},
        })  # fmt: skip


def event_envelope(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {
        "token": "legacy", "team_id": TEAM, "api_app_id": "A0TEST", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }  # fmt: skip


def message_event(text: str, *, ts: str, user: str = "UAGENT", channel: str = "CPAY", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "team": TEAM, **extra}


def completion(content: dict[str, Any], *, prompt_tokens: int = 1200) -> httpx.Response:
    """A Chat Completions response as the OpenAI API sends it."""
    return httpx.Response(200, json={
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-test",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": json.dumps(content, ensure_ascii=False)}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 90, "total_tokens": prompt_tokens + 90,
                  "prompt_tokens_details": {"cached_tokens": 1024}},
    })  # fmt: skip


REPLY = (
    "Sorry the payment did not go through. Please call your bank and ask them to allow this online payment, "
    "then try again on the checkout page. We will never ask for your card number, CVV or OTP."
)


def good_answer(**overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "diagnosis": "card_declined",
        "confidence": 0.9,
        "reply": REPLY,
        "reply_translation": "很抱歉付款未成功。请联系您的银行授权这笔网上付款，然后在结账页重试。"
        "我们绝不会索要您的卡号、CVV 或验证码。",
        "citations": ["card_declined#advise"],
    }
    return answer | overrides
