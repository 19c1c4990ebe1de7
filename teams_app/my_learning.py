"""What the personal "My learning" tab shows, and a learner's own data (export and delete).

Everything here concerns one learner and is computed from their own state and history only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from teams_app import i18n
from teams_app.directory import Directory, DirectoryError
from teams_app.domain.content import Curriculum, Role, SkillId, role_label
from teams_app.domain.learner import (
    ActivityKind,
    LearnerState,
    next_lesson,
    recommended_path,
    streak_weeks,
)
from teams_app.domain.scoring import Calibration, calibration, calibration_hint_for
from teams_app.i18n import N_, _
from teams_app.storage.codec import attempt_to_columns, state_to_columns
from teams_app.storage.engine_ports import Ledger
from teams_app.storage.engine_tables import contact_to_columns
from teams_app.storage.keys import join_key
from teams_app.storage.ports import AttemptRecord, LearnerKey, LearnerStore
from teams_app.storage.team_ports import TeamStore

if TYPE_CHECKING:
    from teams_app.learning import LearningService

logger = logging.getLogger(__name__)

# Job titles and departments that suggest a role (matched as whole words, case-insensitive).
_ROLE_HINTS: tuple[tuple[Role, tuple[str, ...]], ...] = (
    (Role.HR, ("hr", "human resources", "people", "talent", "recruit", "recruiting", "recruiter")),
    (Role.MARKETING, ("marketing", "brand", "communications", "content")),
    (Role.FINANCE, ("finance", "financial", "accounting", "accountant", "controller", "treasury")),
    (Role.ENGINEERING, ("engineering", "engineer", "developer", "software", "r&d")),
    (Role.IT, ("it", "infrastructure", "security", "information technology", "operations")),
    (Role.SALES, ("sales", "account executive", "business development", "account manager")),
    (Role.SUPPORT, ("support", "customer service", "customer success", "helpdesk", "service desk")),
    (Role.LEADER, ("head", "director", "vp", "vice president", "chief", "manager", "lead")),
)


def suggest_role(department: str | None, job_title: str | None) -> Role | None:
    """A role suggestion from the directory's department and job title, if one fits."""
    words = f" {department or ''} {job_title or ''} ".casefold()
    for role, hints in _ROLE_HINTS:
        if any(f" {hint} " in _spaced(words) for hint in hints):
            return role
    return None


def _spaced(text: str) -> str:
    return " " + "".join(ch if ch.isalnum() or ch == "&" else " " for ch in text) + " "


def my_learning(
    state: LearnerState,
    history: list[AttemptRecord],
    curriculum: Curriculum,
    today: date,
    *,
    suggested: Role | None = None,
) -> dict[str, Any]:
    """Path and progress, skills against the baseline, calibration, streak and history."""
    path = recommended_path(state, curriculum)
    tracks = []
    for track in curriculum.tracks_for(state.role or Role.EVERYONE):
        entries = [e for e in path if e.lesson.track_id == track.id]
        tracks.append(
            {
                "id": track.id,
                "title": track.title,
                "done": sum(e.done for e in entries),
                "total": len(entries),
                "lessons": [
                    {
                        "id": e.lesson.id,
                        "title": e.lesson.title,
                        "skill": curriculum.skill_name(e.lesson.skill),
                        "done": e.done,
                        "optional": e.optional,
                        "focus": e.focus,
                    }
                    for e in entries
                ],
            }
        )
    upcoming = next_lesson(state, curriculum)
    overall = calibration(state.tallies)
    return {
        "role": _role(state.role),
        "suggested_role": _role(suggested) if suggested and suggested != state.role else None,
        "streak_weeks": streak_weeks(state.active_weeks, today),
        "lessons_done": len(state.completed),
        "in_progress": state.activity is not None,
        "current": _current(state, curriculum),
        "next_lesson": {"id": upcoming.id, "title": upcoming.title} if upcoming else None,
        "tracks": tracks,
        "skills": _skills(state, curriculum),
        "calibration": {
            "overall": overall.value,
            "hint": calibration_hint_for(overall),
            "answers": sum(t.total for t in state.tallies.values()),
        },
        "history": _history(history, curriculum),
    }


def _current(state: LearnerState, curriculum: Curriculum) -> dict[str, str] | None:
    activity = state.activity
    if activity is None:
        return None
    if activity.kind is ActivityKind.ASSESSMENT:
        return {"kind": "assessment", "title": _("Skills check")}
    lesson = curriculum.lesson(activity.lesson_id or "")
    return {"kind": "lesson", "title": lesson.title if lesson else _("Lesson")}


def _role(role: Role | None) -> dict[str, str] | None:
    return {"id": role.value, "label": role_label(role)} if role else None


def _skills(state: LearnerState, curriculum: Curriculum) -> list[dict[str, Any]]:
    rows = []
    for skill in SkillId:
        baseline = state.skills.get(skill)
        tallies = state.skill_tallies.get(skill, {})
        right = sum(t.right for t in tallies.values())
        total = sum(t.total for t in tallies.values())
        cal = calibration(tallies) if tallies else Calibration.UNKNOWN
        rows.append(
            {
                "id": skill.value,
                "name": curriculum.skill_name(skill),
                "baseline": baseline.level.value if baseline else None,
                "baseline_right": baseline.right if baseline else None,
                "baseline_total": baseline.total if baseline else None,
                "right": right,
                "answers": total,
                "calibration": cal.value,
            }
        )
    return rows


def _history(history: list[AttemptRecord], curriculum: Curriculum) -> list[dict[str, Any]]:
    rows = []
    for record in reversed(history):
        activity = record.activity
        lesson = curriculum.lesson(activity.lesson_id or "")
        title = (
            _("Skills check")
            if activity.kind is ActivityKind.ASSESSMENT
            else (lesson.title if lesson else activity.lesson_id or _("Lesson"))
        )
        rows.append(
            {
                "kind": activity.kind.value,
                "title": title,
                "date": record.ended_at.date().isoformat(),
                "finished": record.finished,
                "right": sum(r.correct for r in activity.results),
                "answers": len(activity.results),
                "mark": sum(r.mark for r in activity.results),
                "max_mark": 3 * len(activity.results),
            }
        )
    return rows


EXPORT_FORMAT = "ai-ready-my-data/3"
# What each section of the download holds, in English (the catalog's message ids):
# :func:`export_sections` gives them in the reader's language.
EXPORT_SECTIONS = {
    "profile": N_(
        "Your progress: role, skills-check results, lessons done, confidence and "
        "pulse answers, and what you are doing now."
    ),
    "history": N_(
        "Every skills check, lesson and review you started, with each answer, "
        "its confidence and its mark."
    ),
    "spaced_review": N_(
        "The questions scheduled to come back for review (FSRS cards: when "
        "each is due and how well you knew it)."
    ),
    "reminders": N_(
        "How AI Ready reaches you: the chat it writes to, your time zone and "
        "reminder settings, and what it last sent."
    ),
    "deliveries": N_(
        "What AI Ready sent or planned to send you, by campaign (the week's "
        "challenge, a day's reviews, a reply), and what became of each."
    ),
    "groups": N_(
        "The groups whose figures count you (only ever as part of a total): the "
        "teams and Entra groups you belong to, and your department as the directory gives it."
    ),
}


def export_sections() -> dict[str, str]:
    """:data:`EXPORT_SECTIONS` in the reader's language."""
    return {name: _(about) for name, about in EXPORT_SECTIONS.items()}


class MyLearningService:
    """The personal tab's use cases: the page, the download and the one delete sequence
    (shared with the chat's "delete my data")."""

    def __init__(
        self,
        learning: LearningService,
        store: LearnerStore,
        curriculum: Curriculum,
        directory: Directory | None,
        ledger: Ledger,
        *,
        clock: Callable[[], datetime],
        teams: TeamStore | None = None,
    ) -> None:
        self._teams = teams
        self._ledger = ledger
        self._learning = learning
        self._store = store
        self._curricula = curriculum
        self._directory = directory
        self._clock = clock

    @property
    def _curriculum(self) -> Curriculum:
        """The curriculum in the current reader's language."""
        return self._curricula.in_language(i18n.current().code)

    async def page(self, key: LearnerKey, user_token: str | None) -> dict[str, Any]:
        """The learner's progress, with a role suggestion from the directory if it has one."""
        state, history = await self._learning.learning_record(key)
        suggested = None
        if self._directory is not None and user_token is not None:
            try:
                profile = await self._directory.profile(key.tenant_id, user_token)
                suggested = suggest_role(profile.department, profile.job_title)
            except DirectoryError as err:
                logger.info("no role suggestion: %s", type(err).__name__)
        today = self._clock().date()
        return my_learning(state, history, self._curriculum, today, suggested=suggested)

    async def export(self, key: LearnerKey) -> dict[str, Any]:
        """Everything stored about the learner, every field, in labelled sections."""
        stored = await self._store.get_profile(key)
        history = await self._store.list_attempts(key)
        items = await self._store.review_items(key)
        contact = await self._store.get_contact(key)
        reminders: dict[str, Any] | None = None
        if contact is not None:
            reminders = _readable(contact_to_columns(contact.contact))
        elif (conversation := await self._store.get_conversation(key)) is not None:
            reminders = {"Reference": conversation}  # a reference kept before contacts
        return {
            "format": EXPORT_FORMAT,
            "about": _(
                "Everything AI Ready stores about you. Team leaders never see this; "
                "they see group figures only."
            ),
            "exported_at": self._clock().isoformat(),
            "sections": export_sections(),
            "tenant_id": key.tenant_id,
            "user_id": key.user_id,
            "profile": _readable(state_to_columns(stored.state)) if stored else None,
            "history": [_readable(attempt_to_columns(a)) for a in history],
            "spaced_review": [
                {
                    "question": item.item,
                    "due": item.due.isoformat(),
                    "last_answer": item.last_answer,
                    "fsrs_card": item.card.to_dict(),
                }
                for item in sorted(items, key=lambda i: i.item)
            ],
            "reminders": reminders,
            "deliveries": await self._ledger.deliveries_of(join_key(key.tenant_id, key.user_id)),
            "groups": {
                "teams": await self._teams.teams_of(key.tenant_id, key.user_id),
                "department": await self._teams.department_of(key.tenant_id, key.user_id),
            }
            if self._teams is not None
            else None,
        }

    async def delete(self, key: LearnerKey) -> int:
        """The one delete sequence (see :meth:`LearningService.delete_learner`)."""
        return await self._learning.delete_learner(key)


def _readable(columns: dict[str, Any]) -> dict[str, Any]:
    """Stored columns with their JSON text opened up, so the download reads as one document."""
    out: dict[str, Any] = {}
    for name, value in columns.items():
        if isinstance(value, str) and (value[:1] in ("{", "[") or value == "null"):
            out[name] = json.loads(value)
        else:
            out[name] = value
    return out
