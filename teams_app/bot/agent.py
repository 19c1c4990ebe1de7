"""The bot's activity handling: routes Teams activities to the learning use cases.

Card actions arrive as ``adaptiveCard/action`` invokes and are routed by their
``Action.Execute`` verb through :data:`ACTIONS`; the reply card replaces the clicked card
in place. Typed messages are matched as whole commands (``lesson <id>`` carries the id of a
shared lesson). The message extension's ``composeExtension/*`` invokes go to
:class:`~teams_app.extension.MessageExtension`; an invoke no route takes gets the SDK's 501.
Every handler of a learner's turn runs inside :meth:`AiReadyAgent._guarded`: one deadline per
turn, and the one place where failures become what a learner sees (:func:`friendly_error`).
Each failed turn is logged once, with the activity id and the request's correlation id;
tracebacks only for bugs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from microsoft_agents.activity import Activity as SdkActivity
from microsoft_agents.activity import (
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    InvokeResponse,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    ApplicationOptions,
    MemoryStorage,
    RouteRank,
    TurnContext,
    TurnState,
)

from teams_app import views
from teams_app.background import Background
from teams_app.bot.adapter import ARRIVED_KEY, NoConnections, TeamsAdapter
from teams_app.bot.commands import Command, lesson_argument, parse_command
from teams_app.bot.identity import is_personal, learner_key, local_date
from teams_app.cards import CardRenderer
from teams_app.engine.contacts import Contacts
from teams_app.extension import MessageExtension
from teams_app.i18n import _
from teams_app.learning import Commit, LearningService, Turn
from teams_app.logsafe import safe
from teams_app.storage.ports import StorageError
from teams_app.verbs import Verb
from teams_app.views import Reply

logger = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ACTION_INVOKE = "adaptiveCard/action"
# Teams gives a card action about five seconds, counted from when it sent the request.
INVOKE_BUDGET_SECONDS = 4.0
TURNS_AT_ONCE = 32
MESSAGE_BUDGET_SECONDS = 9.0
SEEN_EVERY_SECONDS = 600.0  # how often a turn refreshes the learner's contact, at most
MAX_SEEN = 50_000

ActionHandler = Callable[[LearningService, Turn, Mapping[str, Any]], Awaitable[Reply]]


class TurnMetrics(Protocol):
    """Where failed turns are counted (OpenTelemetry in the server)."""

    def turn_failed(self, kind: str, error: str) -> None:
        """Count a turn that became an error card."""
        ...


class _NoMetrics:
    def turn_failed(self, kind: str, error: str) -> None:
        return None


async def _reset(_service: LearningService, _turn: Turn, _data: Mapping[str, Any]) -> Reply:
    return views.reset_confirm()


async def _cancel_reset(_service: LearningService, _turn: Turn, _data: Mapping[str, Any]) -> Reply:
    return views.notice(
        _("Nothing changed"),
        _("Your progress is just as you left it."),
        action=(_("Continue"), Verb.CONTINUE.value),
    )


async def _delete_confirm() -> Reply:
    return Reply("delete_confirm", {})


async def _help(_service: LearningService, _turn: Turn, _data: Mapping[str, Any]) -> Reply:
    return views.help_card()


ACTIONS: dict[Verb, ActionHandler] = {
    Verb.CHOOSE_ROLE: lambda s, t, d: s.choose_role(t, d),
    Verb.SHOW_ROLE: lambda s, t, d: s.show_role(t),
    Verb.START_ASSESSMENT: lambda s, t, d: s.start_assessment(t, d),
    Verb.ANSWER: lambda s, t, d: s.answer(t, d),
    Verb.CONTINUE: lambda s, t, d: s.continue_(t),
    Verb.SHOW_RESULTS: lambda s, t, d: s.show_results(t, d),
    Verb.START_LESSON: lambda s, t, d: s.start_lesson(t, d),
    Verb.START_QUIZ: lambda s, t, d: s.start_quiz(t, d),
    Verb.SHOW_PROGRESS: lambda s, t, d: s.progress(t),
    Verb.SHOW_HELP: _help,
    Verb.RESET: _reset,
    Verb.CONFIRM_RESET: lambda s, t, d: s.confirm_reset(t),
    Verb.CANCEL_RESET: _cancel_reset,
    Verb.DELETE_MY_DATA: lambda s, t, d: _delete_confirm(),
    Verb.CONFIRM_DELETE_DATA: lambda s, t, d: s.delete_my_data(t),
    Verb.SUBMIT_PULSE: lambda s, t, d: s.submit_pulse(t, d),
    Verb.START_REVIEW: lambda s, t, d: s.start_review(t, d),
    Verb.SHOW_CHALLENGE: lambda s, t, d: s.show_challenge(t),
    Verb.COMPLETE_CHALLENGE: lambda s, t, d: s.finish_challenge(t, d, done=True),
    Verb.SKIP_CHALLENGE: lambda s, t, d: s.finish_challenge(t, d, done=False),
    Verb.SHOW_SETTINGS: lambda s, t, d: s.show_settings(t),
    Verb.SAVE_SETTINGS: lambda s, t, d: s.save_settings(t, d),
    Verb.PAUSE_REMINDERS: lambda s, t, d: s.pause(t),
    Verb.RESUME_REMINDERS: lambda s, t, d: s.resume(t),
}

COMMANDS: dict[Command, Callable[[LearningService, Turn], Awaitable[Reply]]] = {
    Command.START: lambda s, t: s.continue_(t),
    Command.NEXT: lambda s, t: s.start_lesson(t, {}),
    Command.PROGRESS: lambda s, t: s.progress(t),
    Command.ROLE: lambda s, t: s.show_role(t),
    Command.MY_DATA: lambda s, t: s.my_data(t),
    Command.PULSE: lambda s, t: s.pulse(t),
    Command.DELETE_MY_DATA: lambda s, t: _delete_confirm(),
    Command.REVIEW: lambda s, t: s.start_review(t, {}),
    Command.CHALLENGE: lambda s, t: s.show_challenge(t),
    Command.SETTINGS: lambda s, t: s.show_settings(t),
    Command.PAUSE: lambda s, t: s.pause(t),
    Command.STOP: lambda s, t: s.pause(t, stop=True),
    Command.RESUME: lambda s, t: s.resume(t),
}


def friendly_error(err: BaseException, commit: Commit) -> Reply:
    """The one place where failures become what a user sees. It says what is true: whether
    the change was saved depends on how far the turn's write got."""
    if isinstance(err, StorageError | TimeoutError):
        if commit is Commit.DONE:
            text = _(
                "That's saved, but finishing up is taking longer than usual. "
                "Tap Continue in a moment."
            )
        elif commit is Commit.WRITING:
            text = _(
                "I couldn't confirm that was saved: storage is slow just now. "
                "Tap Try again in a minute; if it went through, you'll see where you are."
            )
        else:
            text = _(
                "I couldn't reach my storage just now, so nothing was saved. "
                "Your progress so far is safe."
            )
        return views.notice(
            _("Please try again in a minute"),
            text,
            heading=_("Temporary problem"),
            action=(
                _("Continue") if commit is Commit.DONE else _("Try again"),
                Verb.CONTINUE.value,
            ),
        )
    return views.notice(
        _("Something went wrong on my side"),
        _("Sorry, that didn't work. Your progress so far is safe. Please try again."),
        heading=_("Sorry"),
        action=(_("Try again"), Verb.CONTINUE.value),
    )


def reply_activity(inbound: SdkActivity, card: dict[str, Any]) -> dict[str, Any]:
    """A message carrying ``card``, addressed back to the conversation ``inbound`` came from."""
    sender = inbound.from_property
    recipient = inbound.recipient
    conversation = inbound.conversation
    return {
        "type": "message",
        "channelId": inbound.channel_id or "msteams",
        "serviceUrl": inbound.service_url,
        "from": {"id": recipient.id, "name": recipient.name or ""} if recipient else {},
        "recipient": {"id": sender.id, "name": sender.name or ""} if sender else {},
        "conversation": conversation.model_dump(by_alias=True, exclude_none=True, mode="json")
        if conversation
        else {},
        "replyToId": inbound.id,
        "inputHint": "acceptingInput",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }


class AiReadyAgent:
    """Builds the SDK application and holds what its handlers need."""

    def __init__(
        self,
        service: LearningService,
        renderer: CardRenderer,
        contacts: Contacts,
        *,
        extension: MessageExtension,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: TurnMetrics | None = None,
        background: Background | None = None,
    ) -> None:
        self._service = service
        self._renderer = renderer
        self._contacts = contacts
        self._extension = extension
        self._clock = clock
        self._metrics = metrics or _NoMetrics()
        self._background = background or Background()
        # Turns doing their storage work at once; the others wait their turn, first come
        # first served (see _guarded).
        self._admission = asyncio.Semaphore(TURNS_AT_ONCE)
        self._seen: dict[tuple[str, str, str, str], float] = {}  # learner, zone, locale

    def build(self) -> AgentApplication[TurnState]:
        """An :class:`AgentApplication` with every route registered."""
        app = AgentApplication[TurnState](
            ApplicationOptions(
                storage=MemoryStorage(),
                start_typing_timer=False,
                # Learner state lives in our own tables; the SDK's turn state stays empty.
                turn_state_factory=TurnState,
            ),
            connection_manager=NoConnections(),
        )
        for verb in Verb:
            app.adaptive_card.action_execute(verb.value)(self._action(verb))
        app.add_route(_any_card_action, self._unknown_action, is_invoke=True, rank=RouteRank.LAST)
        app.add_route(self._is_compose_extension, self._compose_extension, is_invoke=True)
        app.conversation_update("membersAdded")(self._members_added)
        app.activity(ActivityTypes.installation_update)(self._installation_update)
        app.activity(ActivityTypes.message)(self._message)
        app.error(self._on_error)
        return app

    def _turn(self, context: TurnContext, budget: float) -> Turn:
        now = self._clock()
        activity = context.activity
        arrived = context.turn_state.get(ARRIVED_KEY)
        start = arrived if isinstance(arrived, float) else time.monotonic()
        return Turn(
            key=learner_key(activity),
            now=now,
            today=local_date(activity, now),
            action_id=activity.id or "",
            deadline=start + budget,
        )

    def card(self, reply: Reply) -> dict[str, Any]:
        """Render a reply's card."""
        return self._renderer.render(reply.card, reply.data)

    def _note_seen(self, context: TurnContext, turn: Turn) -> None:
        """The learner wrote or clicked: they're reachable here, in this zone. Recorded in
        the background, at most every few minutes per learner and process."""
        activity = context.activity
        zone = activity.local_timezone or ""
        marker = (turn.key.tenant_id, turn.key.user_id, zone, activity.locale or "")
        now = time.monotonic()
        if now - self._seen.get(marker, -SEEN_EVERY_SECONDS) < SEEN_EVERY_SECONDS:
            return
        if len(self._seen) > MAX_SEEN:
            self._seen.clear()
        self._seen[marker] = now
        self._background.run(
            self._contacts.seen(turn.key, _reference(activity), zone), name="contact seen"
        )

    async def _guarded(
        self, context: TurnContext, turn: Turn, work: Callable[[], Awaitable[Reply]]
    ) -> Reply:
        """Run ``work`` within the turn's deadline; map any failure to a friendly card.
        At most :data:`TURNS_AT_ONCE` turns work at once: in a burst (an org-wide install),
        the first turns finish in a few round trips and the later ones wait, rather than
        every turn's storage calls queueing behind everyone's and all finishing late."""
        remaining = (turn.deadline or time.monotonic()) - time.monotonic()
        try:
            async with asyncio.timeout(max(0.0, remaining)), self._admission:
                return await work()
        except Exception as err:  # the one place turn failures are mapped and logged
            expected = isinstance(err, StorageError | TimeoutError)
            logger.log(
                logging.WARNING if expected else logging.ERROR,
                "turn failed: %s (activity %s, commit %s)",
                type(err).__name__,
                safe(context.activity.id),
                turn.progress.commit.value,
                exc_info=None if expected else err,
            )
            self._metrics.turn_failed(str(context.activity.type), type(err).__name__)
            return friendly_error(err, turn.progress.commit)

    async def _send_card(self, context: TurnContext, reply: Reply) -> None:
        adapter = context.adapter
        assert isinstance(adapter, TeamsAdapter)
        await adapter.send_reply(context, reply_activity(context.activity, self.card(reply)))

    def _card_response(self, reply: Reply) -> AdaptiveCardInvokeResponse:
        # Teams documents ``value`` as the card object (not a JSON string).
        return AdaptiveCardInvokeResponse(
            status_code=200, type=CARD_CONTENT_TYPE, value=self.card(reply)
        )

    async def _invoke_card(self, context: TurnContext, reply: Reply) -> None:
        body = self._card_response(reply)
        await context.send_activity(
            SdkActivity(
                type=ActivityTypes.invoke_response,
                value=InvokeResponse(
                    status=200, body=body.model_dump(mode="json", by_alias=True, exclude_none=True)
                ),
            )
        )

    def _action(
        self, verb: Verb
    ) -> Callable[[TurnContext, TurnState, Any], Awaitable[AdaptiveCardInvokeResponse]]:
        handler = ACTIONS[verb]

        async def on_action(
            context: TurnContext, _state: TurnState, data: Any
        ) -> AdaptiveCardInvokeResponse:
            values = data if isinstance(data, dict) else {}
            turn = self._turn(context, INVOKE_BUDGET_SECONDS)
            if is_personal(context.activity):
                self._note_seen(context, turn)
            reply = await self._guarded(context, turn, lambda: handler(self._service, turn, values))
            return self._card_response(reply)

        on_action.__name__ = f"on_{verb.value}"
        return on_action

    async def _unknown_action(self, context: TurnContext, _state: TurnState) -> None:
        logger.info("card action with an unknown or malformed verb")
        await self._invoke_card(
            context,
            views.notice(
                _("That button no longer works"),
                _("This card is from an older version of AI Ready. Here's how to carry on."),
                action=(_("Continue"), Verb.CONTINUE.value),
            ),
        )

    def _is_compose_extension(self, context: TurnContext) -> bool:
        activity = context.activity
        return activity.type == ActivityTypes.invoke and self._extension.selects(
            activity.name, activity.value
        )

    async def _compose_extension(self, context: TurnContext, _state: TurnState) -> None:
        """Search, pick, unfurl or share a lesson: answered from memory, well within Teams'
        five seconds."""
        activity = context.activity
        body = self._extension.answer(
            activity.name,
            activity.value,
            now=self._clock(),
            recipient=activity.recipient.id if activity.recipient else "",
        )
        await context.send_activity(
            SdkActivity(
                type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
            )
        )

    async def _members_added(self, context: TurnContext, _state: TurnState) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = activity.members_added or []
        if not any(m.id == bot_id for m in added) and not is_personal(activity):
            return
        if not is_personal(activity):
            await self._send_card(
                context,
                views.notice(
                    _("AI Ready is here"),
                    _(
                        "Lessons and quizzes happen in a private 1:1 chat with me: open my chat "
                        "from the Apps list and type **start**. Team leaders will see group "
                        "figures only, never anyone's answers."
                    ),
                    heading=_("Hello, team"),
                ),
            )
            return
        turn = self._turn(context, MESSAGE_BUDGET_SECONDS)
        name = (activity.from_property.name if activity.from_property else "") or ""
        # The contact is recorded in a task of its own, which carries on if the turn runs
        # out of time (storage slowed by an install burst): the learner is welcomed anyway.
        recording: asyncio.Task[bool] | None = None

        def record() -> asyncio.Task[bool]:
            return self._background.run(
                self._contacts.installed(
                    turn.key,
                    _reference(activity),
                    activity.id or "",
                    activity.local_timezone or "",
                    welcome=True,
                ),
                name="install record",
            )

        async def welcome() -> Reply:
            nonlocal recording
            recording = record()
            reply, _ = await asyncio.gather(
                self._service.welcome(turn, name), asyncio.shield(recording)
            )
            return reply

        reply = await self._guarded(context, turn, welcome)
        if recording is None:  # the turn's time ran out before its turn came
            recording = record()
        if _outcome(recording) is False:  # None: not known in time
            return  # a redelivered install is welcomed once
        if reply.card != "welcome":
            reply = await self._service.welcome(turn, name, read=False)
        await self._send_card(context, reply)

    async def _installation_update(self, context: TurnContext, _state: TurnState) -> None:
        activity = context.activity
        if not is_personal(activity):
            return
        turn = self._turn(context, MESSAGE_BUDGET_SECONDS)
        if activity.action in ("remove", "remove-upgrade"):
            await self._guarded(context, turn, lambda: self._gone(turn))
            return
        if activity.action not in ("add", "add-upgrade"):
            return

        async def remember() -> Reply:
            await self._contacts.installed(
                turn.key,
                _reference(activity),
                activity.id or "",
                activity.local_timezone or "",
                welcome=False,
            )
            return views.help_card()

        await self._guarded(context, turn, remember)

    async def _gone(self, turn: Turn) -> Reply:
        """The app was removed from the learner's chat: nothing more goes there."""
        await self._contacts.unreachable(turn.key)
        return views.help_card()

    async def _message(self, context: TurnContext, _state: TurnState) -> None:
        activity = context.activity
        if not is_personal(activity):
            await self._send_card(
                context,
                views.notice(
                    _("Let's talk in private"),
                    _(
                        "Lessons and quizzes are personal, so they happen in your 1:1 chat with "
                        "me. Open my chat from the Apps list and type **start**."
                    ),
                    heading=_("AI Ready"),
                ),
            )
            return
        command = parse_command(activity.text)
        turn = self._turn(context, MESSAGE_BUDGET_SECONDS)
        self._note_seen(context, turn)

        async def answer() -> Reply:
            if command is Command.RESET:
                return views.reset_confirm()
            if command is Command.HELP:
                return views.help_card()
            if command is Command.GREETING:
                return views.help_card(_("Hi! I'm AI Ready, your AI skills coach."))
            if command is Command.UNKNOWN:
                return views.help_card(_("I didn't catch that. I understand a few short commands:"))
            if command is Command.LESSON:
                lesson_id = lesson_argument(activity.text)
                return await self._extension.open_lesson(self._service, turn, lesson_id)
            return await COMMANDS[command](self._service, turn)

        await self._send_card(context, await self._guarded(context, turn, answer))

    async def _on_error(self, context: TurnContext, err: Exception) -> None:
        """Failures our handlers did not map (inside the SDK's routing): one log record and,
        for an invoke, a friendly card; a message turn sends nothing more."""
        logger.error(
            "turn failed in routing: %s (activity %s)",
            type(err).__name__,
            safe(context.activity.id),
            exc_info=err,
        )
        if context.activity.type == ActivityTypes.invoke:
            try:
                await self._invoke_card(context, friendly_error(err, Commit.NONE))
            except Exception:  # the error path must not raise
                logger.exception("could not answer the failed invoke")


def _reference(activity: SdkActivity) -> dict[str, Any]:
    reference: dict[str, Any] = activity.get_conversation_reference().model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return reference


def _any_card_action(context: TurnContext) -> bool:
    activity = context.activity
    return activity.type == ActivityTypes.invoke and activity.name == ACTION_INVOKE


def _outcome(task: asyncio.Task[bool]) -> bool | None:
    """A finished task's result; ``None`` if it is still running or failed."""
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()
