"""Finding text that never went through a message catalog.

In the ``qps-ploc`` pseudo-locale every catalog message comes out accented and between ⟦ and
⟧ (:func:`teams_app.i18n.pseudo`). What is left of a visible string once those parts, the
data a test put in (content text, names) and placeholders' values are taken out must have no
English word in it: an ASCII word of three or more letters there is a string some code wrote
without the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from babel import Locale

from teams_app.domain.content import Curriculum
from teams_app.i18n import PSEUDO_CLOSE, PSEUDO_OPEN

_PSEUDO_PART = re.compile(re.escape(PSEUDO_OPEN) + r".*?" + re.escape(PSEUDO_CLOSE), re.S)
_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")
# Markdown escapes and entities a renderer adds around data don't count as words.
_NOISE = re.compile(r"\\|&[a-z]+;|\]\([^)]*\)")  # escapes, entities, link targets


def curriculum_text(curriculum: Curriculum) -> set[str]:
    """Every string the content files give (shown as data, translated per locale folder)."""
    found: set[str] = set()
    for skill in curriculum.skills.values():
        found |= {skill.name, skill.description}
    for track in curriculum.tracks:
        found |= {track.title, track.summary}
    for lesson in curriculum.lessons.values():
        found |= {lesson.title, lesson.concept, lesson.example, lesson.try_it}
        found |= {s.title for s in lesson.sources}
        for question in (*lesson.questions, *lesson.review_questions):
            found |= {question.prompt, question.feedback, *question.answers}
            found |= {o.text for o in question.options} | {o.feedback for o in question.options}
    for item in curriculum.assessment:
        options = item.question.options
        found |= {item.question.prompt} | {o.text for o in options} | {o.feedback for o in options}
    for challenge in curriculum.challenges:
        found |= {challenge.title, challenge.task, *challenge.rubric}
    return {text for text in found if text}


def _cldr_words() -> frozenset[str]:
    """Month and day names: dates are formatted from CLDR's locale data, not the catalogs."""
    english = Locale.parse("en_US")
    words: set[str] = set()
    for table in (english.months, english.days):
        for context in table.values():
            for width in context.values():
                words |= {w.rstrip(".") for w in width.values()}
    return frozenset(words)


CLDR_WORDS = _cldr_words()


def leaks(text: str, data: Iterable[str] = ()) -> list[str]:
    """The English words in ``text`` that no catalog message, known data or CLDR date
    name explains."""
    rest = _PSEUDO_PART.sub(" ", text)
    for value in sorted(data, key=len, reverse=True):
        if len(value) >= 3 and value in rest:
            rest = rest.replace(value, " ")
    return [w for w in _WORD.findall(_NOISE.sub(" ", rest)) if w not in CLDR_WORDS]


_SHOWN = frozenset({"text", "title", "label", "errorMessage", "placeholder", "altText"})
_SKIPPED = frozenset({"data", "verb", "id", "url", "iconUrl", "$schema", "targetElements"})


def card_text(node: Any, key: str = "", parent: str = "") -> Iterator[str]:
    """Every string of a rendered card a reader sees: texts, titles, labels, placeholders,
    error messages and a fact's value (a choice's value is submitted, never shown)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in _SKIPPED or (k == "value" and key != "facts"):
                continue
            yield from card_text(v, k, key)
    elif isinstance(node, list):
        for item in node:
            yield from card_text(item, key, parent)
    elif isinstance(node, str) and (key in _SHOWN or (key == "value" and parent == "facts")):
        yield node
