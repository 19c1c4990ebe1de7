"""The curriculum as typed values: skills, roles, questions, lessons, tracks, challenges.

These types are built by :mod:`teams_app.content_files` from the YAML files under
``content/`` and are read-only afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from teams_app.i18n import N_, _


class SkillId(StrEnum):
    """The skills AI Ready teaches; the first four are assessed."""

    AI_LITERACY = "ai-literacy"
    PROMPTING = "prompting"
    DATA_INTERPRETATION = "data-interpretation"
    CRITICAL_THINKING = "critical-thinking"
    RESPONSIBLE_AI = "responsible-ai"


ASSESSED_SKILLS: tuple[SkillId, ...] = (
    SkillId.AI_LITERACY,
    SkillId.PROMPTING,
    SkillId.DATA_INTERPRETATION,
    SkillId.CRITICAL_THINKING,
)


class Role(StrEnum):
    """A learner's role; it selects the role track after the foundation."""

    EVERYONE = "everyone"
    HR = "hr"
    MARKETING = "marketing"
    FINANCE = "finance"
    IT = "it"
    SALES = "sales"
    SUPPORT = "support"
    ENGINEERING = "engineering"
    LEADER = "leader"


# The roles' names in English (the catalog's message ids): show them with :func:`role_label`.
ROLE_LABELS: dict[Role, str] = {
    # TRANSLATORS: a role a learner can pick: only the foundation track, no role track
    Role.EVERYONE: N_("Everyone (foundation only)"),
    # TRANSLATORS: a role a learner can pick (human resources)
    Role.HR: N_("HR"),
    # TRANSLATORS: a role a learner can pick
    Role.MARKETING: N_("Marketing"),
    # TRANSLATORS: a role a learner can pick
    Role.FINANCE: N_("Finance"),
    # TRANSLATORS: a role a learner can pick (information technology)
    Role.IT: N_("IT"),
    # TRANSLATORS: a role a learner can pick
    Role.SALES: N_("Sales"),
    # TRANSLATORS: a role a learner can pick
    Role.SUPPORT: N_("Customer support"),
    # TRANSLATORS: a role a learner can pick
    Role.ENGINEERING: N_("Software engineering"),
    # TRANSLATORS: a role a learner can pick (team leads, managers, executives)
    Role.LEADER: N_("Leader"),
}


def role_label(role: Role) -> str:
    """A role's name in the reader's language."""
    return _(ROLE_LABELS[role])


class QuestionType(StrEnum):
    """How a question is answered."""

    SINGLE = "single"
    SHORT = "short"


@dataclass(frozen=True, slots=True)
class Source:
    """A reference that backs a lesson's facts."""

    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One answer option of a single-answer question."""

    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True, slots=True)
class Question:
    """A quiz question: single answer (options) or short answer (accepted answers)."""

    id: str
    prompt: str
    type: QuestionType = QuestionType.SINGLE
    options: tuple[Option, ...] = ()
    answers: tuple[str, ...] = ()
    feedback: str = ""

    def is_correct(self, response: str) -> bool:
        """Whether ``response`` (an option index for single, free text for short) is right."""
        if self.type is QuestionType.SHORT:
            wanted = _normalise_answer(response)
            return any(_normalise_answer(a) == wanted for a in self.answers)
        index = option_index(response, len(self.options))
        return index is not None and self.options[index].correct

    def feedback_for(self, response: str) -> str:
        """The explanation shown after ``response``."""
        if self.type is QuestionType.SHORT:
            return self.feedback
        index = option_index(response, len(self.options))
        return self.options[index].feedback if index is not None else ""

    @property
    def correct_text(self) -> str:
        """The right answer, as shown to a learner after a wrong answer."""
        if self.type is QuestionType.SHORT:
            return self.answers[0] if self.answers else ""
        return next((o.text for o in self.options if o.correct), "")


def option_index(response: str, count: int) -> int | None:
    """Parse an option index sent back by a card; ``None`` when it is not a valid index."""
    if not response.isdigit():
        return None
    index = int(response)
    return index if 0 <= index < count else None


def _normalise_answer(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(frozen=True, slots=True)
class AssessmentItem:
    """A diagnostic question for one assessed skill."""

    id: str
    skill: SkillId
    level: int
    question: Question
    sources: tuple[Source, ...] = ()
    rationale: str = ""  # level 2: why this item is harder than a level-1 one


@dataclass(frozen=True, slots=True)
class Lesson:
    """A five-minute lesson: concept, example, try-it step and 2-4 quiz questions, plus a
    pool of further questions that only spaced review asks."""

    id: str
    track_id: str
    title: str
    skill: SkillId
    concept: str
    example: str
    try_it: str
    questions: tuple[Question, ...]
    sources: tuple[Source, ...]
    reading_minutes: float = 0.0
    review_questions: tuple[Question, ...] = ()
    reviewed: date | None = None  # when its facts were last checked against the sources
    jurisdictions: tuple[str, ...] = ()

    @property
    def all_questions(self) -> tuple[Question, ...]:
        """The quiz and the review pool."""
        return (*self.questions, *self.review_questions)

    def question(self, question_id: str) -> Question | None:
        """The quiz or review question with this id."""
        return next((q for q in self.all_questions if q.id == question_id), None)


@dataclass(frozen=True, slots=True)
class Track:
    """An ordered list of lessons for some roles."""

    id: str
    title: str
    summary: str
    roles: tuple[Role, ...]
    lesson_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Challenge:
    """A weekly practice task done in the learner's real work, with a self-check rubric."""

    id: str
    title: str
    skill: SkillId
    roles: tuple[Role, ...]
    minutes: int
    task: str
    rubric: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Skill:
    """A skill's display name and description."""

    id: SkillId
    name: str
    description: str


@dataclass(frozen=True)
class Curriculum:
    """Everything that can be taught, indexed for look-up."""

    skills: dict[SkillId, Skill]
    assessment: tuple[AssessmentItem, ...]
    tracks: tuple[Track, ...]
    lessons: dict[str, Lesson]
    challenges: tuple[Challenge, ...] = ()
    _items_by_id: dict[str, AssessmentItem] = field(default_factory=dict, repr=False)
    # The same curriculum with translated text, by language code (``content/locales``):
    # the same ids, questions, keys and order; only what a reader sees differs.
    translations: dict[str, Curriculum] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._items_by_id.update({item.id: item for item in self.assessment})

    def in_language(self, code: str) -> Curriculum:
        """This curriculum in language ``code``: translated where a translation exists,
        English for everything else."""
        return self.translations.get(code, self)

    def item(self, item_id: str) -> AssessmentItem | None:
        """The assessment item with this id, if it exists."""
        return self._items_by_id.get(item_id)

    def lesson(self, lesson_id: str) -> Lesson | None:
        """The lesson with this id, if it exists."""
        return self.lessons.get(lesson_id)

    def challenge(self, challenge_id: str) -> Challenge | None:
        """The weekly challenge with this id, if it exists."""
        return next((c for c in self.challenges if c.id == challenge_id), None)

    def track(self, track_id: str) -> Track | None:
        """The track with this id, if it exists."""
        return next((t for t in self.tracks if t.id == track_id), None)

    def tracks_for(self, role: Role) -> list[Track]:
        """The tracks a learner in ``role`` follows: everyone's tracks first, then the role's."""
        common = [t for t in self.tracks if Role.EVERYONE in t.roles]
        own = [t for t in self.tracks if role in t.roles and Role.EVERYONE not in t.roles]
        return common + own

    def skill_name(self, skill: SkillId) -> str:
        """A skill's display name."""
        found = self.skills.get(skill)
        return found.name if found else skill.value
