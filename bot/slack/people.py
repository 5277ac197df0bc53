"""Who is acting: the agent's language (setting, else Slack locale) and whether they may approve."""

from __future__ import annotations

import logging
from functools import partial

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.tasks import TTLCache
from bot.slack.web import slack_error

log = logging.getLogger("payfix.slack")
DEFAULT_LANGUAGE = "zh-CN"  # README: PAYFIX_AGENT_LANGUAGE, else the Slack locale, else zh-CN


def language_for_locale(locale: str | None) -> str:
    """Slack locales are like en-US, zh-CN, zh-TW, ja-JP: Chinese ones get zh-CN, all others en."""
    if not locale:
        return DEFAULT_LANGUAGE
    return "zh-CN" if locale.lower().startswith("zh") else "en"


class People:
    """Cached lookups of Slack users and user groups, so a burst of events costs one API call per person."""

    def __init__(
        self, client: AsyncWebClient, settings: Settings, *, locale_ttl_s: float = 3600, group_ttl_s: float = 60
    ) -> None:
        self._client = client
        self._fixed_language = settings.agent_language
        self._approvers = settings.approvers
        self._locales: TTLCache[str, str] = TTLCache(locale_ttl_s)
        self._groups: TTLCache[str, frozenset[str]] = TTLCache(group_ttl_s)

    async def language(self, user: str | None) -> str:
        """The agent-facing language for `user`: PAYFIX_AGENT_LANGUAGE wins over the Slack locale."""
        if self._fixed_language:
            return self._fixed_language
        if not user:
            return DEFAULT_LANGUAGE
        return await self._locales.get(user, partial(self._lookup_language, user))

    async def _lookup_language(self, user: str) -> str:
        try:
            response = await self._client.users_info(user=user, include_locale=True)
        except SlackApiError as exc:
            log.warning("users.info %s failed (%s): using %s", user, slack_error(exc), DEFAULT_LANGUAGE)
            return DEFAULT_LANGUAGE
        info = response.get("user") or {}
        return language_for_locale(info.get("locale"))

    @property
    def restricted(self) -> bool:
        return bool(self._approvers)

    async def can_approve(self, user: str) -> bool:
        """Anyone, unless PAYFIX_APPROVERS is set; then its users and the members of its user groups (S…)."""
        if not self._approvers or user in self._approvers:
            return True
        for group in sorted(g for g in self._approvers if g.startswith("S")):
            if user in await self._groups.get(group, partial(self._members, group)):
                return True
        return False

    async def _members(self, group: str) -> frozenset[str]:
        try:
            response = await self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            log.warning("usergroups.users.list %s failed: %s", group, slack_error(exc))
            return frozenset()
        return frozenset(response.get("users") or [])
