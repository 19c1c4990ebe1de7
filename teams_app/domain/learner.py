"""A learner's state and the pure rules that move it: role, assessment, lessons, path, streak.

Every function here returns a new value; nothing is mutated and nothing does I/O, so the
use cases can retry a whole step after an optimistic-concurrency conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from teams_app.domain.content import (
    ASSESSED_SKILLS,
    Challenge,
    Curriculum,
    Lesson,
    Question,
    Role,
    SkillId,
)
from teams_app.domain.placement import Answer, SkillLevel, next_item, place
from teams_app.domain.scoring import Confidence, Tally, cbm_mark

__all__ = ["SkillLevel"]  # re-exported: placement owns it, most callers import it from here

MAX_REMEMBERED_WEEKS = 104
MAX_HANDLED_ACTIONS = 16
MAX_PULSE_MINUTES = 2400  # a 40-hour week


class ActivityKind(StrEnum):
    """What the learner is in the middle of."""

    ASSESSMENT = "assessment"
    LESSON = "lesson"
    REVIEW = "review"  # a spaced-review session: question ids are "<lesson>/<question>"


class Stage(StrEnum):
    """Where a lesson is: reading the content, or answering its questions."""

    READING = "reading"
    QUIZ = "quiz"


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """One scored answer."""

    question_id: str
    response: str
    correct: bool
    confidence: Confidence
    mark: int
    skill: SkillId


@dataclass(frozen=True, slots=True)
class Activity:
    """An assessment or lesson in progress: which questions, and how far the learner got."""

    kind: ActivityKind
    attempt: str
    question_ids: tuple[str, ...]
    lesson_id: str | None = None
    stage: Stage = Stage.QUIZ
    results: tuple[AnswerResult, ...] = ()

    @property
    def position(self) -> int:
        """Index of the current question (== number answered)."""
        return len(self.results)

    @property
    def current_question_id(self) -> str | None:
        """The id of the question awaiting an answer, or ``None`` when all are answered."""
        if self.position < len(self.question_ids):
            return self.question_ids[self.position]
        return None

    @property
    def finished(self) -> bool:
        """Whether every question has been answered."""
        return self.position >= len(self.question_ids)


@dataclass(frozen=True, slots=True)
class SkillResult:
    """A skill's assessment result."""

    level: SkillLevel
    right: int
    total: int
    mark: int

    @property
    def max_mark(self) -> int:
        """The best possible CBM mark for this many answers."""
        return 3 * self.total


@dataclass(frozen=True, slots=True)
class LessonRecord:
    """A completed lesson (its latest attempt)."""

    lesson_id: str
    attempt: str
    right: int
    total: int
    mark: int
    completed_on: date

    @property
    def max_mark(self) -> int:
        """The best possible CBM mark for this lesson."""
        return 3 * self.total


@dataclass(frozen=True, slots=True)
class Pulse:
    """One weekly outcome pulse: confidence using AI in my role (1-5), minutes AI saved me this
    week, and whether I caught an AI error this week."""

    confidence: int
    minutes_saved: int
    caught_error: bool

    def __post_init__(self) -> None:
        if not 1 <= self.confidence <= 5:
            raise ValueError("confidence is 1 to 5")
        if not 0 <= self.minutes_saved <= MAX_PULSE_MINUTES:
            raise ValueError(f"minutes saved is 0 to {MAX_PULSE_MINUTES}")


@dataclass(frozen=True, slots=True)
class ChallengeRecord:
    """What the learner did with a week's challenge."""

    challenge_id: str
    done: bool  # False: skipped
    minutes_saved: int = 0
    checks: int = 0  # self-check statements the learner ticked


@dataclass(frozen=True)
class LearnerState:
    """Everything AI Ready keeps about one learner's learning."""

    role: Role | None = None
    activity: Activity | None = None
    skills: dict[SkillId, SkillResult] = field(default_factory=dict)
    assessed_on: date | None = None
    assessments_taken: int = 0
    seen_items: tuple[str, ...] = ()
    completed: dict[str, LessonRecord] = field(default_factory=dict)
    tallies: dict[Confidence, Tally] = field(default_factory=dict)
    skill_tallies: dict[SkillId, dict[Confidence, Tally]] = field(default_factory=dict)
    active_weeks: tuple[str, ...] = ()
    last_activity: Activity | None = None
    pulses: dict[str, Pulse] = field(default_factory=dict)
    # Ids of the latest inbound card actions that changed this state: a redelivered action
    # (same id) finds itself here and changes nothing.
    handled: tuple[str, ...] = ()
    last_active: datetime | None = None  # when the learner last changed anything (UTC)
    challenges: dict[str, ChallengeRecord] = field(default_factory=dict)  # by ISO week

    @property
    def assessed(self) -> bool:
        """Whether the learner has a skills profile."""
        return bool(self.skills)

    def was_handled(self, action_id: str) -> bool:
        """Whether the inbound action ``action_id`` already changed this state."""
        return bool(action_id) and action_id in self.handled


def handled_by(state: LearnerState, action_id: str) -> LearnerState:
    """``state`` marked as changed by the inbound action ``action_id``."""
    if not action_id or action_id in state.handled:
        return state
    return replace(state, handled=(*state.handled, action_id)[-MAX_HANDLED_ACTIONS:])


def answered(state: LearnerState, attempt: str, question_id: str) -> AnswerResult | None:
    """The stored result for a question of the current or last finished attempt, if any."""
    for activity in (state.activity, state.last_activity):
        if activity is not None and activity.attempt == attempt:
            found = next((r for r in activity.results if r.question_id == question_id), None)
            if found is not None:
                return found
    return None


def choose_role(state: LearnerState, role: Role) -> LearnerState:
    """Set or change the learner's role; progress is kept."""
    return replace(state, role=role)


def start_assessment(state: LearnerState, curriculum: Curriculum, attempt: str) -> LearnerState:
    """Begin a new adaptive skills check (abandoning whatever was in progress); its first
    item is chosen now, each next one when an answer arrives."""
    first = next_item(curriculum, (), {}, state.seen_items, attempt)
    if first is None:
        raise ValueError("the assessment bank is empty")
    activity = Activity(kind=ActivityKind.ASSESSMENT, attempt=attempt, question_ids=(first,))
    return replace(state, activity=activity)


def assessment_answers(
    results: tuple[AnswerResult, ...], curriculum: Curriculum
) -> dict[SkillId, list[Answer]]:
    """A skills check's answers per skill, with each item's level."""
    answers: dict[SkillId, list[Answer]] = {}
    for result in results:
        item = curriculum.item(result.question_id)
        level = item.level if item is not None else 1
        answers.setdefault(result.skill, []).append(
            Answer(level, result.correct, result.confidence)
        )
    return answers


def start_lesson(state: LearnerState, lesson: Lesson, attempt: str) -> LearnerState:
    """Open a lesson at its reading stage (abandoning whatever was in progress)."""
    activity = Activity(
        kind=ActivityKind.LESSON,
        attempt=attempt,
        question_ids=tuple(q.id for q in lesson.questions),
        lesson_id=lesson.id,
        stage=Stage.READING,
    )
    return replace(state, activity=activity)


def begin_quiz(state: LearnerState) -> LearnerState:
    """Move the current lesson from reading to its questions."""
    if state.activity is None or state.activity.kind is not ActivityKind.LESSON:
        return state
    return replace(state, activity=replace(state.activity, stage=Stage.QUIZ))


def weekly_challenge(
    state: LearnerState, curriculum: Curriculum, week: str, last_sent: str = ""
) -> Challenge | None:
    """This week's challenge for the learner: the first of their role's own, then everyone's,
    that they haven't done, skipped or (``last_sent``) been sent last; once they've had them
    all, they come round again in turn."""
    if (record := state.challenges.get(week)) is not None:
        return curriculum.challenge(record.challenge_id)
    role = state.role or Role.EVERYONE
    own = [c for c in curriculum.challenges if role in c.roles and role is not Role.EVERYONE]
    common = [c for c in curriculum.challenges if Role.EVERYONE in c.roles and c not in own]
    pool = [*own, *common]
    if not pool:
        return None
    used = {r.challenge_id for r in state.challenges.values()} | {last_sent}
    fresh = [c for c in pool if c.id not in used]
    if fresh:
        return fresh[0]
    found = ISO_WEEK.fullmatch(week)
    number = int(week[-2:]) if found else 0
    return pool[number % len(pool)]


def record_challenge(state: LearnerState, week: str, record: ChallengeRecord) -> LearnerState:
    """Keep what the learner did with the week's challenge (a second answer replaces it)."""
    challenges = dict(sorted({**state.challenges, week: record}.items())[-MAX_REMEMBERED_WEEKS:])
    return replace(state, challenges=challenges)


def start_review(state: LearnerState, items: tuple[str, ...], attempt: str) -> LearnerState:
    """Begin a review session over ``items`` ("<lesson>/<question>" ids)."""
    if not items:
        raise ValueError("nothing to review")
    activity = Activity(kind=ActivityKind.REVIEW, attempt=attempt, question_ids=items)
    return replace(state, activity=activity)


def record_pulse(state: LearnerState, week: str, pulse: Pulse) -> LearnerState:
    """Keep this week's pulse (answering again the same week replaces it)."""
    pulses = {**state.pulses, week: pulse}
    kept = dict(sorted(pulses.items())[-MAX_REMEMBERED_WEEKS:])
    return replace(state, pulses=kept)


ISO_WEEK = re.compile(r"\d{4}-W\d{2}")


def iso_week(day: date) -> str:
    """The ISO week of ``day`` as ``YYYY-Www``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def record_answer(
    state: LearnerState,
    question: Question,
    skill: SkillId,
    response: str,
    confidence: Confidence,
    today: date,
    curriculum: Curriculum,
) -> tuple[LearnerState, AnswerResult]:
    """Score the answer to the current question and advance the activity.

    A skills check chooses its next item from the answers so far. When nothing is left to
    ask, the activity ends: a skills check sets the skills profile, a lesson is recorded as
    completed and counts the week towards the streak, and so does a review session. (A
    review's question ids are review item ids, ``<lesson>/<question>``.)
    """
    activity = state.activity
    current = activity.current_question_id if activity else None
    if activity is None or current is None:
        raise ValueError("question is not the current one")
    asked = current.rpartition("/")[2] if activity.kind is ActivityKind.REVIEW else current
    if asked != question.id:
        raise ValueError("question is not the current one")
    correct = question.is_correct(response)
    result = AnswerResult(
        question_id=current,
        response=response,
        correct=correct,
        confidence=confidence,
        mark=cbm_mark(correct, confidence),
        skill=skill,
    )
    activity = replace(activity, results=(*activity.results, result))
    if activity.kind is ActivityKind.ASSESSMENT and activity.finished:
        following = next_item(
            curriculum,
            activity.question_ids,
            assessment_answers(activity.results, curriculum),
            state.seen_items,
            activity.attempt,
        )
        if following is not None:
            activity = replace(activity, question_ids=(*activity.question_ids, following))
    tallies = dict(state.tallies)
    tallies[confidence] = tallies.get(confidence, Tally()).add(correct)
    per_skill = {k: dict(v) for k, v in state.skill_tallies.items()}
    skill_tally = per_skill.setdefault(skill, {})
    skill_tally[confidence] = skill_tally.get(confidence, Tally()).add(correct)
    state = replace(state, activity=activity, tallies=tallies, skill_tallies=per_skill)
    if activity.finished:
        state = _finish(state, activity, today, curriculum)
    return state, result


def _finish(
    state: LearnerState, activity: Activity, today: date, curriculum: Curriculum
) -> LearnerState:
    """End the activity; it stays as ``last_activity`` so replays and results can be shown."""
    state = replace(state, last_activity=activity)
    if activity.kind is ActivityKind.ASSESSMENT:
        return replace(
            state,
            activity=None,
            skills=skill_profile(activity.results, curriculum),
            assessed_on=today,
            assessments_taken=state.assessments_taken + 1,
            seen_items=tuple(dict.fromkeys((*state.seen_items, *activity.question_ids))),
        )
    weeks = tuple(sorted({*state.active_weeks, iso_week(today)}))[-MAX_REMEMBERED_WEEKS:]
    if activity.kind is ActivityKind.REVIEW:  # reviews count towards the streak
        return replace(state, activity=None, active_weeks=weeks)
    assert activity.lesson_id is not None
    record = LessonRecord(
        lesson_id=activity.lesson_id,
        attempt=activity.attempt,
        right=sum(r.correct for r in activity.results),
        total=len(activity.results),
        mark=sum(r.mark for r in activity.results),
        completed_on=today,
    )
    return replace(
        state,
        activity=None,
        completed={**state.completed, activity.lesson_id: record},
        active_weeks=weeks,
    )


def skill_profile(
    results: tuple[AnswerResult, ...], curriculum: Curriculum
) -> dict[SkillId, SkillResult]:
    """Place each assessed skill from its skills-check answers
    (:func:`teams_app.domain.placement.place`)."""
    answers = assessment_answers(results, curriculum)
    profile: dict[SkillId, SkillResult] = {}
    for skill in ASSESSED_SKILLS:
        mine = [r for r in results if r.skill is skill]
        if not mine:
            continue
        profile[skill] = SkillResult(
            level=place(answers[skill]),
            right=sum(r.correct for r in mine),
            total=len(mine),
            mark=sum(r.mark for r in mine),
        )
    return profile


@dataclass(frozen=True, slots=True)
class PathEntry:
    """One lesson on a learner's recommended path."""

    lesson: Lesson
    optional: bool
    done: bool
    focus: bool


_TIER = {SkillLevel.GAP: 0, SkillLevel.DEVELOPING: 1, SkillLevel.MASTERED: 2}


def recommended_path(state: LearnerState, curriculum: Curriculum) -> list[PathEntry]:
    """The learner's path: the foundation, then the role track; gaps first within each track.

    Lessons whose skill the assessment found mastered move to the end of their track and are
    optional; lessons on skills the assessment does not cover are never optional.
    """
    role = state.role or Role.EVERYONE
    path: list[PathEntry] = []
    for track in curriculum.tracks_for(role):
        lessons = [curriculum.lessons[i] for i in track.lesson_ids if i in curriculum.lessons]
        levels = [state.skills[x.skill].level if x.skill in state.skills else None for x in lessons]
        ranked = sorted(
            zip(lessons, levels, strict=True),
            key=lambda pair: _TIER[pair[1]] if pair[1] else 1,
        )
        path.extend(
            PathEntry(
                lesson=lesson,
                optional=level is SkillLevel.MASTERED,
                done=lesson.id in state.completed,
                focus=level is SkillLevel.GAP,
            )
            for lesson, level in ranked
        )
    return path


def next_lesson(state: LearnerState, curriculum: Curriculum) -> Lesson | None:
    """The first lesson on the path not yet done, required ones before optional ones."""
    path = recommended_path(state, curriculum)
    for wanted_optional in (False, True):
        for entry in path:
            if entry.optional == wanted_optional and not entry.done:
                return entry.lesson
    return None


def streak_weeks(active_weeks: tuple[str, ...], today: date) -> int:
    """Consecutive ISO weeks with a completed lesson, ending this week or last week.

    Weekly rather than daily: AI Ready asks for a lesson or two a week, so a streak should not
    break because of a busy Tuesday.
    """
    active = set(active_weeks)
    day = today
    if iso_week(day) not in active:
        day = date.fromordinal(day.toordinal() - 7)
    count = 0
    while iso_week(day) in active:
        count += 1
        day = date.fromordinal(day.toordinal() - 7)
    return count
