"""Turn :class:`LearnerState` and :class:`AttemptRecord` into JSON-able columns and back.

Nested values are JSON strings in a handful of columns, each far below the 64 KiB limit of
an Azure Tables string property. ``SchemaVersion`` lets a later release migrate old rows.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from teams_app.domain.content import Role, SkillId
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
    Stage,
)
from teams_app.domain.scoring import Confidence, Tally
from teams_app.domain.team import Contribution
from teams_app.storage.ports import AttemptRecord

SCHEMA_VERSION = 1
MAX_COLUMN_CHARS = 30_000


def _dump(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    if len(text) > MAX_COLUMN_CHARS:
        raise ValueError("column too large for a table property")
    return text


def _tallies_out(tallies: dict[Confidence, Tally]) -> dict[str, list[int]]:
    return {c.value: [t.right, t.total] for c, t in tallies.items()}


def _tallies_in(raw: dict[str, list[int]]) -> dict[Confidence, Tally]:
    return {Confidence(c): Tally(v[0], v[1]) for c, v in raw.items()}


def _activity_out(activity: Activity | None) -> dict[str, Any] | None:
    if activity is None:
        return None
    return {
        "kind": activity.kind.value,
        "attempt": activity.attempt,
        "questions": list(activity.question_ids),
        "lesson": activity.lesson_id,
        "stage": activity.stage.value,
        "results": [
            [r.question_id, r.response, r.correct, r.confidence.value, r.mark, r.skill.value]
            for r in activity.results
        ],
    }


def _activity_in(raw: dict[str, Any] | None) -> Activity | None:
    if raw is None:
        return None
    return Activity(
        kind=ActivityKind(raw["kind"]),
        attempt=raw["attempt"],
        question_ids=tuple(raw["questions"]),
        lesson_id=raw.get("lesson"),
        stage=Stage(raw.get("stage", Stage.QUIZ.value)),
        results=tuple(
            AnswerResult(q, resp, ok, Confidence(c), mark, SkillId(s))
            for q, resp, ok, c, mark, s in raw["results"]
        ),
    )


def state_to_columns(state: LearnerState) -> dict[str, Any]:
    """The profile row's columns (without keys)."""
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Role": state.role.value if state.role else "",
        "Activity": _dump(_activity_out(state.activity)),
        "Skills": _dump(
            {s.value: [r.level.value, r.right, r.total, r.mark] for s, r in state.skills.items()}
        ),
        "AssessedOn": state.assessed_on.isoformat() if state.assessed_on else "",
        "AssessmentsTaken": state.assessments_taken,
        "SeenItems": _dump(list(state.seen_items)),
        "Completed": _dump(
            {
                lid: [r.attempt, r.right, r.total, r.mark, r.completed_on.isoformat()]
                for lid, r in state.completed.items()
            }
        ),
        "Tallies": _dump(_tallies_out(state.tallies)),
        "SkillTallies": _dump({s.value: _tallies_out(t) for s, t in state.skill_tallies.items()}),
        "ActiveWeeks": _dump(list(state.active_weeks)),
        "LastActivity": _dump(_activity_out(state.last_activity)),
        "Pulses": _dump(
            {w: [p.confidence, p.minutes_saved, p.caught_error] for w, p in state.pulses.items()}
        ),
        "Handled": _dump(list(state.handled)),
        "LastActive": state.last_active.astimezone(UTC).isoformat() if state.last_active else "",
        "Challenges": _dump(
            {
                w: [c.challenge_id, c.done, c.minutes_saved, c.checks]
                for w, c in state.challenges.items()
            }
        ),
    }


def state_from_columns(row: dict[str, Any]) -> LearnerState:
    """Rebuild the state from a profile row."""
    skills = json.loads(row.get("Skills") or "{}")
    completed = json.loads(row.get("Completed") or "{}")
    skill_tallies = json.loads(row.get("SkillTallies") or "{}")
    return LearnerState(
        role=Role(row["Role"]) if row.get("Role") else None,
        activity=_activity_in(json.loads(row.get("Activity") or "null")),
        skills={
            SkillId(s): SkillResult(SkillLevel(v[0]), v[1], v[2], v[3]) for s, v in skills.items()
        },
        assessed_on=date.fromisoformat(row["AssessedOn"]) if row.get("AssessedOn") else None,
        assessments_taken=int(row.get("AssessmentsTaken") or 0),
        seen_items=tuple(json.loads(row.get("SeenItems") or "[]")),
        completed={
            lid: LessonRecord(lid, v[0], v[1], v[2], v[3], date.fromisoformat(v[4]))
            for lid, v in completed.items()
        },
        tallies=_tallies_in(json.loads(row.get("Tallies") or "{}")),
        skill_tallies={SkillId(s): _tallies_in(t) for s, t in skill_tallies.items()},
        active_weeks=tuple(json.loads(row.get("ActiveWeeks") or "[]")),
        last_activity=_activity_in(json.loads(row.get("LastActivity") or "null")),
        pulses={
            w: Pulse(v[0], v[1], bool(v[2]))
            for w, v in json.loads(row.get("Pulses") or "{}").items()
        },
        handled=tuple(json.loads(row.get("Handled") or "[]")),
        last_active=datetime.fromisoformat(row["LastActive"]) if row.get("LastActive") else None,
        challenges={
            w: ChallengeRecord(v[0], bool(v[1]), int(v[2]), int(v[3]) if len(v) > 3 else 0)
            for w, v in json.loads(row.get("Challenges") or "{}").items()
        },
    )


def attempt_to_columns(record: AttemptRecord) -> dict[str, Any]:
    """A history row's columns (without keys)."""
    return {
        "Kind": record.activity.kind.value,
        "Attempt": record.activity.attempt,
        "SubjectId": record.activity.lesson_id or "",
        "Finished": record.finished,
        "EndedAt": record.ended_at.astimezone(UTC).isoformat(),
        "Activity": _dump(_activity_out(record.activity)),
    }


def attempt_from_columns(row: dict[str, Any]) -> AttemptRecord:
    """Rebuild a history row."""
    activity = _activity_in(json.loads(row["Activity"]))
    assert activity is not None
    return AttemptRecord(
        activity=activity,
        finished=bool(row["Finished"]),
        ended_at=datetime.fromisoformat(row["EndedAt"]),
    )


def contribution_to_json(c: Contribution) -> str:
    """A team member's contribution as a JSON column."""
    return _dump(
        {
            "started": c.started,
            "active_weeks": sorted(c.active_weeks),
            "completed_tracks": sorted(c.completed_tracks),
            "lessons_completed": c.lessons_completed,
            "quiz": [c.quiz_right, c.quiz_answers, c.quiz_mark, c.quiz_max_mark],
            "confidence": {k: list(v) for k, v in c.confidence.items()},
            "skill_levels": c.skill_levels,
            "pulse": {k: list(v) for k, v in c.pulse.items()},
            "leader": c.leader,
            "challenge_weeks": sorted(c.challenge_weeks),
            "role_track_done": c.role_track_done,
        }
    )


def contribution_from_json(text: str) -> Contribution:
    """Read :func:`contribution_to_json`'s output."""
    raw = json.loads(text)
    right, answers, mark, max_mark = raw["quiz"]
    return Contribution(
        started=bool(raw["started"]),
        active_weeks=frozenset(raw["active_weeks"]),
        completed_tracks=frozenset(raw["completed_tracks"]),
        lessons_completed=int(raw["lessons_completed"]),
        quiz_right=right,
        quiz_answers=answers,
        quiz_mark=mark,
        quiz_max_mark=max_mark,
        confidence={k: (v[0], v[1]) for k, v in raw["confidence"].items()},
        skill_levels=dict(raw["skill_levels"]),
        pulse={k: (v[0], v[1], bool(v[2])) for k, v in raw["pulse"].items()},
        leader=bool(raw["leader"]),
        challenge_weeks=frozenset(raw.get("challenge_weeks") or ()),
        role_track_done=bool(raw.get("role_track_done")),
    )
