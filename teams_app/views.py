"""Card data for each screen, built from domain values (pure functions, no I/O).

Each function returns the data one template in ``cards/`` needs; :class:`Reply` pairs the
two. Text that a user typed is wrapped in :class:`~teams_app.cards.UserText`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from babel.dates import format_skeleton

from teams_app import i18n
from teams_app.cards import UserText
from teams_app.domain.assignment import LearnerAssignment
from teams_app.domain.content import (
    Challenge,
    Curriculum,
    Lesson,
    Question,
    QuestionType,
    Role,
    role_label,
)
from teams_app.domain.learner import (
    Activity,
    ActivityKind,
    AnswerResult,
    ChallengeRecord,
    LearnerState,
    LessonRecord,
    Pulse,
    SkillLevel,
    SkillResult,
    recommended_path,
    streak_weeks,
)
from teams_app.domain.placement import STRONG_ANSWERS
from teams_app.domain.review import split_item
from teams_app.domain.schedule import WORK_ENDS, WORK_STARTS, Cadence, Preferences
from teams_app.domain.scoring import (
    Calibration,
    Confidence,
    Tally,
    calibration,
    calibration_hint_for,
    calibration_label,
    tallies_of,
)
from teams_app.i18n import N_, _, format_day, format_number, ngettext

SECONDS_PER_ASSESSMENT_ITEM = 30
PATH_PREVIEW = 6

# The labels below are the catalog's message ids (English): translate them where shown.
RESULTS_TITLES = {
    # TRANSLATORS: button after the last answer of the skills check
    ActivityKind.ASSESSMENT: N_("See my skills profile"),
    # TRANSLATORS: button after the last answer of a lesson
    ActivityKind.LESSON: N_("See my lesson summary"),
    # TRANSLATORS: button after the last answer of a spaced-review session
    ActivityKind.REVIEW: N_("See my review summary"),
}
SECONDS_PER_REVIEW_QUESTION = 30
DAY_NAMES = (
    # TRANSLATORS: the days of the week are choices of the days reminders may come on
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
CADENCE_CHOICES = (
    # TRANSLATORS: a choice of how often reminders come
    (Cadence.WEEKLY, N_("Weekly: challenge, pulse and one review day")),
    # TRANSLATORS: a choice of how often reminders come
    (Cadence.TWICE_WEEKLY, N_("Twice a week: reviews on two days")),
    # TRANSLATORS: a choice of how often reminders come
    (Cadence.DAILY, N_("Daily reviews on working days")),
    # TRANSLATORS: a choice of how often reminders come
    (Cadence.OFF, N_("Off: nothing unless I ask")),
)
CADENCE_LABELS = {
    # TRANSLATORS: in "Reminders are on: weekly."
    Cadence.WEEKLY: N_("weekly"),
    # TRANSLATORS: in "Reminders are on: twice a week."
    Cadence.TWICE_WEEKLY: N_("twice a week"),
    # TRANSLATORS: in "Reminders are on: daily reviews."
    Cadence.DAILY: N_("daily reviews"),
    # TRANSLATORS: a reminder cadence: no reminders at all
    Cadence.OFF: N_("off"),
}
LEVEL_LABELS = {  # the label and its colour (an Adaptive Card colour name, not translated)
    # TRANSLATORS: a skill level after the skills check: the skill needs work
    SkillLevel.GAP: (N_("Focus area"), "Attention"),
    # TRANSLATORS: a skill level after the skills check
    SkillLevel.DEVELOPING: (N_("Developing"), "Warning"),
    # TRANSLATORS: a skill level after the skills check
    SkillLevel.MASTERED: (N_("Mastered"), "Good"),
}
CONFIDENCE_LABELS = {
    # TRANSLATORS: the confidence a learner gave an answer
    Confidence.LOW: N_("Low"),
    # TRANSLATORS: the confidence a learner gave an answer
    Confidence.MEDIUM: N_("Medium"),
    # TRANSLATORS: the confidence a learner gave an answer
    Confidence.HIGH: N_("High"),
}
# The same inside a sentence ("+3 marks (high confidence)").
CONFIDENCE_PHRASES = {
    Confidence.LOW: N_("low confidence"),
    Confidence.MEDIUM: N_("medium confidence"),
    Confidence.HIGH: N_("high confidence"),
}


@dataclass(frozen=True, slots=True)
class Reply:
    """A card to show: template name and its data."""

    card: str
    data: dict[str, Any]


def role_choices() -> list[dict[str, str]]:
    """The role picker's choices."""
    return [{"title": role_label(r), "value": r.value} for r in Role]


def day_names() -> list[str]:
    """The days of the week, Monday first, in the reader's language."""
    return [_(name) for name in DAY_NAMES]


def _joined(names: Sequence[str]) -> str:
    """``A, B, C`` with the reader's list separator (no "and": the items are alternatives)."""
    if not names:
        return ""
    pattern = i18n.current().locale.list_patterns["standard"]["middle"]
    text = names[0]
    for name in names[1:]:
        text = pattern.format(text, name)
    return text


def _series(names: list[str]) -> str:
    """``A``, ``A, then B``, ``A, B, then C``."""
    if len(names) <= 1:
        return "".join(names)
    # TRANSLATORS: the tracks of a learning path in order: "Foundation, Finance, then Sales"
    return _("{tracks}, then {last}", tracks=_joined(names[:-1]), last=names[-1])


def assessment_length(items: tuple[int, int]) -> tuple[str, str]:
    """How many questions the adaptive skills check asks, and roughly how long it takes."""
    fewest, most = items
    low, high = (max(1, math.ceil(n * SECONDS_PER_ASSESSMENT_ITEM / 60)) for n in items)
    # TRANSLATORS: a range of numbers, in "{range} questions, about {range} minutes"
    count = _("{low} to {high}", low=format_number(fewest), high=format_number(most))
    # TRANSLATORS: a range of numbers, in "{range} questions, about {range} minutes"
    minutes = _("{low} to {high}", low=format_number(low), high=format_number(high))
    return count, minutes


def welcome(name: str, state: LearnerState, items: tuple[int, int], min_group: int) -> Reply:
    """The first card after install."""
    return Reply(
        "welcome",
        {
            # TRANSLATORS: in "Hi there, welcome to AI Ready" when the user's name is unknown
            "name": UserText(name or _("there")),
            "assessment_items": assessment_length(items)[0],
            "assessment_minutes": assessment_length(items)[1],
            "min_group": min_group,
            "current_role": state.role.value if state.role else "",
            "roles": role_choices(),
        },
    )


def role_picker(state: LearnerState) -> Reply:
    """The role picker with the current role selected."""
    return Reply(
        "role",
        {"current_role": state.role.value if state.role else "", "roles": role_choices()},
    )


def assessment_intro(role: Role, items: tuple[int, int]) -> Reply:
    """Role saved; offer the skills check."""
    count, minutes = assessment_length(items)
    return Reply(
        "assessment_intro", {"role_label": role_label(role), "items": count, "minutes": minutes}
    )


def choices(question: Question, attempt: str) -> list[dict[str, str]]:
    """The options in an order shuffled per attempt (the same every time this attempt's card
    is drawn, different on a retake), each keeping its original index as its value: so the
    key's position in the file gives nothing away, and answers stay idempotent."""
    shown = list(enumerate(question.options))
    random.Random(f"{attempt}:{question.id}").shuffle(shown)  # noqa: S311 - not security
    return [{"title": option.text, "value": str(index)} for index, option in shown]


def _progress_text(activity: Activity, index: int) -> str:
    number = format_number(index + 1)
    if activity.kind is ActivityKind.ASSESSMENT:  # adaptive: the total isn't known yet
        return _("Question {number}", number=number)
    total = format_number(len(activity.question_ids))
    if activity.kind is ActivityKind.REVIEW:
        # TRANSLATORS: progress through a spaced-review session: "Review 2 of 5"
        return _("Review {number} of {total}", number=number, total=total)
    return _("Question {number} of {total}", number=number, total=total)


def _activity_title(
    curriculum: Curriculum, activity: Activity, skill_name: str, index: int | None = None
) -> str:
    if activity.kind is ActivityKind.ASSESSMENT:
        return _("Skills check · {skill}", skill=skill_name)
    if activity.kind is ActivityKind.REVIEW:
        ids = activity.question_ids
        item = ids[min(activity.position if index is None else index, len(ids) - 1)]
        lesson = curriculum.lesson(split_item(item)[0])
        if lesson:
            # TRANSLATORS: a card title during spaced review, then the lesson's title
            return _("Review · {lesson}", lesson=lesson.title)
        # TRANSLATORS: a card title during spaced review (the question's lesson is gone)
        return _("Review")
    lesson = curriculum.lesson(activity.lesson_id or "")
    # TRANSLATORS: a card title when the lesson is no longer in the curriculum
    return lesson.title if lesson else _("Lesson")


def question_card(
    curriculum: Curriculum,
    activity: Activity,
    question: Question,
    skill_name: str,
    notice: str = "",
) -> Reply:
    """The current question with answer and confidence inputs; in a lesson, the lesson's
    text too, behind a "Show the lesson" toggle."""
    lesson = (
        curriculum.lesson(activity.lesson_id or "")
        if activity.kind is ActivityKind.LESSON
        else None
    )
    return Reply(
        "question",
        {
            "has_lesson": lesson is not None,
            "lesson_title": lesson.title if lesson else "",
            "lesson_concept": lesson.concept if lesson else "",
            "lesson_example": lesson.example if lesson else "",
            "lesson_try_it": lesson.try_it if lesson else "",
            "progress_text": _progress_text(activity, activity.position),
            "title": _activity_title(curriculum, activity, skill_name),
            "notice": notice,
            "prompt": question.prompt,
            "short": question.type is QuestionType.SHORT,
            "choices": choices(question, activity.attempt),
            "kind": activity.kind.value,
            "attempt": activity.attempt,
            # a review item's id names its lesson too: "<lesson>/<question>"
            "question_id": activity.current_question_id or question.id,
        },
    )


def _answer_text(question: Question, response: str) -> Any:
    if question.type is QuestionType.SHORT:
        return UserText(response)
    index = int(response) if response.isdigit() else -1
    return question.options[index].text if 0 <= index < len(question.options) else "-"


def feedback_card(
    curriculum: Curriculum,
    activity: Activity,
    question: Question,
    result: AnswerResult,
    skill_name: str,
) -> Reply:
    """Right or wrong, why, and the confidence mark, for one answer of ``activity``."""
    index = next(
        (i for i, r in enumerate(activity.results) if r.question_id == result.question_id),
        activity.position,
    )
    answered = activity.results[: index + 1]
    total = sum(r.mark for r in answered)
    last = index + 1 >= len(activity.question_ids)
    return Reply(
        "feedback",
        {
            "progress_text": _progress_text(activity, index),
            "title": _activity_title(curriculum, activity, skill_name, index),
            # TRANSLATORS: the verdict on an answer
            "verdict": _("Correct") if result.correct else _("Not quite"),
            "verdict_style": "good" if result.correct else "attention",
            "correct": result.correct,
            # TRANSLATORS: an answer's mark and its confidence: "+3 marks (high confidence)"
            "mark_text": _(
                "{marks} ({confidence})",
                marks=marks(result.mark),
                confidence=_(CONFIDENCE_PHRASES[result.confidence]),
            ),
            "prompt": question.prompt,
            "your_answer": _answer_text(question, result.response),
            "right_answer": question.correct_text,
            "confidence_label": _(CONFIDENCE_LABELS[result.confidence]),
            "explanation": question.feedback_for(result.response) or question.feedback,
            "score_text": ngettext(
                "Score so far: {score} from {n} answer",
                "Score so far: {score} from {n} answers",
                len(answered),
                score=marks(total),
            ),
            "last": last,
            "results_title": _(RESULTS_TITLES[activity.kind]),
            "kind": activity.kind.value,
            "attempt": activity.attempt,
        },
    )


def _skills_rows(curriculum: Curriculum, state: LearnerState) -> list[dict[str, Any]]:
    rows = []
    for skill, result in state.skills.items():
        label, color = LEVEL_LABELS[result.level]
        rows.append(
            {
                "name": curriculum.skill_name(skill),
                "level_label": _(label),
                "color": color,
                "detail": _skill_detail(result),
            }
        )
    return rows


def _skill_detail(result: SkillResult) -> str:
    """``3/4 right``, with the reason when every answer was right yet not mastered."""
    right, total = format_number(result.right), format_number(result.total)
    if result.level is SkillLevel.DEVELOPING and result.right == result.total:
        return ngettext(
            "{right}/{total} right: mastered takes {n} right in a row, each at medium or high "
            "confidence",
            "{right}/{total} right: mastered takes {n} right in a row, each at medium or high "
            "confidence",
            STRONG_ANSWERS,
            right=right,
            total=total,
        )
    # TRANSLATORS: right answers out of all answers on a skill: "3/4 right"
    return _("{right}/{total} right", right=right, total=total)


def marks(n: int) -> str:
    """``+1 mark``, ``0 marks``, ``−6 marks`` (a real minus sign)."""
    sign = "+" if n > 0 else ("−" if n < 0 else "")
    # TRANSLATORS: a score under certainty-based marking; {sign} is +, − (minus) or nothing
    return ngettext("{sign}{n} mark", "{sign}{n} marks", abs(n), sign=sign)


def calibration_of(state: LearnerState) -> Calibration:
    """The learner's overall calibration."""
    return calibration(state.tallies)


def assessment_result(curriculum: Curriculum, state: LearnerState) -> Reply:
    """The skills profile and the recommended path."""
    path = [e for e in recommended_path(state, curriculum) if not e.done]
    tracks = [t.title for t in curriculum.tracks_for(state.role or Role.EVERYONE)]
    preview = [
        {
            "position": i + 1,
            "title": e.lesson.title,
            "track": _track_title(curriculum, e.lesson.track_id),
            "tag": _tag(e.focus, e.optional),
        }
        for i, e in enumerate(path[:PATH_PREVIEW])
    ]
    more = len(path) - len(preview)
    return Reply(
        "assessment_result",
        {
            "skills": _skills_rows(curriculum, state),
            "calibration": calibration_hint_for(calibration_of(state)),
            "path_summary": _series(tracks),
            "path": preview,
            "more_text": ngettext("and {n} more lesson", "and {n} more lessons", more)
            if more > 0
            else "",
            "has_path": bool(path),
            "first_lesson": path[0].lesson.title if path else "",
        },
    )


def _tag(focus: bool, optional: bool) -> str:
    """What follows a lesson on the recommended path: `` · focus``, `` · optional``."""
    if focus:
        # TRANSLATORS: tag of a lesson on the path: it teaches a skill the check found lacking
        return " · " + _("focus")
    if optional:
        # TRANSLATORS: tag of a lesson on the path: the skills check showed it can be skipped
        return " · " + _("optional")
    return ""


def calibration_hint(results: tuple[AnswerResult, ...], state: LearnerState) -> str:
    """The hint for these answers, or for all the learner's answers when they are too few."""
    found = calibration(_tallies(results))
    if found is Calibration.UNKNOWN:
        found = calibration_of(state)
    return calibration_hint_for(found)


def _tallies(results: tuple[AnswerResult, ...]) -> dict[Confidence, Tally]:
    return tallies_of((r.confidence, r.correct) for r in results)


def _track_title(curriculum: Curriculum, track_id: str) -> str:
    track = curriculum.track(track_id)
    return track.title if track else ""


def lesson_card(curriculum: Curriculum, lesson: Lesson, attempt: str) -> Reply:
    """A lesson's reading stage."""
    return Reply(
        "lesson",
        {
            "track": _track_title(curriculum, lesson.track_id),
            "minutes": max(1, round(lesson.reading_minutes)),
            "title": lesson.title,
            "skill": curriculum.skill_name(lesson.skill),
            "concept": lesson.concept,
            "example": lesson.example,
            "try_it": lesson.try_it,
            "sources": [
                {"text": f"[{s.title}]({s.url})" if s.url else s.title} for s in lesson.sources
            ],
            "question_count": len(lesson.questions),
            "attempt": attempt,
        },
    )


def _streak_text(weeks: int) -> str:
    if weeks == 0:
        return _("Finish a lesson or a review this week to start a streak.")
    if weeks == 1:
        return _("1 week with a lesson or review. One next week makes it a streak.")
    return ngettext(
        "{n} week in a row with a lesson or review. Keep it going next week.",
        "{n} weeks in a row with a lesson or review. Keep it going next week.",
        weeks,
    )


def lesson_summary(
    curriculum: Curriculum,
    state: LearnerState,
    record: LessonRecord,
    results: tuple[AnswerResult, ...],
    next_lesson: Lesson | None,
    today: date,
) -> Reply:
    """Score, calibration hint and streak after a lesson."""
    lesson = curriculum.lesson(record.lesson_id)
    weeks = streak_weeks(state.active_weeks, today)
    hint = calibration_hint(results, state)
    return Reply(
        "lesson_summary",
        {
            "title": lesson.title if lesson else record.lesson_id,
            "right": record.right,
            "total": record.total,
            "mark": record.mark,
            "max_mark": record.max_mark,
            "mark_text": marks(record.mark),
            # TRANSLATORS: after a lesson's mark: "+6 marks out of a best possible +9 marks"
            "best_text": _("out of a best possible {marks}", marks=marks(record.max_mark)),
            "streak": format_number(weeks),
            "calibration": hint,
            "streak_text": _streak_text(weeks),
            "has_next": next_lesson is not None,
            "next_title": next_lesson.title if next_lesson else "",
        },
    )


def progress(
    curriculum: Curriculum,
    state: LearnerState,
    next_up: Lesson | None,
    today: date,
    assignments: Sequence[LearnerAssignment] = (),
) -> Reply:
    """The learner's progress overview, with what their organisation assigned them."""
    role = state.role or Role.EVERYONE
    tracks = []
    for track in curriculum.tracks_for(role):
        ids = [i for i in track.lesson_ids if i in curriculum.lessons]
        tracks.append(
            {
                "title": track.title,
                "done": sum(i in state.completed for i in ids),
                "total": len(ids),
            }
        )
    cal = calibration_of(state)
    weeks = streak_weeks(state.active_weeks, today)
    resuming = state.activity is not None
    return Reply(
        "progress",
        {
            # TRANSLATORS: the learner's role, before they picked one
            "role_label": role_label(role) if state.role else _("Not chosen yet"),
            "done": sum(t["done"] for t in tracks),
            "total": sum(t["total"] for t in tracks),
            # TRANSLATORS: the weekly streak's length
            "streak_text": ngettext("{n} week", "{n} weeks", weeks),
            "calibration_label": calibration_label(cal),
            "tracks": tracks,
            "assessed": state.assessed,
            "skills": _skills_rows(curriculum, state),
            "calibration": calibration_hint_for(cal),
            "has_next": next_up is not None or resuming,
            "next_action": _("Continue where I left off")
            if resuming
            # TRANSLATORS: a button that starts the next lesson, then its title
            else _("Next: {lesson}", lesson=next_up.title)
            if next_up
            else "",
            "assessment_action": _("Retake the skills check")
            if state.assessed
            else _("Take the skills check"),
            "has_assignments": bool(assignments),
            "assignments": [{"line": assignment_line(a, today)} for a in assignments],
        },
    )


def assignment_line(a: LearnerAssignment, today: date) -> str:
    """One assignment in a sentence: the track, its due date and the learner's progress."""
    done = format_number(a.done)
    if a.finished:
        # TRANSLATORS: an assignment's state: every lesson of its track is done
        state = _("finished")
    elif a.overdue(today):
        state = ngettext(
            "{done} of {n} lesson, overdue", "{done} of {n} lessons, overdue", a.total, done=done
        )
    else:
        state = ngettext("{done} of {n} lesson", "{done} of {n} lessons", a.total, done=done)
    # TRANSLATORS: an assigned track (bold Markdown), its due date and the learner's progress
    line = _(
        "**{track}** · due {date} · {state}",
        track=a.track.title,
        date=format_day(a.assignment.due, "yMMMd"),
        state=state,
    )
    if not a.in_path and not a.finished:
        roles = _joined([role_label(r) for r in a.track.roles])
        # TRANSLATORS: after an assignment: `role` is the chat command, keep it as it is
        line += " · " + _("a track for {roles}: type `role` to switch and take it", roles=roles)
    return line


def help_card(intro: str = "") -> Reply:
    """What the bot can do; ``intro`` explains why it is shown."""
    return Reply("help", {"intro": intro})


def notice(
    title: str,
    text: str,
    *,
    heading: str = "",
    action: tuple[str, str] | None = None,
    action_data: dict[str, Any] | None = None,
    second: tuple[str, str, dict[str, Any]] | None = None,
) -> Reply:
    """A short message with an optional main action ``(title, verb)`` (with ``action_data``)
    and an optional second one ``(title, verb, data)``; ``heading`` is "Heads up" unless
    given."""
    return Reply(
        "notice",
        {
            # TRANSLATORS: the default heading of a short notice card
            "heading": heading or _("Heads up"),
            "title": title,
            "text": text,
            "action_title": action[0] if action else "",
            "action_verb": action[1] if action else "",
            "action_data": action_data or {},
            "second_title": second[0] if second else "",
            "second_verb": second[1] if second else "",
            "second_data": second[2] if second else {},
        },
    )


def my_data(state: LearnerState, answers: int, *, chat_kept: bool, min_group: int) -> Reply:
    """What is kept about the learner."""
    return Reply(
        "my_data",
        {
            # TRANSLATORS: the learner's role, before they picked one
            "role": role_label(state.role) if state.role else _("Not chosen"),
            # TRANSLATORS: when the learner took the skills check (the date is YYYY-MM-DD)
            "assessment": _("Taken on {date}", date=state.assessed_on.isoformat())
            if state.assessed_on
            # TRANSLATORS: the skills check, not taken yet
            else _("Not taken"),
            "lessons": format_number(len(state.completed)),
            "answers": format_number(answers),
            # TRANSLATORS: what is kept of the learner's chat with the bot
            "chat": _("Kept, so I can send you reminders") if chat_kept else _("Not kept"),
            "min_group": min_group,
        },
    )


def pulse_card(
    week: str, today: date, answered: Pulse | None, min_group: int, notice: str = ""
) -> Reply:
    """The weekly outcome pulse for ``week``."""
    monday = date.fromordinal(today.toordinal() - today.weekday())
    return Reply(
        "pulse",
        {
            "week": week,
            "week_label": _week_label(monday),
            "min_group": min_group,
            "notice": notice,
            "confidence": str(answered.confidence) if answered else "",
            "minutes": str(answered.minutes_saved) if answered else "",
            "caught": "yes" if answered and answered.caught_error else "no",
        },
    )


def reset_confirm() -> Reply:
    """Ask before deleting everything."""
    return Reply("reset_confirm", {})


def _week_label(week_monday: date) -> str:
    # TRANSLATORS: a week named by its Monday: "week of Dec 1"
    return _("week of {day}", day=format_day(week_monday, "MMMd"))


def _monday(day: date) -> date:
    return date.fromordinal(day.toordinal() - day.weekday())


def reviews_due(count: int, streak: int) -> Reply:
    """The "N reviews due" card."""
    minutes = max(1, math.ceil(count * SECONDS_PER_REVIEW_QUESTION / 60))
    return Reply(
        "reviews_due",
        {
            "title": ngettext("{n} question to review", "{n} questions to review", count),
            "minutes": format_number(minutes),
            "streak_text": ngettext(
                "Reviews count towards your streak: {n} week so far.",
                "Reviews count towards your streak: {n} weeks so far.",
                streak,
            )
            if streak
            else _("Reviews count towards your weekly streak."),
        },
    )


def nothing_to_review(next_due: date | None) -> Reply:
    """The reply to ``review`` when nothing is due."""
    if next_due is None:
        text = _(
            "Questions from the lessons you finish come back here for review, just as "
            "you're likely to start forgetting them. Finish a lesson to get the first ones."
        )
    else:
        text = _(
            "Nothing is due yet. The next questions come back on {day}.",
            day=format_day(next_due, "MMMMEEEEd"),
        )
    return notice(
        _("Nothing to review"),
        text,
        heading=_("Spaced review"),
        action=(_("Continue learning"), "continue"),
    )


def review_summary(
    curriculum: Curriculum, activity: Activity, due: dict[str, date], today: date
) -> Reply:
    """After a review session: each question's result and when it comes back."""
    rows = []
    for result in activity.results:
        lesson = curriculum.lesson(split_item(result.question_id)[0])
        back = due.get(result.question_id)
        # TRANSLATORS: when a reviewed question comes back: not scheduled yet
        when = _when_back(back, today) if back else _("kept for later")
        # TRANSLATORS: the verdict on a review answer
        verdict = _("Right") if result.correct else _("Not quite")
        rows.append(
            {
                "mark": "✓" if result.correct else "✗",
                "color": "Good" if result.correct else "Attention",
                # TRANSLATORS: a review question whose lesson is no longer in the curriculum
                "lesson": lesson.title if lesson else _("A lesson"),
                # TRANSLATORS: "Right, high confidence: back in 5 days"
                "detail": _(
                    "{verdict}, {confidence}: {when}",
                    verdict=verdict,
                    confidence=_(CONFIDENCE_PHRASES[result.confidence]),
                    when=when,
                ),
            }
        )
    right = sum(1 for r in activity.results if r.correct)
    total_marks = sum(r.mark for r in activity.results)
    upcoming = min((d for d in due.values()), default=None)
    return Reply(
        "review_summary",
        {
            "title": _("Review done"),
            "score_text": ngettext(
                "{right} of {n} right, {marks}. Reviews count towards your streak.",
                "{right} of {n} right, {marks}. Reviews count towards your streak.",
                len(activity.results),
                right=format_number(right),
                marks=marks(total_marks),
            ),
            "rows": rows,
            "next_text": _("Next review: {day}.", day=format_day(upcoming, "MMMMEEEEd"))
            if upcoming
            else "",
        },
    )


def _when_back(day: date, today: date) -> str:
    days = (day - today).days
    if days <= 1:
        # TRANSLATORS: when a reviewed question comes back
        return _("back tomorrow")
    if days < 14:
        # TRANSLATORS: when a reviewed question comes back
        return ngettext("back in {n} day", "back in {n} days", days)
    # TRANSLATORS: when a reviewed question comes back
    return ngettext("back in about {n} week", "back in about {n} weeks", round(days / 7))


def challenge_card(
    challenge: Challenge,
    skill_name: str,
    week: str,
    today: date,
    record: ChallengeRecord | None,
    *,
    from_team_lead: bool = False,
) -> Reply:
    """This week's challenge: the task, the rubric as a self-check, done or skip."""
    status = _("Your team lead set this as the whole team's challenge.") if from_team_lead else ""
    if record is not None and record.done:
        # TRANSLATORS: the challenge's self-check: how many of its checks the learner ticked
        status = _(
            "Done: you ticked {checks} of {total}.",
            checks=format_number(record.checks),
            total=format_number(len(challenge.rubric)),
        )
    elif record is not None:
        status = _("You skipped this one. You can still do it.")
    done_checks = record.checks if record and record.done else 0
    return Reply(
        "challenge",
        {
            "week_label": _week_label(_monday(today)),
            "title": challenge.title,
            # TRANSLATORS: a challenge's skill and about how many minutes it takes
            "meta": _(
                "{skill} · about {minutes} min",
                skill=skill_name,
                minutes=format_number(challenge.minutes),
            ),
            "status": status,
            "task": challenge.task,
            "rubric": [
                {"id": f"check_{i}", "text": line, "value": "yes" if i < done_checks else "no"}
                for i, line in enumerate(challenge.rubric)
            ],
            "minutes_saved": str(record.minutes_saved) if record and record.done else "",
            "week": week,
            "challenge": challenge.id,
        },
    )


def nudge(lesson: Lesson | None) -> Reply:
    """After a quiet week: the next lesson, named."""
    if lesson is None:
        return Reply(
            "nudge",
            {
                "title": _("Ready for a quick review?"),
                "text": _(
                    "You've finished your path. A five-minute review keeps it fresh, and "
                    "retaking the skills check shows how far you've come."
                ),
                "action_title": _("Carry on"),
                "lesson": "",
            },
        )
    minutes = max(1, round(lesson.reading_minutes + len(lesson.questions) * 0.5))
    return Reply(
        "nudge",
        {
            "title": _("Five minutes for your next lesson?"),
            # TRANSLATORS: the lesson's title is bold Markdown
            "text": _(
                "It's been a week since you last learned with me. Next on your path: "
                "**{lesson}** (about {minutes} min).",
                lesson=lesson.title,
                minutes=format_number(minutes),
            ),
            "action_title": _("Start the lesson"),
            "lesson": lesson.id,
        },
    )


def settings_card(
    preferences: Preferences, zone_name: str, detected: bool, notice_text: str = ""
) -> Reply:
    """The reminder settings."""
    if preferences.paused:
        status, color = _("Reminders are paused."), "Attention"
    elif preferences.cadence is Cadence.OFF:
        status, color = _("Reminders are off."), "Attention"
    else:
        cadence = _(CADENCE_LABELS[preferences.cadence])
        status, color = _("Reminders are on: {cadence}.", cadence=cadence), "Good"
    return Reply(
        "settings",
        {
            "status": status,
            "status_color": color,
            "notice": notice_text,
            "cadence": preferences.cadence.value,
            "cadences": [{"title": _(t), "value": c.value} for c, t in CADENCE_CHOICES],
            "hour": str(preferences.hour),
            "hours": [{"title": _hour(h), "value": str(h)} for h in range(WORK_STARTS, WORK_ENDS)],
            "days": ",".join(str(d) for d in sorted(preferences.working_days)),
            "day_choices": [{"title": n, "value": str(i)} for i, n in enumerate(day_names())],
            "zone": zone_name,
            # TRANSLATORS: about the learner's time zone; America/New_York is an IANA zone name
            "zone_hint": _(
                "Taken from Teams. Type another IANA name (like America/New_York) to change it."
            )
            if detected
            else _("Not known yet: I use UTC until you set it or write to me from Teams."),
            "paused": preferences.paused,
        },
    )


def _hour(hour: int) -> str:
    """A whole hour on the 24-hour clock, as the reader's locale writes it (``09:00``)."""
    return format_skeleton("Hm", time(hour), locale=i18n.current().locale)
