"""Load and check the curriculum files (format: ``content/README.md``).

Every problem is reported with its file and line, all at once, so an author fixes a whole
batch in one go. :func:`load_curriculum` refuses content with problems; the server therefore
never starts with a broken lesson.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, cast

import yaml

from teams_app import i18n
from teams_app.content_cues import analyse, bank
from teams_app.domain.content import (
    ASSESSED_SKILLS,
    AssessmentItem,
    Challenge,
    Curriculum,
    Lesson,
    Option,
    Question,
    QuestionType,
    Role,
    Skill,
    SkillId,
    Source,
    Track,
)

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
ITEM_OPTIONS = 4
MIN_ITEMS_PER_SKILL = 10
MIN_ITEMS_PER_LEVEL = 3
MIN_LESSON_POOL = 5
REVIEW_AFTER_DAYS = 365
_JURISDICTION = re.compile(r"^(global|EU|[A-Z]{2})$")
_LAW = re.compile(r"\b(?:Act|Regulation|Article \d+|GDPR|Local Law \d+|Penal Code|U\.S\.C\.)")
WORDS_PER_MINUTE = 200
SECONDS_PER_QUESTION = 20
MAX_LESSON_MINUTES = 5.0
# A percentage or a named study/law is a claim that needs a source.
_CLAIM = re.compile(
    r"\d+(?:\.\d+)?\s?%"
    r"|\b(?:[Ss]tud(?:y|ies)|[Ss]urveys?|[Rr]esearchers)\b"
    r"|\b(?:Act|Regulation|Article \d+|GDPR|Local Law \d+)\b"
)


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """One problem in one file."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    """The content has problems; ``problems`` lists them all."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        super().__init__(f"{len(problems)} content problem(s); first: {problems[0]}")
        self.problems = problems


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line = 0
    key_lines: dict[str, int]


class _Seq(list[Any]):
    """A YAML sequence that remembers its line."""

    line = 0


class _Loader(yaml.CSafeLoader):  # libyaml: the PyPI wheels include it
    def construct_mapping(  # type: ignore[override]
        self, node: yaml.MappingNode, deep: bool = False
    ) -> _Map:
        result = _Map(cast(dict[str, Any], super().construct_mapping(node, deep=True)))
        result.line = node.start_mark.line + 1
        result.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> _Seq:
        result = _Seq(super().construct_sequence(node, deep=True))
        result.line = node.start_mark.line + 1
        return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _Loader.construct_sequence)


class _File:
    """One file being checked: parses it and records problems against its lines."""

    def __init__(self, path: Path, problems: list[ContentProblem]) -> None:
        self.path = path
        self._problems = problems

    def load(self) -> Any:
        try:
            return yaml.load(self.path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
        except yaml.MarkedYAMLError as err:
            line = err.problem_mark.line + 1 if err.problem_mark else 1
            self.problem(line, f"not valid YAML: {err.problem}")
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            self.problem(1, f"cannot read: {err}")
        return None

    def problem(self, line: int, message: str) -> None:
        self._problems.append(ContentProblem(self.path, line, message))

    def mapping(self, value: Any, where: str, required: set[str], optional: set[str]) -> _Map:
        """Check ``value`` is a mapping with exactly the allowed keys."""
        if not isinstance(value, _Map):
            self.problem(getattr(value, "line", 1), f"{where} must be a mapping")
            return _Map()
        for key in sorted(required - value.keys()):
            self.problem(value.line, f"{where} lacks required key '{key}'")
        for key in sorted(value.keys() - required - optional):
            self.problem(value.key_lines.get(key, value.line), f"{where} has unknown key '{key}'")
        return value

    def text(self, node: _Map, key: str, where: str, *, required: bool = True) -> str:
        value = node.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(_line(node, key), f"{where}: '{key}' must be non-empty text")
            return ""
        return value.strip()

    def ident(self, node: _Map, key: str, where: str) -> str:
        value = node.get(key)
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.problem(_line(node, key), f"{where}: id {value!r} is not a valid id")
            return str(value)
        return value

    def enum[E](self, node: _Map, key: str, where: str, parse: Callable[[str], E]) -> E | None:
        try:
            return parse(str(node.get(key)))
        except ValueError:
            self.problem(_line(node, key), f"{where}: unknown {key} {node.get(key)!r}")
            return None

    def sequence(self, node: _Map, key: str, where: str, *, required: bool = True) -> _Seq:
        value = node.get(key)
        if value is None and not required:
            return _Seq()
        if not isinstance(value, _Seq) or not value:
            self.problem(_line(node, key), f"{where}: '{key}' must be a non-empty list")
            return _Seq()
        return value


def _line(node: _Map, key: str) -> int:
    return node.key_lines.get(key, node.line) if isinstance(node, _Map) else 1


def _words(*texts: str) -> int:
    return sum(len(t.split()) for t in texts)


class _Checker:
    """Builds a :class:`Curriculum` while collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[ContentProblem] = []
        self.ids: dict[str, ContentProblem] = {}

    def file(self, path: Path) -> _File:
        return _File(path, self.problems)

    def claim_id(self, f: _File, node: _Map, ident: str) -> None:
        here = ContentProblem(f.path, _line(node, "id"), "")
        if ident in self.ids:
            first = self.ids[ident]
            f.problem(
                here.line, f"duplicate id '{ident}' (first used at {first.path}:{first.line})"
            )
        else:
            self.ids[ident] = here

    def sources(self, f: _File, node: _Map, where: str, *, required: bool) -> tuple[Source, ...]:
        result = []
        for entry in f.sequence(node, "sources", where, required=required):
            src = f.mapping(entry, f"{where} source", {"title"}, {"url"})
            url = src.get("url")
            if url is not None and not (isinstance(url, str) and url.startswith("https://")):
                f.problem(_line(src, "url"), f"{where}: source url must start with https://")
            result.append(
                Source(f.text(src, "title", where), url if isinstance(url, str) else None)
            )
        return tuple(result)

    def question(self, f: _File, raw: Any, where: str) -> Question:
        probe = raw if isinstance(raw, _Map) else _Map()
        kind = (
            f.enum(probe, "type", where, QuestionType) if "type" in probe else QuestionType.SINGLE
        )
        if kind is QuestionType.SHORT:
            node = f.mapping(raw, where, {"id", "prompt", "answers", "feedback"}, {"type"})
            answers = tuple(str(a) for a in f.sequence(node, "answers", where))
            return Question(
                id=f.ident(node, "id", where),
                prompt=f.text(node, "prompt", where),
                type=QuestionType.SHORT,
                answers=answers,
                feedback=f.text(node, "feedback", where),
            )
        node = f.mapping(raw, where, {"id", "prompt", "options"}, {"type"})
        options = []
        for raw_option in f.sequence(node, "options", where):
            opt = f.mapping(raw_option, f"{where} option", {"text", "feedback"}, {"correct"})
            correct = opt.get("correct", False)
            if not isinstance(correct, bool):
                f.problem(_line(opt, "correct"), f"{where}: 'correct' must be true or false")
            options.append(
                Option(f.text(opt, "text", where), correct is True, f.text(opt, "feedback", where))
            )
        if options and not 2 <= len(options) <= 4:
            f.problem(_line(node, "options"), f"{where}: needs 2 to 4 options, has {len(options)}")
        right = sum(o.correct for o in options)
        if options and right != 1:
            f.problem(
                _line(node, "options"), f"{where}: needs exactly one correct option, has {right}"
            )
        return Question(
            id=f.ident(node, "id", where),
            prompt=f.text(node, "prompt", where),
            options=tuple(options),
        )

    def skills(self, root: Path) -> dict[SkillId, Skill]:
        f = self.file(root / "skills.yaml")
        doc = f.mapping(f.load(), "skills.yaml", {"skills"}, set())
        found: dict[SkillId, Skill] = {}
        for raw in f.sequence(doc, "skills", "skills.yaml"):
            node = f.mapping(raw, "skill", {"id", "name", "description"}, set())
            skill_id = f.enum(node, "id", "skill", SkillId)
            if skill_id is not None:
                found[skill_id] = Skill(
                    skill_id, f.text(node, "name", "skill"), f.text(node, "description", "skill")
                )
        for missing in sorted(set(SkillId) - found.keys()):
            f.problem(doc.line, f"skill '{missing}' is not described")
        return found

    def assessment(self, root: Path) -> tuple[AssessmentItem, ...]:
        f = self.file(root / "assessment.yaml")
        doc = f.mapping(f.load(), "assessment.yaml", {"items"}, set())
        items = []
        for raw in f.sequence(doc, "items", "assessment.yaml"):
            node = f.mapping(
                raw, "item", {"id", "skill", "level", "prompt", "options"}, {"sources", "rationale"}
            )
            where = f"item {node.get('id')}"
            ident = f.ident(node, "id", where)
            self.claim_id(f, node, ident)
            skill = f.enum(node, "skill", where, SkillId)
            if skill is not None and skill not in ASSESSED_SKILLS:
                f.problem(_line(node, "skill"), f"{where}: skill '{skill}' is not assessed")
            level = node.get("level")
            if level not in (1, 2):
                f.problem(_line(node, "level"), f"{where}: level must be 1 or 2")
            question = self._item_question(f, node, ident, where)
            if question.options and len(question.options) != ITEM_OPTIONS:
                f.problem(
                    _line(node, "options"),
                    f"{where}: skills-check items need exactly {ITEM_OPTIONS} options (the "
                    "guessing bound of the adaptive check depends on it)",
                )
            sources = self.sources(f, node, where, required=False)
            if not sources and _CLAIM.search(_question_text(question)):
                f.problem(
                    node.line, f"{where}: states a figure or names a study/law but has no sources"
                )
            rationale = f.text(node, "rationale", where, required=level == 2)
            if skill is not None:
                items.append(
                    AssessmentItem(
                        ident,
                        skill,
                        int(level) if level in (1, 2) else 1,
                        question,
                        sources,
                        rationale,
                    )
                )
        for skill in ASSESSED_SKILLS:
            mine = [i for i in items if i.skill is skill]
            if len(mine) < MIN_ITEMS_PER_SKILL:
                f.problem(
                    doc.line,
                    f"skill '{skill}' has {len(mine)} items; the adaptive check needs at least "
                    f"{MIN_ITEMS_PER_SKILL}",
                )
            for level in (1, 2):
                if sum(1 for i in mine if i.level == level) < MIN_ITEMS_PER_LEVEL:
                    f.problem(
                        doc.line,
                        f"skill '{skill}' needs at least {MIN_ITEMS_PER_LEVEL} level-{level} items",
                    )
        return tuple(items)

    def _item_question(self, f: _File, node: _Map, ident: str, where: str) -> Question:
        inner = _Map({"id": ident, "prompt": node.get("prompt"), "options": node.get("options")})
        inner.line = node.line
        inner.key_lines = node.key_lines
        return self.question(f, inner, where)

    def track(self, folder: Path) -> tuple[Track | None, list[Lesson]]:
        f = self.file(folder / "track.yaml")
        node = f.mapping(f.load(), "track", {"id", "title", "summary", "roles", "lessons"}, set())
        ident = f.ident(node, "id", "track")
        self.claim_id(f, node, ident)
        roles = []
        for role in f.sequence(node, "roles", "track"):
            try:
                roles.append(Role(str(role)))
            except ValueError:
                f.problem(_line(node, "roles"), f"track {ident}: unknown role {role!r}")
        lesson_ids = tuple(str(x) for x in f.sequence(node, "lessons", "track"))
        lessons = [
            lesson
            for path in sorted(folder.glob("*.yaml"))
            if path.name != "track.yaml" and (lesson := self.lesson(path, ident)) is not None
        ]
        known = {lesson.id for lesson in lessons}
        for lesson_id in lesson_ids:
            if lesson_id not in known:
                f.problem(
                    _line(node, "lessons"),
                    f"track {ident}: lesson '{lesson_id}' does not exist in {folder}",
                )
        for lesson in lessons:
            if lesson.id not in lesson_ids:
                f.problem(
                    _line(node, "lessons"), f"track {ident}: lesson '{lesson.id}' is not listed"
                )
        if len(set(lesson_ids)) != len(lesson_ids):
            f.problem(_line(node, "lessons"), f"track {ident}: a lesson is listed twice")
        track = Track(
            ident,
            f.text(node, "title", "track"),
            f.text(node, "summary", "track"),
            tuple(roles),
            lesson_ids,
        )
        return track, lessons

    def lesson(self, path: Path, track_id: str) -> Lesson | None:
        f = self.file(path)
        keys = {"id", "title", "skill", "concept", "example", "try_it", "sources", "questions"}
        keys |= {"review_questions", "reviewed", "jurisdictions"}
        node = f.mapping(f.load(), "lesson", keys, set())
        if not node:
            return None
        ident = f.ident(node, "id", "lesson")
        self.claim_id(f, node, ident)
        where = f"lesson {ident}"
        skill = f.enum(node, "skill", where, SkillId)
        questions = [
            self.question(f, raw, f"{where} question {i + 1}")
            for i, raw in enumerate(f.sequence(node, "questions", where))
        ]
        if questions and not 2 <= len(questions) <= 4:
            f.problem(
                _line(node, "questions"), f"{where}: needs 2 to 4 questions, has {len(questions)}"
            )
        review = [
            self.question(f, raw, f"{where} review question {i + 1}")
            for i, raw in enumerate(f.sequence(node, "review_questions", where))
        ]
        if questions and len(questions) + len(review) < MIN_LESSON_POOL:
            f.problem(
                _line(node, "review_questions"),
                f"{where}: needs at least {MIN_LESSON_POOL} questions with its review pool, has "
                f"{len(questions) + len(review)}",
            )
        question_ids = [q.id for q in (*questions, *review)]
        if len(set(question_ids)) != len(question_ids):
            f.problem(_line(node, "questions"), f"{where}: question ids must be unique")
        texts = [f.text(node, k, where) for k in ("title", "concept", "example", "try_it")]
        minutes = (
            _words(*texts, *(_question_text(q) for q in questions)) / WORDS_PER_MINUTE
            + SECONDS_PER_QUESTION * len(questions) / 60
        )
        if minutes > MAX_LESSON_MINUTES:
            f.problem(
                node.line,
                f"{where}: reading time {minutes:.1f} min is over the "
                f"{MAX_LESSON_MINUTES:g}-minute budget",
            )
        sources = self.sources(f, node, where, required=True)
        reviewed = node.get("reviewed")
        if not isinstance(reviewed, date):
            f.problem(_line(node, "reviewed"), f"{where}: 'reviewed' must be a date (YYYY-MM-DD)")
        jurisdictions = tuple(str(j) for j in f.sequence(node, "jurisdictions", where))
        for bad in (j for j in jurisdictions if not _JURISDICTION.match(j)):
            f.problem(
                _line(node, "jurisdictions"),
                f"{where}: jurisdiction {bad!r} is not global, EU or a country code",
            )
        if skill is None:
            return None
        return Lesson(
            id=ident,
            track_id=track_id,
            title=texts[0],
            skill=skill,
            concept=texts[1],
            example=texts[2],
            try_it=texts[3],
            questions=tuple(questions),
            sources=sources,
            reading_minutes=round(minutes, 1),
            review_questions=tuple(review),
            reviewed=reviewed if isinstance(reviewed, date) else None,
            jurisdictions=jurisdictions,
        )

    def challenges(self, root: Path) -> tuple[Challenge, ...]:
        path = root / "challenges.yaml"
        if not path.exists():
            return ()
        f = self.file(path)
        doc = f.mapping(f.load(), "challenges.yaml", {"challenges"}, set())
        result = []
        for raw in f.sequence(doc, "challenges", "challenges.yaml"):
            keys = {"id", "title", "skill", "roles", "minutes", "task", "rubric"}
            node = f.mapping(raw, "challenge", keys, {"sources"})
            ident = f.ident(node, "id", "challenge")
            self.claim_id(f, node, ident)
            where = f"challenge {ident}"
            skill = f.enum(node, "skill", where, SkillId)
            roles = []
            for role in f.sequence(node, "roles", where):
                try:
                    roles.append(Role(str(role)))
                except ValueError:
                    f.problem(_line(node, "roles"), f"{where}: unknown role {role!r}")
            minutes = node.get("minutes")
            if not isinstance(minutes, int) or not 1 <= minutes <= 120:
                f.problem(
                    _line(node, "minutes"), f"{where}: minutes must be a whole number from 1 to 120"
                )
            rubric = tuple(str(r) for r in f.sequence(node, "rubric", where))
            task = f.text(node, "task", where)
            sources = self.sources(f, node, where, required=False)
            if not sources and _CLAIM.search(task):
                f.problem(
                    node.line, f"{where}: states a figure or names a study/law but has no sources"
                )
            if skill is not None:
                result.append(
                    Challenge(
                        ident,
                        f.text(node, "title", where),
                        skill,
                        tuple(roles),
                        minutes if isinstance(minutes, int) else 0,
                        task,
                        rubric,
                    )
                )
        return tuple(result)


def _question_text(question: Question) -> str:
    parts = [question.prompt, question.feedback, *question.answers]
    for option in question.options:
        parts += [option.text, option.feedback]
    return " ".join(parts)


def _track_folders(root: Path) -> Iterable[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "track.yaml").exists())


def _build(
    content_dir: Path, extra_dirs: Iterable[Path] = ()
) -> tuple[Curriculum, list[ContentProblem]]:
    checker = _Checker()
    skills = checker.skills(content_dir)
    assessment = checker.assessment(content_dir)
    tracks: list[Track] = []
    lessons: dict[str, Lesson] = {}
    folders = [*_track_folders(content_dir / "tracks")]
    for extra in extra_dirs:
        if not extra.is_dir():
            checker.problems.append(ContentProblem(extra, 0, "extra content folder does not exist"))
            continue
        folders += _track_folders(extra)
    for folder in folders:
        track, track_lessons = checker.track(folder)
        if track is not None:
            tracks.append(track)
        lessons.update((lesson.id, lesson) for lesson in track_lessons)
    if not any(Role.EVERYONE in t.roles for t in tracks):
        checker.problems.append(
            ContentProblem(content_dir / "tracks", 0, "no track for role 'everyone'")
        )
    challenges = checker.challenges(content_dir)
    curriculum = Curriculum(skills, assessment, tuple(tracks), lessons, challenges)
    if not checker.problems:  # the bank is only meaningful once every file is well formed
        report = analyse(bank(curriculum))
        checker.problems += [
            ContentProblem(content_dir, 0, f"question bank: {failure}")
            for failure in report.failures()
        ]
        curriculum.translations.update(_translations(content_dir, curriculum, checker.problems))
    return curriculum, checker.problems


LOCALES = "locales"


def _same_question(base: Question, local: Question) -> str:
    """What a translation changed beyond its text ("" when nothing)."""
    if (base.id, base.type) != (local.id, local.type):
        return f"question {base.id}: id or type differs from English"
    if len(base.options) != len(local.options):
        return f"question {base.id}: {len(local.options)} options, English has {len(base.options)}"
    if [o.correct for o in base.options] != [o.correct for o in local.options]:
        return f"question {base.id}: the correct option is not the English one"
    return ""


def _compare_lesson(base: Lesson, local: Lesson) -> list[str]:
    if base.skill is not local.skill:
        return [f"lesson {base.id}: skill differs from English"]
    if (len(base.questions), len(base.review_questions)) != (
        len(local.questions),
        len(local.review_questions),
    ):
        return [f"lesson {base.id}: not the same questions as English"]
    pairs = [
        *zip(base.questions, local.questions, strict=True),
        *zip(base.review_questions, local.review_questions, strict=True),
    ]
    return [f"lesson {base.id} {d}" for a, b in pairs if (d := _same_question(a, b))]


def _translation(folder: Path, base: Curriculum, problems: list[ContentProblem]) -> Curriculum:
    """The curriculum with the translated files in ``folder`` in place of the English ones.

    A translation keeps every id, question, option order and key; only text differs, so
    learners' progress means the same in every language. Files it doesn't have stay English.
    """
    checker = _Checker()  # its own id space: a translation repeats the English ids
    skills = dict(base.skills)
    if (folder / "skills.yaml").exists():
        skills.update(checker.skills(folder))
    tracks = {t.id: t for t in base.tracks}
    lessons = dict(base.lessons)
    tracks_dir = folder / "tracks"
    for track_folder in _track_folders(tracks_dir) if tracks_dir.is_dir() else []:
        track, local_lessons = checker.track(track_folder)
        where = ContentProblem(track_folder / "track.yaml", 0, "")
        english = tracks.get(track.id) if track else None
        if track is None or english is None:
            problems.append(replace(where, message="a translated track English doesn't have"))
            continue
        if (track.roles, track.lesson_ids) != (english.roles, english.lesson_ids):
            problems.append(replace(where, message=f"track {track.id}: roles or lessons differ"))
        tracks[track.id] = track
        for lesson in local_lessons:
            original = base.lessons.get(lesson.id)
            if original is None:
                problems.append(replace(where, message=f"lesson {lesson.id} isn't in English"))
                continue
            problems += [replace(where, message=m) for m in _compare_lesson(original, lesson)]
            lessons[lesson.id] = lesson
    challenges = base.challenges
    if (folder / "challenges.yaml").exists():
        local = {c.id: c for c in checker.challenges(folder)}
        challenges = tuple(local.get(c.id, c) for c in base.challenges)
    problems += checker.problems
    return Curriculum(
        skills,
        base.assessment,
        tuple(tracks[t.id] for t in base.tracks),
        lessons,
        challenges,
    )


def _translations(
    content_dir: Path, base: Curriculum, problems: list[ContentProblem]
) -> dict[str, Curriculum]:
    root = content_dir / LOCALES
    found: dict[str, Curriculum] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if folder.name not in i18n.LANGUAGES or folder.name == i18n.SOURCE_LANGUAGE:
            problems.append(ContentProblem(folder, 0, "not a language AI Ready speaks"))
            continue
        before = len(problems)
        translated = _translation(folder, base, problems)
        if len(problems) == before:  # the bank's cues, in this language's wording
            report = analyse(bank(translated))
            problems += [
                ContentProblem(folder, 0, f"question bank: {failure}")
                for failure in report.failures()
            ]
        found[folder.name] = translated
    return found


def check_content(content_dir: Path, extra_dirs: Iterable[Path] = ()) -> list[ContentProblem]:
    """Every problem in the curriculum files; empty when the content is good."""
    return _build(content_dir, extra_dirs)[1]


def content_warnings(curriculum: Curriculum, today: date) -> list[str]:
    """What should be looked at without blocking a release: lessons that cite a law and were
    last reviewed more than a year ago (laws in this field change fast)."""
    stale = []
    for lesson in sorted(curriculum.lessons.values(), key=lambda x: x.id):
        text = " ".join((lesson.concept, lesson.example, lesson.try_it))
        if lesson.reviewed is None or not _LAW.search(text):
            continue
        age = (today - lesson.reviewed).days
        if age > REVIEW_AFTER_DAYS:
            stale.append(
                f"lesson {lesson.id} cites a law and was last reviewed {lesson.reviewed} "
                f"({age} days ago): check it against its sources"
            )
    return stale


def load_curriculum(content_dir: Path, extra_dirs: Iterable[Path] = ()) -> Curriculum:
    """Load the curriculum, raising :class:`ContentError` listing every problem."""
    curriculum, problems = _build(content_dir, extra_dirs)
    if problems:
        raise ContentError(problems)
    return curriculum
