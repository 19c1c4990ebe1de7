"""The Agents SDK's ``CloudAdapter``, with every outbound activity going through our sender.

Left alone, the SDK's adapter asks Entra ID for tokens on every turn (even when nothing is
sent), posts replies to whatever ``serviceUrl`` the activity names, drops a message the
connector answers with 429 or 502, and its default turn-error handler shows the exception
text to the user. Here:

- the turn pipeline gets local stand-ins for the connector and user-token clients (no
  token is fetched for a turn that only answers an invoke);
- ``send_activities`` keeps the invoke response for the HTTP answer, as the SDK does, and
  hands every other activity to :class:`~teams_app.delivery.sender.Sender` (allow-listed
  host, paced, retried, queued when the turn's time runs out);
- a turn error is logged once, without the exception text reaching anyone.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, ResourceResponse
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity, TurnContext

from teams_app import i18n
from teams_app.bot.identity import learner_key
from teams_app.delivery.sender import Outbound, Sender, SendStatus

logger = logging.getLogger(__name__)

DEADLINE_KEY = "aiready.reply_deadline"
ARRIVED_KEY = "aiready.arrived"
SENT_COUNT_KEY = "aiready.sent_count"
DEFAULT_REPLY_SECONDS = 10.0


class NoConnections:
    """The SDK's OAuth connection manager, for an app that uses none: AI Ready's own token
    source sends its messages, and the tabs sign in with their own validator."""

    def get_connection(self, connection_name: str) -> Any:
        raise LookupError("AI Ready uses no SDK OAuth connections")

    def get_default_connection(self) -> Any:
        raise LookupError("AI Ready uses no SDK OAuth connections")

    def get_token_provider(self, *_args: Any, **_kwargs: Any) -> Any:
        raise LookupError("AI Ready uses no SDK OAuth connections")

    def get_token_provider_from_activity(self, *_args: Any, **_kwargs: Any) -> Any:
        raise LookupError("AI Ready uses no SDK OAuth connections")

    def get_default_connection_configuration(self) -> Any:
        raise LookupError("AI Ready uses no SDK OAuth connections")


class _LocalClient:
    """Stands in for the SDK's per-turn REST clients: nothing to fetch, nothing to close."""

    async def close(self) -> None:
        return None


class _LocalClients:
    """A ``ChannelServiceClientFactoryBase`` that makes no network calls."""

    async def create_connector_client(self, *_args: Any, **_kwargs: Any) -> Any:
        return _LocalClient()

    async def create_user_token_client(self, *_args: Any, **_kwargs: Any) -> Any:
        return _LocalClient()


async def _log_turn_error(context: TurnContext, error: Exception) -> None:
    """Replaces the SDK's default, which sends the exception text to the user."""
    logger.error(
        "turn failed inside the SDK: %s (activity %s)",
        type(error).__name__,
        context.activity.id if context.activity else "?",
    )


def reply_deadline(context: TurnContext) -> float:
    """The ``time.monotonic()`` by which this turn's replies must be sent (or queued)."""
    value = context.turn_state.get(DEADLINE_KEY)
    return value if isinstance(value, float) else time.monotonic() + DEFAULT_REPLY_SECONDS


def outbound_for(context: TurnContext, activity: dict[str, Any]) -> Outbound:
    """An outgoing activity (already addressed) as a message for the sender."""
    inbound = context.activity
    sent = context.turn_state.get(SENT_COUNT_KEY)
    count = sent if isinstance(sent, int) else 0
    context.turn_state[SENT_COUNT_KEY] = count + 1
    key = learner_key(inbound)
    conversation = activity.get("conversation") or {}
    return Outbound(
        delivery_id=f"reply|{key.tenant_id}|{inbound.id or inbound.request_id}|{count}",
        tenant_id=key.tenant_id,
        user_id=key.user_id,
        service_url=str(activity.get("serviceUrl") or inbound.service_url or ""),
        conversation_id=str(conversation.get("id") or ""),
        activity=activity,
    )


class TeamsAdapter(CloudAdapter):
    """:class:`CloudAdapter` whose outbound path is the shared :class:`Sender`."""

    def __init__(self, sender: Sender) -> None:
        super().__init__(channel_service_client_factory=_LocalClients())
        self._sender = sender
        self.on_turn_error = _log_turn_error

    async def send_activities(  # type: ignore[override]  # the SDK's own signature
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        """Keep invoke responses for the HTTP answer; send everything else via the sender."""
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.invoke_response:
                context.turn_state[self.INVOKE_RESPONSE_KEY] = activity
                responses.append(ResourceResponse())
                continue
            if activity.type == ActivityTypes.trace:
                responses.append(ResourceResponse())
                continue
            body = activity.model_dump(by_alias=True, exclude_unset=True, mode="json")
            body.pop("id", None)
            sent = await self.send_reply(context, body)
            responses.append(ResourceResponse(id=sent) if sent else ResourceResponse())
        return responses

    async def send_reply(self, context: TurnContext, body: dict[str, Any]) -> str:
        """Send an addressed activity (JSON) through the sender within the turn's deadline;
        returns the new activity's id, or ``""`` when it was queued or not delivered."""
        result = await self._sender.send(
            outbound_for(context, body), deadline=reply_deadline(context)
        )
        if result.status not in (SendStatus.SENT, SendStatus.QUEUED):
            logger.warning("reply not delivered: %s", result.status.value)
        return result.activity_id or ""

    async def process_turn(
        self,
        identity: ClaimsIdentity,
        activity: Activity,
        logic: Any,
        *,
        arrived: float,
        reply_seconds: float,
    ) -> Any:
        """Run one turn: ``arrived`` is when the request came in (``time.monotonic()``), and
        replies must be sent or queued within ``reply_seconds`` of it. Returns the invoke
        response, if any."""

        async def with_deadline(context: TurnContext) -> None:
            # Cards and messages of this turn speak the language the client reports.
            i18n.activate(i18n.negotiate(activity.locale))
            context.turn_state[ARRIVED_KEY] = arrived
            context.turn_state[DEADLINE_KEY] = arrived + reply_seconds
            await logic(context)

        return await self.process_activity(identity, activity, with_deadline)
