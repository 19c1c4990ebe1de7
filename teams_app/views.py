"""Card data for each screen, built from domain values (pure functions, no I/O).

Each function returns the data one template in ``cards/`` needs; :class:`Reply` pairs the
two. Text that a user typed is wrapped in :class:`~teams_app.cards.UserText`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from teams_app.cards import UserText
from teams_app.domain.assignment import LearnerAssignment
from teams_app.domain.content import (
    ROLE_LABELS,
    Challenge,
    Curriculum,
    Lesson,
    Question,
    QuestionType,
    Role,
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
    CALIBRATION_HINTS,
    CALIBRATION_LABELS,
    Calibration,
    Confidence,
    Tally,
    calibration,
    tallies_of,
)

SECONDS_PER_ASSESSMENT_ITEM = 30
PATH_PREVIEW = 6

RESULTS_TITLES = {
    ActivityKind.ASSESSMENT: "See my skills profile",
    ActivityKind.LESSON: "See my lesson summary",
    ActivityKind.REVIEW: "See my review summary",
}
SECONDS_PER_REVIEW_QUESTION = 30
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CADENCE_CHOICES = (
    (Cadence.WEEKLY, "Weekly: challenge, pulse and one review day"),
    (Cadence.TWICE_WEEKLY, "Twice a week: reviews on two days"),
    (Cadence.DAILY, "Daily reviews on working days"),
    (Cadence.OFF, "Off: nothing unless I ask"),
)
CADENCE_LABELS = {
    Cadence.WEEKLY: "weekly",
    Cadence.TWICE_WEEKLY: "twice a week",
    Cadence.DAILY: "daily reviews",
    Cadence.OFF: "off",
}
LEVEL_LABELS = {
    SkillLevel.GAP: ("Focus area", "Attention"),
    SkillLevel.DEVELOPING: ("Developing", "Warning"),
    SkillLevel.MASTERED: ("Mastered", "Good"),
}
CONFIDENCE_LABELS = {Confidence.LOW: "Low", Confidence.MEDIUM: "Medium", Confidence.HIGH: "High"}


@dataclass(frozen=True, slots=True)
class Reply:
    """A card to show: template name and its data."""

    card: str
    data: dict[str, Any]


def role_choices() -> list[dict[str, str]]:
    """The role picker's choices."""
    return [{"title": ROLE_LABELS[r], "value": r.value} for r in Role]


def _series(names: list[str]) -> str:
    """``A``, ``A, then B``, ``A, B, then C``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + ", then " + names[-1]


def assessment_length(items: tuple[int, int]) -> tuple[str, str]:
    """How many questions the adaptive skills check asks, and roughly how long it takes."""
    fewest, most = items
    low, high = (max(1, math.ceil(n * SECONDS_PER_ASSESSMENT_ITEM / 60)) for n in items)
    return f"{fewest} to {most}", f"{low} to {high}"


def welcome(name: str, state: LearnerState, items: tuple[int, int], min_group: int) -> Reply:
    """The first card after install."""
    return Reply(
        "welcome",
        {
            "name": UserText(name or "there"),
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
        "assessment_intro", {"role_label": ROLE_LABELS[role], "items": count, "minutes": minutes}
    )


def choices(question: Question, attempt: str) -> list[dict[str, str]]:
    """The options in an order shuffled per attempt (the same every time this attempt's card
    is drawn, different on a retake), each keeping its original index as its value: so the
    key's position in the file gives nothing away, and answers stay idempotent."""
    shown = list(enumerate(question.options))
    random.Random(f"{attempt}:{question.id}").shuffle(shown)  # noqa: S311 - not security
    return [{"title": option.text, "value": str(index)} for index, option in shown]


def _progress_text(activity: Activity, index: int) -> str:
    if activity.kind is ActivityKind.ASSESSMENT:  # adaptive: the total isn't known yet
        return f"Question {index + 1}"
    if activity.kind is ActivityKind.REVIEW:
        return f"Review {index + 1} of {len(activity.question_ids)}"
    return f"Question {index + 1} of {len(activity.question_ids)}"


def _activity_title(
    curriculum: Curriculum, activity: Activity, skill_name: str, index: int | None = None
) -> str:
    if activity.kind is ActivityKind.ASSESSMENT:
        return f"Skills check · {skill_name}"
    if activity.kind is ActivityKind.REVIEW:
        ids = activity.question_ids
        item = ids[min(activity.position if index is None else index, len(ids) - 1)]
        lesson = curriculum.lesson(split_item(item)[0])
        return f"Review · {lesson.title}" if lesson else "Review"
    lesson = curriculum.lesson(activity.lesson_id or "")
    return lesson.title if lesson else "Lesson"


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
    level = CONFIDENCE_LABELS[result.confidence].lower()
    last = index + 1 >= len(activity.question_ids)
    return Reply(
        "feedback",
        {
            "progress_text": _progress_text(activity, index),
            "title": _activity_title(curriculum, activity, skill_name, index),
            "verdict": "Correct" if result.correct else "Not quite",
            "verdict_style": "good" if result.correct else "attention",
            "correct": result.correct,
            "mark_text": f"{marks(result.mark)} ({level} confidence)",
            "prompt": question.prompt,
            "your_answer": _answer_text(question, result.response),
            "right_answer": question.correct_text,
            "confidence_label": CONFIDENCE_LABELS[result.confidence],
            "explanation": question.feedback_for(result.response) or question.feedback,
            "score_text": f"Score so far: {marks(total)} from {len(answered)} "
            f"answer{'s' if len(answered) != 1 else ''}",
            "last": last,
            "results_title": RESULTS_TITLES[activity.kind],
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
                "level_label": label,
                "color": color,
                "detail": _skill_detail(result),
            }
        )
    return rows


def _skill_detail(result: SkillResult) -> str:
    """``3/4 right``, with the reason when every answer was right yet not mastered."""
    detail = f"{result.right}/{result.total} right"
    if result.level is SkillLevel.DEVELOPING and result.right == result.total:
        detail += (
            f": mastered takes {STRONG_ANSWERS} right in a row, each at medium or high confidence"
        )
    return detail


def marks(n: int) -> str:
    """``+1 mark``, ``0 marks``, ``−6 marks`` (a real minus sign)."""
    sign = "+" if n > 0 else ("−" if n < 0 else "")
    return f"{sign}{abs(n)} mark{'' if abs(n) == 1 else 's'}"


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
            "tag": " · focus" if e.focus else (" · optional" if e.optional else ""),
        }
        for i, e in enumerate(path[:PATH_PREVIEW])
    ]
    more = len(path) - len(preview)
    return Reply(
        "assessment_result",
        {
            "skills": _skills_rows(curriculum, state),
            "calibration": CALIBRATION_HINTS[calibration_of(state)],
            "path_summary": _series(tracks),
            "path": preview,
            "more_text": f"and {more} more lesson{'s' if more != 1 else ''}" if more > 0 else "",
            "has_path": bool(path),
            "first_lesson": path[0].lesson.title if path else "",
        },
    )


def calibration_hint(results: tuple[AnswerResult, ...], state: LearnerState) -> str:
    """The hint for these answers, or for all the learner's answers when they are too few."""
    found = calibration(_tallies(results))
    if found is Calibration.UNKNOWN:
        found = calibration_of(state)
    return CALIBRATION_HINTS[found]


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
        return "Finish a lesson or a review this week to start a streak."
    if weeks == 1:
        return "1 week with a lesson or review. One next week makes it a streak."
    return f"{weeks} weeks in a row with a lesson or review. Keep it going next week."


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
            "best_text": f"out of a best possible {marks(record.max_mark)}",
            "streak": str(weeks),
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
            "role_label": ROLE_LABELS[role] if state.role else "Not chosen yet",
            "done": sum(t["done"] for t in tracks),
            "total": sum(t["total"] for t in tracks),
            "streak_text": f"{weeks} week{'s' if weeks != 1 else ''}",
            "calibration_label": CALIBRATION_LABELS[cal],
            "tracks": tracks,
            "assessed": state.assessed,
            "skills": _skills_rows(curriculum, state),
            "calibration": CALIBRATION_HINTS[cal],
            "has_next": next_up is not None or resuming,
            "next_action": "Continue where I left off"
            if resuming
            else f"Next: {next_up.title}"
            if next_up
            else "",
            "assessment_action": "Retake the skills check"
            if state.assessed
            else "Take the skills check",
            "has_assignments": bool(assignments),
            "assignments": [{"line": assignment_line(a, today)} for a in assignments],
        },
    )


def assignment_line(a: LearnerAssignment, today: date) -> str:
    """One assignment in a sentence: the track, its due date and the learner's progress."""
    due = f"{a.assignment.due.day} {a.assignment.due:%b %Y}"
    state = (
        "finished"
        if a.finished
        else f"{a.done} of {a.total} lessons" + (", overdue" if a.overdue(today) else "")
    )
    line = f"**{a.track.title}** · due {due} · {state}"
    if not a.in_path and not a.finished:
        roles = ", ".join(ROLE_LABELS[r] for r in a.track.roles)
        line += f" · a track for {roles}: type `role` to switch and take it"
    return line


def help_card(intro: str = "") -> Reply:
    """What the bot can do; ``intro`` explains why it is shown."""
    return Reply("help", {"intro": intro})


def notice(
    title: str,
    text: str,
    *,
    heading: str = "Heads up",
    action: tuple[str, str] | None = None,
    action_data: dict[str, Any] | None = None,
    second: tuple[str, str, dict[str, Any]] | None = None,
) -> Reply:
    """A short message with an optional main action ``(title, verb)`` (with ``action_data``)
    and an optional second one ``(title, verb, data)``."""
    return Reply(
        "notice",
        {
            "heading": heading,
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
            "role": ROLE_LABELS[state.role] if state.role else "Not chosen",
            "assessment": f"Taken on {state.assessed_on.isoformat()}"
            if state.assessed_on
            else "Not taken",
            "lessons": str(len(state.completed)),
            "answers": str(answers),
            "chat": "Kept, so I can send you reminders" if chat_kept else "Not kept",
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
            "week_label": f"week of {monday.day} {monday.strftime('%b')}",
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
    return f"week of {week_monday.day} {week_monday.strftime('%b')}"


def _monday(day: date) -> date:
    return date.fromordinal(day.toordinal() - day.weekday())


def reviews_due(count: int, streak: int) -> Reply:
    """The "N reviews due" card."""
    minutes = max(1, math.ceil(count * SECONDS_PER_REVIEW_QUESTION / 60))
    return Reply(
        "reviews_due",
        {
            "title": f"{count} question{'s' if count != 1 else ''} to review",
            "minutes": str(minutes),
            "streak_text": f"Reviews count towards your streak: {streak} week"
            f"{'s' if streak != 1 else ''} so far."
            if streak
            else "Reviews count towards your weekly streak.",
        },
    )


def nothing_to_review(next_due: date | None) -> Reply:
    """The reply to ``review`` when nothing is due."""
    if next_due is None:
        text = (
            "Questions from the lessons you finish come back here for review, just as "
            "you're likely to start forgetting them. Finish a lesson to get the first ones."
        )
    else:
        text = (
            f"Nothing is due yet. The next questions come back on "
            f"{DAY_NAMES[next_due.weekday()]} {next_due.day} {next_due.strftime('%B')}."
        )
    return notice(
        "Nothing to review", text, heading="Spaced review", action=("Continue learning", "continue")
    )


def review_summary(
    curriculum: Curriculum, activity: Activity, due: dict[str, date], today: date
) -> Reply:
    """After a review session: each question's result and when it comes back."""
    rows = []
    for result in activity.results:
        lesson = curriculum.lesson(split_item(result.question_id)[0])
        back = due.get(result.question_id)
        when = _when_back(back, today) if back else "kept for later"
        verdict = "Right" if result.correct else "Not quite"
        rows.append(
            {
                "mark": "✓" if result.correct else "✗",
                "color": "Good" if result.correct else "Attention",
                "lesson": lesson.title if lesson else "A lesson",
                "detail": f"{verdict}, {CONFIDENCE_LABELS[result.confidence].lower()} "
                f"confidence: {when}",
            }
        )
    right = sum(1 for r in activity.results if r.correct)
    total_marks = sum(r.mark for r in activity.results)
    upcoming = min((d for d in due.values()), default=None)
    return Reply(
        "review_summary",
        {
            "title": "Review done",
            "score_text": f"{right} of {len(activity.results)} right, {marks(total_marks)}. "
            "Reviews count towards your streak.",
            "rows": rows,
            "next_text": f"Next review: {DAY_NAMES[upcoming.weekday()]} {upcoming.day} "
            f"{upcoming.strftime('%B')}."
            if upcoming
            else "",
        },
    )


def _when_back(day: date, today: date) -> str:
    days = (day - today).days
    if days <= 1:
        return "back tomorrow"
    if days < 14:
        return f"back in {days} days"
    return f"back in about {round(days / 7)} weeks"


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
    status = "Your team lead set this as the whole team's challenge." if from_team_lead else ""
    if record is not None and record.done:
        status = f"Done: you ticked {record.checks} of {len(challenge.rubric)}."
    elif record is not None:
        status = "You skipped this one. You can still do it."
    done_checks = record.checks if record and record.done else 0
    return Reply(
        "challenge",
        {
            "week_label": _week_label(_monday(today)),
            "title": challenge.title,
            "meta": f"{skill_name} · about {challenge.minutes} min",
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
                "title": "Ready for a quick review?",
                "text": "You've finished your path. A five-minute review keeps it fresh, and "
                "retaking the skills check shows how far you've come.",
                "action_title": "Carry on",
                "lesson": "",
            },
        )
    minutes = max(1, round(lesson.reading_minutes + len(lesson.questions) * 0.5))
    return Reply(
        "nudge",
        {
            "title": "Five minutes for your next lesson?",
            "text": f"It's been a week since you last learned with me. Next on your path: "
            f"**{lesson.title}** (about {minutes} min).",
            "action_title": "Start the lesson",
            "lesson": lesson.id,
        },
    )


def settings_card(
    preferences: Preferences, zone_name: str, detected: bool, notice_text: str = ""
) -> Reply:
    """The reminder settings."""
    if preferences.paused:
        status, color = "Reminders are paused.", "Attention"
    elif preferences.cadence is Cadence.OFF:
        status, color = "Reminders are off.", "Attention"
    else:
        status, color = f"Reminders are on: {CADENCE_LABELS[preferences.cadence]}.", "Good"
    return Reply(
        "settings",
        {
            "status": status,
            "status_color": color,
            "notice": notice_text,
            "cadence": preferences.cadence.value,
            "cadences": [{"title": t, "value": c.value} for c, t in CADENCE_CHOICES],
            "hour": str(preferences.hour),
            "hours": [
                {"title": f"{h:02d}:00", "value": str(h)} for h in range(WORK_STARTS, WORK_ENDS)
            ],
            "days": ",".join(str(d) for d in sorted(preferences.working_days)),
            "day_choices": [{"title": n, "value": str(i)} for i, n in enumerate(DAY_NAMES)],
            "zone": zone_name,
            "zone_hint": "Taken from Teams. Type another IANA name (like America/New_York) to "
            "change it."
            if detected
            else "Not known yet: I use UTC until you set it or write to me from Teams.",
            "paused": preferences.paused,
        },
    )
