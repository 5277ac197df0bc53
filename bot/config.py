"""Configuration: one typed object, built once at start-up from the environment and passed in explicitly.

Nothing else in payfix reads the environment. Missing or placeholder secrets fail here, at start, with a
message that names the variable — never halfway through a request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
_PLACEHOLDER = re.compile(r"(?i)^(|x+|changeme|change-me|your[-_ ].*|<.*>|\.\.\.|todo|placeholder|xoxb-x+|sk-x+)$")


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip()))


@dataclass(frozen=True)
class Settings:
    """Everything payfix can be told. See README "Configuration" for each variable."""

    openai_api_key: str | None = None
    openai_base_url: str | None = None
    model: str = "gpt-4o-mini"
    llm_timeout_s: float = 20.0
    llm_total_budget_s: float = 45.0
    llm_max_attempts: int = 4
    llm_concurrency: int = 256  # a burst of 200 pastes drafts in one LLM latency; lower it to fit a rate limit
    agent_language: str | None = None  # None: the Slack user's locale, else zh-CN
    max_input_chars: int = 4000
    link_allowlist: tuple[str, ...] = ("shopee.", "amazon.", "lazada.", "tiktok.", "sellercentral.amazon")
    knowledge_dir: Path = ROOT / "knowledge"
    prompts_dir: Path = ROOT / "prompts"
    # Slack
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str | None = None
    port: int = 3000
    channels: frozenset[str] = field(default_factory=frozenset)
    allowed_bots: frozenset[str] = field(default_factory=frozenset)
    approvers: frozenset[str] = field(default_factory=frozenset)
    # Storage and follow-ups
    database_url: str = "sqlite:///payfix.db"
    retention_days: int = 365
    ops_channel: str | None = None
    follow_up_hours: float = 24.0
    follow_up_tags: frozenset[str] | None = None  # None: tags marked waits_on_buyer in taxonomy.yaml
    timezone: str = "UTC"  # IANA name: month boundaries, the hour-of-day heatmap and the digest's week
    spike_min_count: int = 5  # a tag must reach this count in a week before the digest calls it a spike
    claim_lease_s: float | None = None  # how long a replica holds a message it drafts; None: 2 × LLM budget + 30 s

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build and validate settings from an environment mapping (os.environ at start-up, a dict in tests)."""
        get = _Reader(env)
        settings = cls(
            openai_api_key=get.secret("OPENAI_API_KEY"),
            openai_base_url=get.text("OPENAI_BASE_URL"),
            model=get.text("PAYFIX_MODEL") or cls.model,
            llm_timeout_s=get.decimal("PAYFIX_LLM_TIMEOUT", cls.llm_timeout_s),
            llm_total_budget_s=get.decimal("PAYFIX_LLM_BUDGET", cls.llm_total_budget_s),
            llm_max_attempts=get.integer("PAYFIX_LLM_ATTEMPTS", cls.llm_max_attempts),
            llm_concurrency=get.integer("PAYFIX_LLM_CONCURRENCY", cls.llm_concurrency),
            agent_language=get.choice("PAYFIX_AGENT_LANGUAGE", ("en", "zh-CN")),
            max_input_chars=get.integer("PAYFIX_MAX_INPUT_CHARS", cls.max_input_chars),
            slack_bot_token=get.secret("SLACK_BOT_TOKEN"),
            slack_signing_secret=get.secret("SLACK_SIGNING_SECRET"),
            slack_app_token=get.secret("SLACK_APP_TOKEN"),
            slack_api_url=get.text("SLACK_API_URL"),
            port=get.integer("PORT", cls.port),
            channels=get.names("PAYFIX_CHANNELS"),
            allowed_bots=get.names("PAYFIX_ALLOWED_BOTS"),
            approvers=get.names("PAYFIX_APPROVERS"),
            database_url=get.text("PAYFIX_DATABASE_URL") or cls.database_url,
            retention_days=get.integer("PAYFIX_RETENTION_DAYS", cls.retention_days),
            ops_channel=get.text("PAYFIX_OPS_CHANNEL"),
            follow_up_hours=get.decimal("PAYFIX_FOLLOW_UP_HOURS", cls.follow_up_hours),
            follow_up_tags=get.names("PAYFIX_FOLLOW_UP_TAGS") or None,
            timezone=get.timezone("PAYFIX_TIMEZONE") or cls.timezone,
            spike_min_count=get.integer("PAYFIX_SPIKE_MIN_COUNT", cls.spike_min_count),
            claim_lease_s=get.decimal("PAYFIX_CLAIM_LEASE_SECONDS", 0.0) or None,
        )
        positive = ("llm_timeout_s", "llm_total_budget_s", "llm_max_attempts", "llm_concurrency", "max_input_chars",
                    "retention_days", "follow_up_hours", "spike_min_count")  # fmt: skip
        for name in positive:
            if getattr(settings, name) <= 0:
                raise ConfigError(f"{name} must be positive", f"{name} 必须为正数")
        return settings

    def require_slack(self) -> None:
        """`payfix serve` needs a bot token, and a signing secret unless it runs in Socket Mode."""
        needed = {"SLACK_BOT_TOKEN": self.slack_bot_token}
        if not self.slack_app_token:
            needed["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        missing = [name for name, value in needed.items() if not value]
        if missing:
            raise ConfigError(
                f"Missing or placeholder secret(s): {', '.join(missing)}. Set them in the environment.",
                f"缺少或仍为占位符的密钥：{', '.join(missing)}。请在环境变量中设置。",
            )


class _Reader:
    """Typed, validated reads from an environment mapping; every error names the variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def secret(self, name: str) -> str | None:
        value = self._env.get(name)
        if value is None:
            return None
        if _is_placeholder(value):
            raise ConfigError(
                f"{name} is set to a placeholder ({value.strip()[:12]!r}); set the real value or unset it.",
                f"{name} 仍是占位符；请设置真实值或删除该变量。",
            )
        return value.strip()

    def integer(self, name: str, default: int) -> int:
        return int(self._number(name, default, int))

    def decimal(self, name: str, default: float) -> float:
        return float(self._number(name, default, float))

    def _number(self, name: str, default: float, kind: type[int] | type[float]) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            return kind(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}", f"{name} 必须是数字，当前为 {raw!r}") from None

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        raw = self.text(name)
        if raw is not None and raw not in allowed:
            raise ConfigError(f"{name} must be one of {allowed}", f"{name} 只能是 {allowed} 之一")
        return raw

    def timezone(self, name: str) -> str | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{name} must be an IANA time zone such as Asia/Jakarta, got {raw!r}",
                              f"{name} 必须是 IANA 时区名（例如 Asia/Shanghai），当前为 {raw!r}") from None  # fmt: skip
        return raw

    def names(self, name: str) -> frozenset[str]:
        raw = self.text(name) or ""
        return frozenset(part.strip() for part in raw.split(",") if part.strip())
