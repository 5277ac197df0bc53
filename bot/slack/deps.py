"""What every handler needs, built once by `build_app` and passed explicitly (no module-level singletons)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.pipeline import Engine
from bot.slack.people import People
from bot.slack.tasks import Ingress, KeyedLocks, TaskRunner, TTLCache
from bot.store.api import Store, StoredDraft, StoredMessage


class OnApproved(Protocol):
    """Called once per approved (or edited-and-approved) draft, after the final text is in the thread.

    The storage issue schedules the buyer follow-up here."""

    async def __call__(self, deps: Deps, *, draft: StoredDraft, message: StoredMessage, user: str) -> None: ...


class StatsHandler(Protocol):
    """`/payfix stats [YYYY-MM]`: `month` is None for the current month; answers the user itself."""

    async def __call__(self, deps: Deps, *, channel: str, user: str, month: str | None, language: str) -> None: ...


class OnOutcome(Protocol):
    """ "Buyer paid" / "Order lost" (buttons on an approved card, or :moneybag: / :wastebasket: on it)."""

    async def __call__(self, deps: Deps, *, draft_id: int, outcome: str, user: str, channel: str) -> None: ...


class HomeView(Protocol):
    """The App Home view for `user` (replaces the help-only home when set)."""

    async def __call__(self, deps: Deps, *, user: str, language: str) -> dict[str, Any]: ...


Background = Callable[["Deps"], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class Hooks:
    """Extension points for the storage issue; the Slack app works without any of them."""

    on_approved: OnApproved | None = None
    stats_handler: StatsHandler | None = None
    outcome_buttons: bool = False  # "Buyer paid" / "Order lost" on approved cards
    on_outcome: OnOutcome | None = None
    home_view: HomeView | None = None
    background: tuple[Background, ...] = ()  # long-running loops started with the app, cancelled at stop


@dataclass(frozen=True, slots=True)
class Timing:
    """How long things are held. A lease outlives the slowest draft (LLM budget plus posting) so another
    replica never takes over a message that is still being drafted."""

    lease_s: float = 120.0
    sweep_interval_s: float = 5.0
    sweep_batch: int = 50
    duplicate_window_s: int = 3600
    shutdown_grace_s: float = 20.0

    @classmethod
    def for_settings(cls, settings: Settings) -> Timing:
        return cls(lease_s=settings.llm_total_budget_s * 2 + 30)


@dataclass(slots=True)
class Deps:
    settings: Settings
    engine: Engine
    store: Store
    client: AsyncWebClient
    people: People
    worker_id: str
    hooks: Hooks = field(default_factory=Hooks)
    timing: Timing = field(default_factory=Timing)
    tasks: TaskRunner = field(default_factory=TaskRunner)
    ingress: Ingress = field(default_factory=Ingress)
    inflight: set[int] = field(default_factory=set)  # message ids being drafted by this process
    locks: KeyedLocks[Hashable] = field(default_factory=KeyedLocks)
    once: TTLCache[str, None] = field(default_factory=lambda: TTLCache(3600))  # double-click guard

    def ui(self, language: str) -> Mapping[str, str]:
        return self.engine.knowledge.ui(language)

    def label(self, tag: str, language: str) -> str:
        return self.engine.knowledge.label(tag, language)
