"""Surface cues in the question bank: can a test-wise guesser beat chance without reading?

A question bank leaks its answers when the right option tends to look different from the
wrong ones: longer or middle-length, in the same position, hedged ("usually", "check")
while distractors are absolute ("never", "always"), or copying the lesson's words. Each
:class:`Strategy` here is such a guesser that never reads the lesson and scores each
question by the expected accuracy of its pick (ties are split evenly). ``content check``
fails when a strategy beats chance by more than :data:`MAX_EDGE`, or when one key position
holds more than :data:`MAX_POSITION_SHARE` of the keys among questions with that many
options.

Pure functions over the loaded curriculum; no I/O.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from teams_app.domain.content import Curriculum, Question, QuestionType

MAX_EDGE = 0.10
MAX_POSITION_SHARE = 0.40
MIN_POSITION_GROUP = 20  # fewer questions with this many options: too few to judge position
COPY_RUN_WORDS = 4

HEDGES = frozenset(
    [
        "may",
        "might",
        "could",
        "can",
        "usually",
        "often",
        "sometimes",
        "likely",
        "unlikely",
        "some",
        "check",
        "verify",
        "possibly",
        "probably",
        "typically",
        "generally",
        "depends",
        "perhaps",
        "tend",
        "tends",
    ]
)
ABSOLUTES = frozenset(
    [
        "never",
        "always",
        "all",
        "none",
        "only",
        "every",
        "everything",
        "nothing",
        "guaranteed",
        "guarantees",
        "completely",
        "entirely",
        "must",
        "cannot",
        "impossible",
        "certainly",
        "totally",
    ]
)
_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """Lower-case words of ``text``."""
    return _WORD.findall(text.casefold())


@dataclass(frozen=True, slots=True)
class BankQuestion:
    """A single-answer question with the text it was taught from (empty for the assessment)."""

    where: str
    question: Question
    taught: str = ""

    @property
    def options(self) -> tuple[str, ...]:
        """The option texts in file order."""
        return tuple(o.text for o in self.question.options)

    @property
    def key(self) -> int:
        """Index of the right option."""
        return next(i for i, o in enumerate(self.question.options) if o.correct)


Scorer = Callable[[BankQuestion], Sequence[float]]


def _picks_best(scores: Sequence[float]) -> list[int]:
    best = max(scores)
    return [i for i, s in enumerate(scores) if s == best]


def _length_rank_scores(rank: int) -> Scorer:
    """Prefer the option whose length has ``rank`` among the options (0 = shortest)."""

    def score(q: BankQuestion) -> Sequence[float]:
        lengths = [len(t) for t in q.options]
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        wanted = order[min(rank, len(order) - 1)] if rank >= 0 else order[rank]
        return [1.0 if i == wanted else 0.0 for i in range(len(lengths))]

    return score


def _middle(q: BankQuestion) -> Sequence[float]:
    """The option closest to the median length (3 options: the middle one; 4: the two inner)."""
    lengths = [len(t) for t in q.options]
    ordered = sorted(lengths)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return [-abs(length - median) for length in lengths]


def _count(vocabulary: frozenset[str]) -> Callable[[str], int]:
    return lambda text: sum(1 for w in words(text) if w in vocabulary)


_hedges = _count(HEDGES)
_absolutes = _count(ABSOLUTES)


def _most_hedged(q: BankQuestion) -> Sequence[float]:
    return [float(_hedges(t)) for t in q.options]


def _fewest_absolutes(q: BankQuestion) -> Sequence[float]:
    return [-float(_absolutes(t)) for t in q.options]


@functools.lru_cache(maxsize=256)
def _grams(taught: str, size: int) -> frozenset[tuple[str, ...]]:
    """Every run of ``size`` consecutive words of ``taught`` (cached: one lesson text serves
    all its questions)."""
    source = words(taught)
    return frozenset(tuple(source[i : i + size]) for i in range(len(source) - size + 1))


def copied_run(text: str, taught: str, run: int = COPY_RUN_WORDS) -> bool:
    """Whether ``text`` repeats ``run`` consecutive words of ``taught``."""
    mine = words(text)
    grams = _grams(taught, run)
    return any(tuple(mine[i : i + run]) in grams for i in range(len(mine) - run + 1))


def _longest_copy(q: BankQuestion) -> Sequence[float]:
    """Per option, the longest run of words it shares with the lesson (a run of n shared
    words contains one of every shorter length, so the search climbs from 1)."""
    scores = []
    for text in q.options:
        mine = words(text)
        best = 0
        for size in range(1, len(mine) + 1):
            grams = _grams(q.taught, size)
            if not any(tuple(mine[i : i + size]) in grams for i in range(len(mine) - size + 1)):
                break
            best = size
        scores.append(float(best))
    return scores


@dataclass(frozen=True, slots=True)
class Strategy:
    """A guesser that never reads the lesson."""

    name: str
    scorer: Scorer

    def expected(self, q: BankQuestion) -> float:
        """Expected accuracy on ``q`` (ties split evenly)."""
        picks = _picks_best(self.scorer(q))
        return (q.key in picks) / len(picks)


STRATEGIES: tuple[Strategy, ...] = (
    Strategy("longest option", _length_rank_scores(-1)),
    Strategy("shortest option", _length_rank_scores(0)),
    Strategy("middle-length option", _middle),
    Strategy("second-longest option", _length_rank_scores(-2)),
    Strategy("most hedge words", _most_hedged),
    Strategy("fewest absolute words", _fewest_absolutes),
    Strategy("most words copied from the lesson", _longest_copy),
)


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """How one strategy did on the bank."""

    name: str
    score: float
    chance: float

    @property
    def edge(self) -> float:
        """Points above chance (as a fraction)."""
        return self.score - self.chance


@dataclass(frozen=True, slots=True)
class CueReport:
    """Cue statistics of a question bank."""

    questions: int
    chance: float
    strategies: tuple[StrategyResult, ...]
    positions: dict[int, tuple[float, ...]]  # option count -> share of keys per position
    position_counts: dict[int, int]
    hedge_keys: float
    hedge_distractors: float
    absolute_keys: float
    absolute_distractors: float
    copied_keys: float
    copied_distractors: float

    def failures(self) -> list[str]:
        """What makes the bank fail the check (empty when it passes)."""
        out = [
            f"a guesser picking the {s.name} scores {s.score:.0%} against {s.chance:.0%} "
            f"by chance (more than {MAX_EDGE:.0%} points above)"
            for s in self.strategies
            if s.edge > MAX_EDGE
        ]
        for count, shares in sorted(self.positions.items()):
            if self.position_counts[count] < MIN_POSITION_GROUP or count < 3:
                continue
            for position, share in enumerate(shares):
                if share > MAX_POSITION_SHARE:
                    out.append(
                        f"in {count}-option questions the key is option {position + 1} "
                        f"{share:.0%} of the time (at most {MAX_POSITION_SHARE:.0%})"
                    )
        return out

    def lines(self) -> list[str]:
        """A readable report."""
        out = [f"{self.questions} single-answer questions; chance {self.chance:.1%}"]
        out += [
            f"  {s.name:<36} {s.score:6.1%}  ({s.edge * 100:+.1f} points)" for s in self.strategies
        ]
        for count, shares in sorted(self.positions.items()):
            spread = " ".join(f"{share:.0%}" for share in shares)
            out.append(
                f"  key position, {count} options ({self.position_counts[count]} questions): "
                f"{spread}"
            )
        out.append(
            f"  hedge words: keys {self.hedge_keys:.0%}, distractors {self.hedge_distractors:.0%}"
        )
        out.append(
            f"  absolute words: keys {self.absolute_keys:.0%}, "
            f"distractors {self.absolute_distractors:.0%}"
        )
        out.append(
            f"  {COPY_RUN_WORDS}+ words copied from the lesson: keys {self.copied_keys:.0%}, "
            f"distractors {self.copied_distractors:.0%}"
        )
        return out


def bank(curriculum: Curriculum) -> list[BankQuestion]:
    """Every single-answer question: lesson quizzes, review pools and the assessment."""
    out: list[BankQuestion] = []
    for lesson in curriculum.lessons.values():
        taught = " ".join((lesson.concept, lesson.example, lesson.try_it))
        for question in (*lesson.questions, *lesson.review_questions):
            if question.type is QuestionType.SINGLE:
                out.append(BankQuestion(f"{lesson.id}/{question.id}", question, taught))
    out += [
        BankQuestion(item.id, item.question)
        for item in curriculum.assessment
        if item.question.type is QuestionType.SINGLE
    ]
    return out


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def analyse(questions: Sequence[BankQuestion]) -> CueReport:
    """The cue statistics of ``questions``."""
    total = len(questions) or 1
    chance = sum(1 / len(q.options) for q in questions) / total
    results = tuple(
        StrategyResult(s.name, sum(s.expected(q) for q in questions) / total, chance)
        for s in STRATEGIES
    )
    by_count: dict[int, Counter[int]] = {}
    for q in questions:
        by_count.setdefault(len(q.options), Counter())[q.key] += 1
    positions = {n: tuple(c[i] / sum(c.values()) for i in range(n)) for n, c in by_count.items()}
    keys = [q.options[q.key] for q in questions]
    distractors = [t for q in questions for i, t in enumerate(q.options) if i != q.key]
    taught_keys = [(q.options[q.key], q.taught) for q in questions if q.taught]
    taught_distractors = [
        (t, q.taught) for q in questions if q.taught for i, t in enumerate(q.options) if i != q.key
    ]
    return CueReport(
        questions=len(questions),
        chance=chance,
        strategies=results,
        positions=positions,
        position_counts={n: sum(c.values()) for n, c in by_count.items()},
        hedge_keys=_share(_hedges(t) > 0 for t in keys),
        hedge_distractors=_share(_hedges(t) > 0 for t in distractors),
        absolute_keys=_share(_absolutes(t) > 0 for t in keys),
        absolute_distractors=_share(_absolutes(t) > 0 for t in distractors),
        copied_keys=_share(copied_run(t, s) for t, s in taught_keys),
        copied_distractors=_share(copied_run(t, s) for t, s in taught_distractors),
    )
