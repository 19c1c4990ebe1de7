"""The learner's use cases: role, skills check, lessons, progress, reset.

Each use case reads the learner's state, applies a pure rule from
:mod:`teams_app.domain.learner`, writes with the ETag it read (retrying from the read on a
conflict) and returns the :class:`~teams_app.views.Reply` to show. Stale or replayed card
actions are answered from what is stored, never applied twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from fsrs import Scheduler

from teams_app import i18n, views
from teams_app.background import Background
from teams_app.domain.assignment import Assignment, for_learner
from teams_app.domain.content import (
    ROLE_LABELS,
    Curriculum,
    Question,
    QuestionType,
    Role,
    SkillId,
    option_index,
)
from teams_app.domain.learner import (
    ISO_WEEK,
    MAX_PULSE_MINUTES,
    Activity,
    ActivityKind,
    AnswerResult,
    ChallengeRecord,
    LearnerState,
    Pulse,
    Stage,
    answered,
    begin_quiz,
    choose_role,
    handled_by,
    iso_week,
    next_lesson,
    record_answer,
    record_challenge,
    record_pulse,
    start_assessment,
    start_lesson,
    start_review,
    weekly_challenge,
)
from teams_app.domain.placement import question_range
from teams_app.domain.review import (
    ReviewItem,
    item_id,
    new_item,
    pick_session,
    scheduler,
    split_item,
)
from teams_app.domain.review import answered as rated
from teams_app.domain.schedule import WORK_ENDS, WORK_STARTS, Cadence, Preferences, valid_zone
from teams_app.domain.scoring import Confidence
from teams_app.engine.contacts import Contacts
from teams_app.i18n import _, format_hour, ngettext
from teams_app.storage.ports import (
    AttemptRecord,
    ConcurrentUpdate,
    LearnerKey,
    LearnerStore,
    StorageUnavailable,
    StoredProfile,
)
from teams_app.views import Reply

logger = logging.getLogger(__name__)

MAX_WRITE_TRIES = 5
Button = tuple[str, str, dict[str, Any]]  # a card action: title, verb, data
MAX_FIELD_CHARS = 200


class Commit(StrEnum):
    """How far a turn's write got: what the learner may be told after a timeout."""

    NONE = "none"  # nothing was written
    WRITING = "writing"  # a write went out; whether it landed is unknown
    DONE = "done"  # the commit point passed


@dataclass(slots=True)
class Progress:
    """Mutable record of a turn's commit state, read by the error mapping."""

    commit: Commit = Commit.NONE


@dataclass(frozen=True, slots=True)
class Turn:
    """Who is acting, and when (the learner's local date decides the streak week).

    ``action_id`` is the inbound activity's id: Teams redelivers an action with the same id,
    so a state change records it and a redelivery changes nothing. ``deadline`` is the
    ``time.monotonic()`` by which the answer is due; work after the commit point that is
    still running then carries on in the background.
    """

    key: LearnerKey
    now: datetime
    today: date
    action_id: str = ""
    deadline: float | None = None
    progress: Progress = field(default_factory=Progress)


class _Unread:
    """Marks "the caller has not read the profile"."""


UNREAD = _Unread()


def _valid_response(question: Question, response: str) -> bool:
    """Whether ``response`` can be scored: a real option of a single-answer question, or
    some text for a short answer. Anything else is refused, not scored as wrong."""
    if question.type is QuestionType.SHORT:
        return bool(response)
    return option_index(response, len(question.options)) is not None


def _field(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


class LearningService:
    """The use cases behind every card and command."""

    def __init__(
        self,
        store: LearnerStore,
        curriculum: Curriculum,
        *,
        min_group: int,
        new_attempt: Callable[[], str] = lambda: secrets.token_hex(6),
        on_delete: Callable[[LearnerKey], Awaitable[None]] | None = None,
        on_change: Callable[[LearnerKey, LearnerState], Awaitable[None]] | None = None,
        background: Background | None = None,
        contacts: Contacts,
        fsrs: Scheduler | None = None,
        assignments: Callable[[LearnerKey], Awaitable[list[Assignment]]] | None = None,
    ) -> None:
        self._store = store
        self._assignments = assignments or _no_assignments
        self._curricula = curriculum
        self._min_group = min_group
        self._contacts = contacts
        self._fsrs = fsrs or scheduler()
        self._new_attempt = new_attempt
        self._on_delete = on_delete or _nothing
        self._on_change = on_change or _unchanged
        self._background = background or Background()

    @property
    def _curriculum(self) -> Curriculum:
        """The curriculum in the current reader's language."""
        return self._curricula.in_language(i18n.current().code)

    @property
    def assessment_size(self) -> tuple[int, int]:
        """The fewest and the most questions the skills check asks."""
        return question_range()

    async def _state(self, key: LearnerKey) -> LearnerState:
        stored = await self._store.get_profile(key)
        return stored.state if stored else LearnerState()

    async def _save(self, turn: Turn, state: LearnerState, etag: str | None) -> None:
        """The commit point: write the profile, recording how far the write got."""
        turn.progress.commit = Commit.WRITING
        state = replace(state, last_active=turn.now)
        try:
            await self._store.save_profile(turn.key, state, etag)
        except ConcurrentUpdate:
            turn.progress.commit = Commit.NONE  # refused: nothing changed
            raise
        turn.progress.commit = Commit.DONE

    async def _change(
        self,
        turn: Turn,
        change: Callable[[LearnerState], LearnerState],
        read: StoredProfile | _Unread | None = UNREAD,
    ) -> tuple[LearnerState, LearnerState]:
        """Apply ``change`` with optimistic concurrency, re-reading on conflict. The change
        is recorded as handled by the turn's action, so a redelivery of it is a no-op.
        ``read`` is the profile the caller already read (its ETag guards the write).

        Returns the state before and after the change.
        """
        for _try in range(MAX_WRITE_TRIES):
            if isinstance(read, _Unread):
                stored = await self._store.get_profile(turn.key)
            else:
                stored, read = read, UNREAD  # used once: a conflict reads afresh
            state = stored.state if stored else LearnerState()
            if state.was_handled(turn.action_id):
                return state, state
            new_state = change(state)
            if stored is not None and new_state == state:
                return state, state
            new_state = handled_by(new_state, turn.action_id)
            try:
                await self._save(turn, new_state, stored.etag if stored else None)
            except ConcurrentUpdate:
                continue
            return state, new_state
        raise StorageUnavailable("profile kept changing under us")

    async def _after_commit(self, turn: Turn, name: str, *work: Awaitable[Any]) -> None:
        """Run what follows a commit (history, team figures) so that it finishes even if the
        reply deadline passes; wait for it only while the deadline allows."""
        if not work:
            return

        async def all_of() -> None:
            for step in work:
                await step

        task = self._background.run(all_of(), name=name)
        remaining = None if turn.deadline is None else max(0.0, turn.deadline - time.monotonic())
        await asyncio.wait({task}, timeout=remaining)

    def _archive(
        self, turn: Turn, *activities: tuple[Activity | None, bool]
    ) -> list[Awaitable[Any]]:
        """History writes for ended activities (each a no-op when repeated)."""
        return [
            self._store.add_attempt(
                turn.key, AttemptRecord(activity=activity, finished=finished, ended_at=turn.now)
            )
            for activity, finished in activities
            if activity is not None and activity.results
        ]

    async def _replace_activity(
        self,
        turn: Turn,
        change: Callable[[LearnerState], LearnerState],
        read: StoredProfile | None,
    ) -> LearnerState:
        """Start a new activity; an abandoned one with answers goes to the history."""
        before, after = await self._change(turn, change, read)
        work: list[Awaitable[Any]] = []
        abandoned = before.activity
        if abandoned is not None and after.activity is not abandoned:
            work += self._archive(turn, (abandoned, False))
        if before.activity is None and not before.completed:  # first start counts as started
            work.append(self._on_change(turn.key, after))
        await self._after_commit(turn, "history and team figures", *work)
        return after

    # --- welcome and role ---------------------------------------------------------------

    async def welcome(self, turn: Turn, name: str, *, read: bool = True) -> Reply:
        """The install greeting (with the current role preselected on a reinstall). Without
        ``read`` (storage didn't answer in time), as for a new learner."""
        state = await self._state(turn.key) if read else LearnerState()
        return views.welcome(name, state, self.assessment_size, self._min_group)

    async def show_role(self, turn: Turn) -> Reply:
        """The role picker."""
        return views.role_picker(await self._state(turn.key))

    async def choose_role(self, turn: Turn, data: Mapping[str, Any]) -> Reply:
        """Save the role, then offer the skills check or carry on."""
        try:
            role = Role(_field(data, "role"))
        except ValueError:
            return views.notice(
                _("Choose a role"),
                _("Pick the role closest to your work from the list."),
                action=(_("Choose my role"), "show_role"),
            )
        _changed, state = await self._change(turn, lambda s: choose_role(s, role))
        await self._after_commit(turn, "team figures", self._on_change(turn.key, state))
        if not state.assessed and state.activity is None and not state.completed:
            return views.assessment_intro(role, self.assessment_size)
        track = next(
            (t for t in self._curriculum.tracks_for(role) if Role.EVERYONE not in t.roles), None
        )
        role_label = _(ROLE_LABELS[role])
        text = (
            _(
                "You're set up as {role}. Your path now includes the {track} track. "
                "Your progress is kept.",
                role=role_label,
                track=track.title,
            )
            if track
            else _("You're set up as {role}. Your progress is kept.", role=role_label)
        )
        return views.notice(
            _("Role saved"),
            text,
            heading=_("Your role"),
            action=(_("Continue"), "continue"),
        )

    # --- assessment and lessons ----------------------------------------------------------

    async def start_assessment(self, turn: Turn, data: Mapping[str, Any] | None = None) -> Reply:
        """Begin a fresh skills check; ask first when work in progress would be lost."""
        stored = await self._store.get_profile(turn.key)
        state = stored.state if stored else LearnerState()
        if state.was_handled(turn.action_id):
            return self._current(state)  # a redelivery of the click that started it
        again = state.activity is not None and state.activity.kind is ActivityKind.ASSESSMENT
        leave: Button = (
            _("Start over") if again else _("Leave it, take the skills check"),
            "start_assessment",
            {},
        )
        if not (data or {}).get("restart") and (ask := self._ask_before_replacing(state, leave)):
            return ask
        attempt = self._new_attempt()
        state = await self._replace_activity(
            turn, lambda s: start_assessment(s, self._curriculum, attempt), stored
        )
        return self._current(state)

    def _ask_before_replacing(self, state: LearnerState, instead: Button) -> Reply | None:
        """A "carry on or leave it?" card when starting something new would abandon answers
        already given; ``None`` when nothing would be lost. ``instead`` is the button that
        does what was asked, ``(title, verb, data)``: it is sent with ``restart``."""
        current = state.activity
        if current is None or not current.results:
            return None
        done, total = len(current.results), len(current.question_ids)
        if current.kind is ActivityKind.ASSESSMENT:
            where = ngettext(
                "You're {n} question into the skills check",
                "You're {n} questions into the skills check",
                done,
            )
        elif current.kind is ActivityKind.REVIEW:
            where = _("You're {done} of {total} through a review", done=done, total=total)
        else:
            lesson = self._curriculum.lesson(current.lesson_id or "")
            where = (
                _(
                    "You're {done} of {total} through “{lesson}”",
                    done=done,
                    total=total,
                    lesson=lesson.title,
                )
                if lesson
                else _("You're {done} of {total} through a lesson", done=done, total=total)
            )
        title, verb, data = instead
        return views.notice(
            where,
            _(
                "Carry on where you left off, or leave it: the answers you've given so far "
                "stay in your history, unfinished."
            ),
            heading=_("Work in progress"),
            action=(_("Carry on"), "continue"),
            second=(title, verb, {**data, "restart": True}),
        )

    async def start_lesson(self, turn: Turn, data: Mapping[str, Any]) -> Reply:
        """Open the requested lesson, resume the one in progress, or start the next one."""
        wanted = self._curriculum.lesson(_field(data, "lesson"))
        stored = await self._store.get_profile(turn.key)
        state = stored.state if stored else LearnerState()
        current = state.activity
        if state.was_handled(turn.action_id) or (
            current is not None
            and current.kind is ActivityKind.LESSON
            and (wanted is None or wanted.id == current.lesson_id)
        ):
            return self._current(state)  # resume the lesson in progress
        leave: Button = (
            _("Leave it, go to the lesson"),
            "start_lesson",
            {"lesson": wanted.id} if wanted else {},
        )
        if not data.get("restart") and (ask := self._ask_before_replacing(state, leave)):
            return ask
        lesson = wanted or next_lesson(state, self._curriculum)
        if lesson is None:
            return views.notice(
                _("You've finished your path"),
                _(
                    "Every lesson on your path is done. Keep it fresh with a review, try this "
                    "week's challenge, or pick another role to explore its track."
                ),
                heading=_("All done"),
                action=(_("Review what I've learned"), "start_review"),
                second=(_("This week's challenge"), "show_challenge", {}),
            )
        attempt = self._new_attempt()
        chosen = lesson
        state = await self._replace_activity(
            turn, lambda s: start_lesson(s, chosen, attempt), stored
        )
        return self._current(state)

    async def start_quiz(self, turn: Turn, data: Mapping[str, Any]) -> Reply:
        """Move from a lesson's reading to its questions."""
        attempt = _field(data, "attempt")

        def change(state: LearnerState) -> LearnerState:
            activity = state.activity
            if activity is None or activity.attempt != attempt:
                return state
            return begin_quiz(state)

        return self._current((await self._change(turn, change))[1])

    async def continue_(self, turn: Turn) -> Reply:
        """Whatever comes next: the current step, or the next thing to do."""
        state = await self._state(turn.key)
        if state.activity is not None:
            return self._current(state)
        if state.role is None:
            return views.role_picker(state)
        if not state.assessed and state.assessments_taken == 0 and not state.completed:
            return views.assessment_intro(state.role, self.assessment_size)
        return await self.start_lesson(turn, {})

    def _current(self, state: LearnerState) -> Reply:
        """The card for the step the learner is on."""
        activity = state.activity
        if activity is None:
            return views.help_card()
        if activity.kind is ActivityKind.LESSON and activity.stage is Stage.READING:
            lesson = self._curriculum.lesson(activity.lesson_id or "")
            if lesson is not None:
                return views.lesson_card(self._curriculum, lesson, activity.attempt)
        found = self._question(activity.kind, activity.lesson_id, activity.current_question_id)
        if found is None:
            return views.notice(
                _("This lesson has changed"),
                _("The content was updated since you started. Let's pick up with your next step."),
                action=(_("Continue"), "start_lesson"),
            )
        question, skill = found
        return views.question_card(
            self._curriculum, activity, question, self._curriculum.skill_name(skill)
        )

    def _question(
        self, kind: ActivityKind, lesson_id: str | None, question_id: str | None
    ) -> tuple[Question, SkillId] | None:
        if question_id is None:
            return None
        if kind is ActivityKind.ASSESSMENT:
            item = self._curriculum.item(question_id)
            return (item.question, item.skill) if item else None
        if kind is ActivityKind.REVIEW:
            lesson_id, question_id = split_item(question_id)
            lesson = self._curriculum.lesson(lesson_id)
            question = lesson.question(question_id) if lesson else None
        else:
            lesson = self._curriculum.lesson(lesson_id or "")
            question = (
                next((q for q in lesson.questions if q.id == question_id), None) if lesson else None
            )
        return (question, lesson.skill) if question and lesson else None

    async def answer(self, turn: Turn, data: Mapping[str, Any]) -> Reply:
        """Score an answer once, however often it is delivered, and give feedback."""
        kind_text, attempt = _field(data, "kind"), _field(data, "attempt")
        question_id = _field(data, "question")
        response, confidence_text = _field(data, "answer").strip(), _field(data, "confidence")
        try:
            kind = ActivityKind(kind_text)
        except ValueError:
            return self._stale()
        for _try in range(MAX_WRITE_TRIES):
            stored = await self._store.get_profile(turn.key)
            if stored is None:
                return self._stale()
            activity = stored.state.activity
            if (
                activity is None
                or activity.kind is not kind
                or activity.attempt != attempt
                or activity.current_question_id != question_id
            ):
                return await self._replay(turn, stored.state, kind, attempt, question_id)
            found = self._question(kind, activity.lesson_id, question_id)
            if found is None:
                return self._current(stored.state)
            question, skill = found
            try:
                confidence = Confidence(confidence_text)
            except ValueError:
                return self._ask_again(stored.state, question, skill)
            if not _valid_response(question, response):
                return self._ask_again(stored.state, question, skill)
            new_state, result = record_answer(
                stored.state, question, skill, response, confidence, turn.today, self._curriculum
            )
            try:
                await self._save(turn, new_state, stored.etag)
            except ConcurrentUpdate:
                continue  # someone else wrote first: re-read; a duplicate becomes a replay
            scored = new_state.activity or new_state.last_activity
            assert scored is not None
            work: list[Awaitable[Any]] = [self._remember_for_review(turn, scored, result)]
            if new_state.activity is None:  # finished: history, and a retry of the last one
                work += [
                    *self._archive(turn, (scored, True), (stored.state.last_activity, True)),
                    self._on_change(turn.key, new_state),
                ]
            await self._after_commit(turn, "spaced review, history and team figures", *work)
            return views.feedback_card(
                self._curriculum, scored, question, result, self._curriculum.skill_name(skill)
            )
        raise StorageUnavailable("answer kept conflicting")

    def _ask_again(self, state: LearnerState, question: Question, skill: SkillId) -> Reply:
        assert state.activity is not None
        return views.question_card(
            self._curriculum,
            state.activity,
            question,
            self._curriculum.skill_name(skill),
            notice=_("Pick an answer and say how sure you are, then submit."),
        )

    def _stale(self) -> Reply:
        return views.notice(
            _("This card is out of date"),
            _("Things have moved on since this card was sent. Here's how to carry on."),
            action=(_("Continue"), "continue"),
        )

    async def _replay(
        self,
        turn: Turn,
        state: LearnerState,
        kind: ActivityKind,
        attempt: str,
        question_id: str,
    ) -> Reply:
        """A card action for a question that is not current: show its stored result, if any."""
        result = answered(state, attempt, question_id)
        activity = next(
            (a for a in (state.activity, state.last_activity) if a and a.attempt == attempt),
            None,
        )
        if result is None or activity is None or activity.kind is not kind:
            return self._stale()
        found = self._question(kind, activity.lesson_id, question_id)
        if found is None:
            return self._stale()
        repairs: list[Awaitable[Any]] = [self._remember_for_review(turn, activity, result)]
        if activity is state.last_activity:  # its history row may be missing after a failure
            repairs += self._archive(turn, (activity, True))
        await self._after_commit(turn, "repair after a replay", *repairs)
        question, skill = found
        return views.feedback_card(
            self._curriculum, activity, question, result, self._curriculum.skill_name(skill)
        )

    async def show_results(self, turn: Turn, data: Mapping[str, Any]) -> Reply:
        """The skills profile or lesson summary for a finished attempt."""
        attempt = _field(data, "attempt")
        state = await self._state(turn.key)
        if state.activity is not None and state.activity.attempt == attempt:
            return self._current(state)
        last = state.last_activity
        results = last.results if last is not None and last.attempt == attempt else ()
        if _field(data, "kind") == ActivityKind.REVIEW.value:
            if last is None or last.attempt != attempt or last.kind is not ActivityKind.REVIEW:
                return await self.continue_(turn)
            items = {i.item: i for i in await self._store.review_items(turn.key)}
            due = {
                r.question_id: self._local_day(turn, items[r.question_id].due)
                for r in last.results
                if r.question_id in items
            }
            return views.review_summary(self._curriculum, last, due, turn.today)
        if _field(data, "kind") == ActivityKind.ASSESSMENT.value and state.assessed:
            reply = views.assessment_result(self._curriculum, state)
            reply.data["calibration"] = views.calibration_hint(results, state)
            return reply
        record = next((r for r in state.completed.values() if r.attempt == attempt), None)
        if record is None:
            return await self.continue_(turn)
        return views.lesson_summary(
            self._curriculum,
            state,
            record,
            results,
            next_lesson(state, self._curriculum),
            turn.today,
        )

    async def progress(self, turn: Turn) -> Reply:
        """The progress overview."""
        state = await self._state(turn.key)
        assigned = for_learner(await self._assignments(turn.key), state, self._curriculum)
        return views.progress(
            self._curriculum, state, next_lesson(state, self._curriculum), turn.today, assigned
        )

    # --- spaced review -------------------------------------------------------------------

    def _local_day(self, turn: Turn, at: datetime) -> date:
        """The learner's local date of a UTC instant (from the turn's own date and time)."""
        return turn.today + timedelta(days=(at.date() - turn.now.date()).days)

    async def _remember_for_review(
        self, turn: Turn, activity: Activity, result: AnswerResult
    ) -> None:
        """Rate the answered question's review item with FSRS (applying the same answer
        twice changes nothing); a finished lesson also adds its review pool, due later."""
        if activity.kind is ActivityKind.ASSESSMENT:
            return
        item = (
            result.question_id
            if activity.kind is ActivityKind.REVIEW
            else item_id(activity.lesson_id or "", result.question_id)
        )
        items = {i.item: i for i in await self._store.review_items(turn.key)}
        changed = [
            rated(
                items.get(item),
                item,
                result.correct,
                result.confidence,
                activity.attempt,
                turn.now,
                self._fsrs,
            )
        ]
        if activity.kind is ActivityKind.LESSON and activity.finished:
            lesson = self._curriculum.lesson(activity.lesson_id or "")
            for question in lesson.review_questions if lesson else ():
                pool_item = item_id(lesson.id if lesson else "", question.id)
                if pool_item not in items:
                    changed.append(new_item(pool_item, turn.now))
        changed = [i for i in changed if items.get(i.item) != i]
        if changed:
            await self._store.save_review_items(turn.key, changed)
            await self._contacts.reschedule(turn.key)

    async def _review_items(self, key: LearnerKey) -> list[ReviewItem]:
        """Review items whose lesson and question still exist."""
        return [
            i
            for i in await self._store.review_items(key)
            if self._question(ActivityKind.REVIEW, None, i.item) is not None
        ]

    async def start_review(self, turn: Turn, data: Mapping[str, Any]) -> Reply:
        """A review session of up to five due questions (the session in progress, if any)."""
        stored = await self._store.get_profile(turn.key)
        state = stored.state if stored else LearnerState()
        current = state.activity
        if state.was_handled(turn.action_id) or (
            current is not None and current.kind is ActivityKind.REVIEW
        ):
            return self._current(state)
        items = await self._review_items(turn.key)
        session = pick_session(items, turn.now)
        if not session:
            upcoming = min((i.due for i in items), default=None)
            return views.nothing_to_review(self._local_day(turn, upcoming) if upcoming else None)
        leave: Button = (_("Leave it, start the review"), "start_review", {})
        if not data.get("restart") and (ask := self._ask_before_replacing(state, leave)):
            return ask
        attempt = self._new_attempt()
        state = await self._replace_activity(
            turn, lambda s: start_review(s, tuple(session), attempt), stored
        )
        return self._current(state)

    async def reviews_due(self, key: LearnerKey, now: datetime) -> int:
        """How many review questions are due (at most a session's worth)."""
        return len(pick_session(await self._review_items(key), now))

    # --- weekly challenge ------------------------------------------------------------------

    async def show_challenge(self, turn: Turn) -> Reply:
        """This week's challenge (opening it means it needn't be sent)."""
        state = await self._state(turn.key)
        week = iso_week(turn.today)
        contact = await self._contacts.contact(turn.key)
        sent = contact.challenge_id if contact and contact.challenge_week == week else ""
        challenge = (
            self._curriculum.challenge(sent) if sent and week not in state.challenges else None
        )
        challenge = challenge or weekly_challenge(state, self._curriculum, week)
        if challenge is None:
            return views.notice(
                _("No challenge this week"),
                _("There is no challenge for your role yet. Carry on with your lessons."),
                heading=_("Weekly challenge"),
                action=(_("Continue learning"), "continue"),
            )
        if contact is not None:
            await self._contacts.opened_challenge(turn.key, week, challenge.id)
        return views.challenge_card(
            challenge,
            self._curriculum.skill_name(challenge.skill),
            week,
            turn.today,
            state.challenges.get(week),
        )

    async def finish_challenge(self, turn: Turn, data: Mapping[str, Any], *, done: bool) -> Reply:
        """Keep "done" (with minutes saved and the self-check) or "skipped" for the week the
        card was sent in; answering again replaces it."""
        week = _field(data, "week")
        challenge = self._curriculum.challenge(_field(data, "challenge"))
        if challenge is None or not ISO_WEEK.fullmatch(week) or week > iso_week(turn.today):
            return self._stale()
        minutes = 0
        if done:
            try:
                minutes = round(float(_field(data, "minutes") or "0"))
            except (ValueError, OverflowError):
                minutes = -1
            if not 0 <= minutes <= MAX_PULSE_MINUTES:
                reply = views.challenge_card(
                    challenge,
                    self._curriculum.skill_name(challenge.skill),
                    week,
                    turn.today,
                    None,
                )
                reply.data["status"] = ""
                reply.data["task"] = (
                    "**"
                    + _("Enter minutes from 0 to {most}.", most=MAX_PULSE_MINUTES)
                    + f"**\n\n{challenge.task}"
                )
                return reply
        checks = sum(1 for i in range(len(challenge.rubric)) if _field(data, f"check_{i}") == "yes")
        record = ChallengeRecord(challenge.id, done, minutes, checks if done else 0)
        _changed, state = await self._change(turn, lambda s: record_challenge(s, week, record))
        await self._after_commit(turn, "team figures", self._on_change(turn.key, state))
        if not done:
            return views.notice(
                _("Skipped this week"),
                _(
                    "No problem. A new challenge comes next week; type **challenge** if you "
                    "want this one back."
                ),
                heading=_("Weekly challenge"),
                action=(_("Continue learning"), "continue"),
            )
        total = len(challenge.rubric)
        ticked = (
            ngettext(
                "You ticked {checks} of {total} self-checks and saved about {n} minute.",
                "You ticked {checks} of {total} self-checks and saved about {n} minutes.",
                minutes,
                checks=checks,
                total=total,
            )
            if minutes
            else _("You ticked {checks} of {total} self-checks.", checks=checks, total=total)
        )
        return views.notice(
            _("Challenge done"),
            ticked + " " + _("Practice in your real work is what turns a lesson into a habit."),
            heading=_("Weekly challenge"),
            action=(_("Continue learning"), "continue"),
        )

    # --- reminder settings -----------------------------------------------------------------

    async def show_settings(self, turn: Turn, notice: str = "") -> Reply:
        """The reminder settings card."""
        contact = await self._contacts.contact(turn.key)
        if contact is None:
            return views.notice(
                _("No chat to remind you in"),
                _(
                    "I keep where to reach you when you install me. Remove and add AI Ready "
                    "again from Teams' Apps to get reminders."
                ),
                heading=_("Reminder settings"),
            )
        zone = contact.time_zone or self._contacts.default_zone
        return views.settings_card(contact.preferences, zone, bool(contact.time_zone), notice)

    async def save_settings(self, turn: Turn, data: Mapping[str, Any]) -> Reply:
        """Save cadence, time, days and zone (a bad value is asked again, nothing saved)."""
        contact = await self._contacts.contact(turn.key)
        if contact is None:
            return await self.show_settings(turn)
        zone = _field(data, "zone").strip()
        try:
            days = frozenset(int(d) for d in _field(data, "days").split(",") if d.strip())
            preferences = Preferences(
                cadence=Cadence(_field(data, "cadence")),
                hour=int(_field(data, "hour")),
                working_days=days,
                paused=contact.preferences.paused,
            )
        except ValueError:
            return await self.show_settings(
                turn,
                _(
                    "Choose how often, a time between {first} and {last} and at least one day.",
                    first=format_hour(WORK_STARTS),
                    last=format_hour(WORK_ENDS - 1),
                ),
            )
        if zone and not valid_zone(zone):
            return await self.show_settings(
                turn,
                _(
                    "I don't know the time zone “{zone}”. Try a name like Europe/Paris.",
                    zone=zone[:64],
                ),
            )
        await self._contacts.change_settings(turn.key, preferences, zone or None)
        return await self.show_settings(turn, "")

    async def pause(self, turn: Turn, *, stop: bool = False) -> Reply:
        """Pause reminders (``stop``: turn them off); nothing proactive comes until resumed."""
        contact = await self._contacts.contact(turn.key)
        if contact is not None:
            prefs = contact.preferences
            changed = replace(prefs, cadence=Cadence.OFF) if stop else replace(prefs, paused=True)
            await self._contacts.change_settings(turn.key, changed)
        return views.notice(
            _("Reminders stopped") if stop else _("Reminders paused"),
            _(
                "I won't send you anything until you say so. Lessons, reviews and challenges "
                "are still here whenever you type **start**, **review** or **challenge**."
            ),
            heading=_("Reminder settings"),
            action=(_("Resume reminders"), "resume_reminders"),
            second=(_("Settings"), "show_settings", {}),
        )

    async def resume(self, turn: Turn) -> Reply:
        """Reminders back on (weekly, if they were off)."""
        contact = await self._contacts.contact(turn.key)
        if contact is None:
            return await self.show_settings(turn)
        prefs = contact.preferences
        cadence = Cadence.WEEKLY if prefs.cadence is Cadence.OFF else prefs.cadence
        await self._contacts.change_settings(
            turn.key, replace(prefs, paused=False, cadence=cadence)
        )
        return await self.show_settings(turn, "")

    # --- weekly pulse --------------------------------------------------------------------

    async def pulse(self, turn: Turn) -> Reply:
        """This week's outcome pulse, prefilled when already answered."""
        state = await self._state(turn.key)
        week = iso_week(turn.today)
        return views.pulse_card(week, turn.today, state.pulses.get(week), self._min_group)

    async def submit_pulse(self, turn: Turn, data: Mapping[str, Any]) -> Reply:
        """Keep the pulse for the week the card was sent in (a resend replaces it)."""
        week = _field(data, "week")
        try:
            minutes = round(float(_field(data, "minutes") or "nan"))
            pulse = Pulse(int(_field(data, "confidence")), minutes, _field(data, "caught") == "yes")
        except (ValueError, OverflowError):
            return views.pulse_card(
                week,
                turn.today,
                None,
                self._min_group,
                notice=_(
                    "Pick a confidence from 1 to 5 and enter minutes from 0 to {most}.",
                    most=MAX_PULSE_MINUTES,
                ),
            )
        if not ISO_WEEK.fullmatch(week) or week > iso_week(turn.today):
            return self._stale()
        _changed, state = await self._change(turn, lambda s: record_pulse(s, week, pulse))
        await self._after_commit(turn, "team figures", self._on_change(turn.key, state))
        return views.notice(
            _("Thanks, pulse received"),
            _(
                "It takes a few weeks of answers to show a trend. Your answers only count in "
                "group figures for groups of {min_group} or more.",
                min_group=self._min_group,
            ),
            heading=_("Weekly pulse"),
            action=(_("Continue learning"), "continue"),
        )

    # --- your data ----------------------------------------------------------------------

    async def my_data(self, turn: Turn) -> Reply:
        """What is kept about the learner, in a card."""
        state = await self._state(turn.key)
        history = await self._store.list_attempts(turn.key)
        answers = sum(len(a.activity.results) for a in history)
        if state.activity is not None:
            answers += len(state.activity.results)
        chat = await self._store.get_conversation(turn.key)
        return views.my_data(state, answers, chat_kept=chat is not None, min_group=self._min_group)

    async def delete_learner(self, key: LearnerKey) -> int:
        """The one delete sequence (chat and tab alike): leave every team's figures first,
        then delete the rows, the chat reference included. Safe to repeat: the learner's
        own rows go only once every team has let go, and a team whose figures changed
        meanwhile (an ETag conflict) is tried again."""
        tries = 1
        while True:
            try:
                await self._on_delete(key)
                break
            except ConcurrentUpdate:
                if tries >= MAX_WRITE_TRIES:
                    raise
                tries += 1
                logger.info("delete met a concurrent team update; trying again")
        removed = await self._store.delete_learner(key)
        logger.info("learner data deleted: %d rows", removed)
        return removed

    async def learning_record(self, key: LearnerKey) -> tuple[LearnerState, list[AttemptRecord]]:
        """The learner's state and history (for My learning)."""
        stored = await self._store.get_profile(key)
        history = await self._store.list_attempts(key)
        return (stored.state if stored else LearnerState()), history

    async def delete_my_data(self, turn: Turn) -> Reply:
        """Delete everything kept about the learner, the chat reference included."""
        await self.delete_learner(turn.key)
        return views.notice(
            _("Your data is deleted"),
            _(
                "Everything AI Ready kept about you is gone, and your team's figures no longer "
                "count you. If you message me again, you'll start fresh."
            ),
            heading=_("Your data"),
        )

    # --- reset ---------------------------------------------------------------------------

    async def confirm_reset(self, turn: Turn) -> Reply:
        """Start the learner afresh: progress and answers go, the chat itself is kept.

        The commit point is the profile replaced by a fresh one (which remembers this action,
        so a redelivered click changes nothing); the history rows and team figures follow.
        """
        before, after = await self._change(turn, lambda _s: LearnerState())
        if after is not before:
            await self._after_commit(
                turn,
                "reset history and team figures",
                self._store.delete_history(turn.key),
                self._on_change(turn.key, after),  # teams now count a fresh start
            )
            logger.info("learner reset")
        return views.role_picker(after)


async def _nothing(_key: LearnerKey) -> None:
    return None


async def _unchanged(_key: LearnerKey, _state: LearnerState) -> None:
    return None


async def _no_assignments(_key: LearnerKey) -> list[Assignment]:
    return []
