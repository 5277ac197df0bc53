"""The routing table: every Slack entry point of payfix and the handler it calls, in one place.

The app runs with `process_before_response=True`: a listener's body runs to completion before Slack gets
its HTTP 200. So each listener acks (or, for events, returns) after only the cheap part — recording a message,
parsing a click — and anything slow (LLM, Slack API calls) is started with `deps.tasks.spawn`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack import command, decisions, events, ui
from bot.slack.deps import Deps

Body = dict[str, Any]
Listener = Callable[..., Awaitable[None]]


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire every event, command, action and view to its handler."""

    @app.event("message")
    async def message(body: Body) -> None:
        await events.on_message(deps, body)

    @app.event("reaction_added")
    async def reaction_added(event: Body) -> None:
        events.on_reaction(deps, event)

    @app.event("app_home_opened")
    async def app_home_opened(event: Body) -> None:
        events.on_home_opened(deps, event)

    @app.command("/payfix")
    async def payfix(ack: AsyncAck, body: Body) -> None:
        await ack()
        cmd = command.Invocation.from_body(body)
        deps.tasks.spawn(command.run(deps, cmd), name=f"command:{cmd.trigger_id}")

    app.action(ui.ACTION_APPROVE)(_decision_button(deps, "approve"))
    app.action(ui.ACTION_REJECT)(_decision_button(deps, "reject"))
    app.action(ui.ACTION_REGENERATE)(_decision_button(deps, "regenerate"))

    @app.action(ui.ACTION_PAID)
    async def paid(ack: AsyncAck, body: Body) -> None:
        await ack()
        _outcome(deps, Click.from_body(body), "paid")

    @app.action(ui.ACTION_LOST)
    async def lost(ack: AsyncAck, body: Body) -> None:
        await ack()
        _outcome(deps, Click.from_body(body), "lost")

    @app.action(ui.ACTION_EDIT)
    async def edit(ack: AsyncAck, body: Body) -> None:
        await ack()
        click = Click.from_body(body)
        deps.tasks.spawn(
            decisions.open_edit(deps, draft_id=click.draft_id, user=click.user, channel=click.channel,
                                trigger_id=body["trigger_id"]),
            name=f"edit:{click.draft_id}",
        )  # fmt: skip

    @app.view(ui.EDIT_VIEW)
    async def edit_submitted(ack: AsyncAck, body: Body, view: Body) -> None:
        user = body["user"]["id"]
        text = (view["state"]["values"][ui.EDIT_BLOCK][ui.EDIT_INPUT].get("value") or "").strip()
        if not await deps.people.can_approve(user):
            refusal = deps.ui(await deps.people.language(user))["slack_not_approver"]
            await ack(response_action="errors", errors={ui.EDIT_BLOCK: refusal})
            return
        await ack()
        draft_id = int(view["private_metadata"])
        deps.tasks.spawn(
            decisions.submit_edit(deps, draft_id=draft_id, user=user, text=text), name=f"edited:{draft_id}"
        )

    @app.action(ui.ACTION_DRAFT_ANYWAY)
    async def draft_anyway(ack: AsyncAck, body: Body) -> None:
        await ack()
        message_id = int(body["actions"][0]["value"])
        deps.tasks.spawn(
            command.draft_anyway(deps, message_id=message_id, user=body["user"]["id"],
                                 response_url=body.get("response_url")),
            name=f"anyway:{message_id}",
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Click:
    """A button on a draft card: its value is the draft id."""

    draft_id: int
    user: str
    channel: str

    @classmethod
    def from_body(cls, body: Body) -> Click:
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
        return cls(draft_id=int(body["actions"][0]["value"]), user=str(body["user"]["id"]), channel=str(channel))


def _decision_button(deps: Deps, decision: decisions.Decision) -> Listener:
    async def on_click(ack: AsyncAck, body: Body) -> None:
        await ack()
        click = Click.from_body(body)
        deps.tasks.spawn(
            decisions.decide(deps, draft_id=click.draft_id, decision=decision, user=click.user, channel=click.channel),
            name=f"{decision}:{click.draft_id}",
        )

    return on_click


def _outcome(deps: Deps, click: Click, outcome: str) -> None:
    """ "Buyer paid" / "Order lost": the storage issue's hook records it, cancels the reminder, closes the card."""
    hook = deps.hooks.on_outcome
    if hook is not None:
        deps.tasks.spawn(
            hook(deps, draft_id=click.draft_id, outcome=outcome, user=click.user, channel=click.channel),
            name=f"{outcome}:{click.draft_id}",
        )
