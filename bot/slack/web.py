"""The Slack Web API client and its error codes."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

SLACK_API_URL = "https://slack.com/api/"
RATE_LIMIT_RETRIES = 3  # each waits Retry-After; bounded so a 429 storm cannot hold a draft forever


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL (GovSlack, a proxy, a test server) and bounded 429 retries."""
    base_url = settings.slack_api_url or SLACK_API_URL
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=15,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code ("not_in_channel"), or the HTTP status when the answer was not Slack JSON."""
    data = exc.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{exc.response.status_code}"
