"""Import and export quiz questions in Moodle's GIFT format (the subset AI Ready can teach).

Import follows Moodle's own parser (``question/format/gift/format.php``). Supported:

- single-answer multiple choice ``{=right#feedback ~wrong#feedback}``, also in the "missing
  word" form ``Text {=a ~b} more text`` (the prompt gets ``_____`` for the block);
- true/false ``{T}`` ``{TRUE}`` ``{F}`` ``{FALSE}`` (any case) with up to two feedbacks,
  ``{T#after a wrong answer#after the right one}``, as the options "True" and "False"; a
  missing feedback becomes "The statement is true." (or "false.");
- short answer (every answer starts with ``=``): its feedback is the first answer feedback;
- ``####general feedback``, added to every option's feedback (Moodle shows it after any
  answer); ``::title::``, slugified into the id (else ``q<N>`` for the N-th question; clashes
  get ``-2``, ``-3``); ``//`` lines in a question's block, kept as its ``comment``;
  ``$CATEGORY:`` lines (ignored); ``[markdown]`` ``[html]`` ``[plain]`` ``[moodle]`` markers
  (removed, text kept); blank lines between questions; line breaks inside texts (kept,
  indentation dropped); the escapes ``\\~ \\= \\# \\{ \\} \\: \\\\ \\n``.

Refused with a :class:`GiftError` at the line where the problem starts: unclosed ``{``, a
stray ``}``, two answer blocks without a blank line between, no answer block (description),
an empty block (essay), multiple choice without exactly one ``=``, weighted answers
(``~%50%``; ``~%0%`` and a short answer's ``=%100%`` mean the plain thing and are accepted),
matching (``->``) and numeric (``{#...}``) questions, missing question text, empty answer
text. The first problem of each question is reported, for every question of the file.

Export writes ``::<question id>::`` so ids survive a round trip, ``[markdown]`` before each
prompt, one option per line and a short question's feedback as general feedback. A
single-answer question's own ``feedback`` is not exported (lessons keep it on the options).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import yaml

from teams_app.content_files import ID_PATTERN
from teams_app.domain.content import Option, Question, QuestionType

_CHAR = re.compile(r"\\([~=#{}:\\n])|(.)", re.DOTALL)  # an escape or a plain character
_SPECIAL = "\\~=#{}:"
_FORMAT = re.compile(r"\[(?:moodle|html|plain|markdown)\]")
# Moodle's answer weight, e.g. %50% or %-33.3%.
_WEIGHT = re.compile(r"%-*[0-9]{1,2}\.?[0-9]*%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_DEFAULT_FEEDBACK = {True: "The statement is true.", False: "The statement is false."}


@dataclass(frozen=True)
class GiftQuestion:
    """One imported question, with its GIFT title, comment lines and first line."""

    title: str | None
    question: Question
    comment: str | None
    line: int


class GiftError(ValueError):
    """A problem in a GIFT file, at ``line`` of ``source``."""

    def __init__(self, message: str, line: int, *, source: str = "<gift>") -> None:
        super().__init__(message, line)
        self.message = message
        self.line = line
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


class GiftErrors(ValueError):
    """A GIFT file has problems; ``errors`` lists them all, in file order."""

    def __init__(self, errors: list[GiftError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class _Text:
    """Decoded GIFT text: its characters, which came from an escape, and each one's line."""

    chars: str
    escaped: tuple[bool, ...]
    lines: tuple[int, ...]
    line: int  # where the text starts (for an empty text: where it would)

    def finds(self, sub: str) -> list[int]:
        """Where ``sub`` occurs written plainly (no character of it escaped)."""
        found = (m.start() for m in re.finditer(f"(?={re.escape(sub)})", self.chars))
        return [i for i in found if not any(self.escaped[i : i + len(sub)])]

    def find(self, sub: str, start: int = 0) -> int:
        """Index of the first plain ``sub`` at or after ``start``, or -1."""
        return next((i for i in self.finds(sub) if i >= start), -1)

    def cut(self, start: int, end: int | None = None) -> _Text:
        """The part from ``start`` to ``end``."""
        stop = len(self.chars) if end is None else end
        line = self.lines[min(start, len(self.lines) - 1)] if self.lines else self.line
        return _Text(self.chars[start:stop], self.escaped[start:stop], self.lines[start:stop], line)

    def strip(self) -> _Text:
        """Without surrounding whitespace."""
        lead = len(self.chars) - len(self.chars.lstrip())
        return self.cut(lead, max(lead, len(self.chars.rstrip())))

    def shown(self) -> str:
        """The text as shown: trimmed, without a leading format marker."""
        return _without_format(self.chars)


def parse_gift(text: str, *, source: str = "<gift>") -> list[GiftQuestion]:
    """The questions of a GIFT file; raises :class:`GiftErrors` listing every problem."""
    questions, errors = parse_gift_all(text, source)
    if errors:
        raise GiftErrors(errors)
    return questions


def parse_gift_all(text: str, source: str = "<gift>") -> tuple[list[GiftQuestion], list[GiftError]]:
    """The questions that parse and the problems of the others, both in file order."""
    questions: list[GiftQuestion] = []
    errors: list[GiftError] = []
    used: set[str] = set()
    for number, (line, comment, body) in enumerate(_question_blocks(text), start=1):
        try:
            title, question = _parse_question(body)
        except GiftError as error:
            errors.append(GiftError(error.message, error.line, source=source))
            continue
        ident = _unique(_slug(title) or f"q{number}", used)
        questions.append(GiftQuestion(title, replace(question, id=ident), comment, line))
    return questions, errors


def _question_blocks(text: str) -> Iterator[tuple[int, str | None, _Text]]:
    """Each blank-line separated block that holds a question: first line, comment, body."""
    block: list[tuple[int, str]] = []
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate([*lines, ""], start=1):
        if line.strip():
            block.append((number, line))
            continue
        comments = [s.strip()[2:].strip() for _, s in block if s.strip().startswith("//")]
        body = [(n, s) for n, s in block if not s.strip().startswith(("//", "$CATEGORY:"))]
        if body:
            yield body[0][0], "\n".join(comments) or None, _decode(body)
        block = []


def _decode(lines: list[tuple[int, str]]) -> _Text:
    """Join lines, resolving escapes and remembering each character's line."""
    chars: list[str] = []
    escaped: list[bool] = []
    where: list[int] = []
    for number, line in lines:
        # Indentation and line ends are layout, not text.
        for match in _CHAR.finditer(line.strip() + "\n"):
            escape, plain = match.groups()
            chars.append(("\n" if escape == "n" else escape) if escape else plain)
            escaped.append(escape is not None)
            where.append(number)
    return _Text("".join(chars), tuple(escaped), tuple(where), lines[0][0])


def _parse_question(text: _Text) -> tuple[str | None, Question]:
    """Title and question (with an empty id) of one block."""
    text, title = text.strip(), None
    first = text.line
    if text.find("::") == 0:
        end = text.find("::", 2)
        if end < 0:
            raise GiftError("the title '::' is not closed with '::'", text.line)
        title = text.cut(2, end).chars.strip() or None
        text = text.cut(end + 2).strip()
    start, end = text.find("{"), text.find("}")
    if start < 0 and end < 0:
        raise GiftError("no answer block '{...}' (descriptions are not supported)", first)
    if end >= 0 and (start < 0 or end < start):
        raise GiftError("'}' without an opening '{'", text.lines[end])
    if end < 0:
        raise GiftError("'{' is not closed with '}'", text.lines[start])
    after = text.cut(end + 1)
    extra = max(after.find("{"), after.find("}"))
    if extra >= 0:
        raise GiftError(
            "a second answer block: separate questions with a blank line", after.lines[extra]
        )
    missing_word = text.chars[:start] + "_____" + after.chars if after.chars.strip() else ""
    prompt = _without_format(missing_word or text.chars[:start])
    if not prompt:
        raise GiftError("missing question text", first)
    return title, _answers(text.cut(start + 1, end), prompt, text.lines[start])


def _answers(block: _Text, prompt: str, line: int) -> Question:
    """The question an answer block describes; ``line`` is where the block opens."""
    general = ""
    if splits := block.finds("####"):
        split = splits[-1]  # as Moodle: the last one
        general, block = block.cut(split + 4).shown(), block.cut(0, split)
    body = block.strip()
    if not body.chars:
        raise GiftError("the answer block has no answers", line)
    if body.find("#") == 0:
        raise GiftError("numeric questions '{#...}' are not supported", line)
    if body.find("~") >= 0:
        return _multiple_choice(body, prompt, general, line)
    if body.find("=") >= 0 and body.find("->") >= 0:
        raise GiftError("matching questions ('->') are not supported", line)
    flag, feedback = _partition(body, "#")
    if flag.shown().upper() in _TRUE_FALSE:
        return _true_false(_TRUE_FALSE[flag.shown().upper()], feedback, prompt, general)
    answers = [_answer(marker, piece, weighted=True) for marker, piece in _pieces(body, "=")]
    own = next((fb.shown() for _, fb in answers if fb and fb.shown()), "")
    return Question(
        "",
        prompt,
        QuestionType.SHORT,
        answers=tuple(text for text, _ in answers),
        feedback=_join(own, general),
    )


def _multiple_choice(body: _Text, prompt: str, general: str, line: int) -> Question:
    options: list[Option] = []
    for marker, piece in _pieces(body, "~="):
        right = marker == "="
        if right and any(o.correct for o in options):
            raise GiftError(
                "several right answers '=': only single-answer questions are supported",
                piece.line,
            )
        text, feedback = _answer(marker, piece, weighted=not right)
        options.append(Option(text, right, _join(feedback.shown() if feedback else "", general)))
    if not any(o.correct for o in options):
        raise GiftError("multiple choice needs one right answer '='", line)
    return Question("", prompt, options=tuple(options))


def _true_false(truth: bool, feedbacks: _Text | None, prompt: str, general: str) -> Question:
    wrong, right = _partition(feedbacks, "#") if feedbacks is not None else (None, None)
    default = _DEFAULT_FEEDBACK[truth]
    feedback = {
        truth: _join(right.shown() if right else "", general) or default,
        not truth: _join(wrong.shown() if wrong else "", general) or default,
    }
    options = (Option("True", truth, feedback[True]), Option("False", not truth, feedback[False]))
    return Question("", prompt, options=options)


def _pieces(body: _Text, markers: str) -> list[tuple[str, _Text]]:
    """The answers of a block, each with the marker before it."""
    cuts = [i for i, c in enumerate(body.chars) if c in markers and not body.escaped[i]]
    first = body.cut(0, cuts[0] if cuts else None).strip()
    if first.chars:
        raise GiftError(
            f"answers must start with '=' (right) or '~' (wrong), not {first.chars[:40]!r}",
            first.line,
        )
    ends = [*cuts[1:], len(body.chars)]
    return [(body.chars[i], body.cut(i + 1, end)) for i, end in zip(cuts, ends, strict=True)]


def _answer(marker: str, piece: _Text, *, weighted: bool) -> tuple[str, _Text | None]:
    """An answer's text and feedback; ``weighted`` when Moodle reads a ``%N%`` weight here."""
    body = piece.strip()
    weight = _WEIGHT.match(body.chars) if weighted else None
    if weight:
        value = float(weight.group()[1:-1].lstrip("-"))
        if value != (100.0 if marker == "=" else 0.0):
            raise GiftError(
                f"weighted answers ({weight.group()}) are not supported: use one right "
                "answer '=' and wrong answers '~'",
                piece.line,
            )
        body = body.cut(weight.end())
    text, feedback = _partition(body, "#")
    if not text.shown():
        raise GiftError(f"empty answer text after '{marker}'", piece.line)
    return text.shown(), feedback


def _partition(text: _Text, sep: str) -> tuple[_Text, _Text | None]:
    i = text.find(sep)
    return (text, None) if i < 0 else (text.cut(0, i), text.cut(i + len(sep)))


def _without_format(text: str) -> str:
    text = text.strip()
    marker = _FORMAT.match(text)
    return text[marker.end() :].strip() if marker else text


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _slug(title: str | None) -> str | None:
    """An id made from a title (an id already well formed is kept), or None."""
    if title is None or ID_PATTERN.fullmatch(title):
        return title
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:64].rstrip("-")
    return slug if ID_PATTERN.fullmatch(slug) else None


def _unique(base: str, used: set[str]) -> str:
    ident, n = base, 1
    while ident in used:
        n += 1
        ident = base[: 64 - len(f"-{n}")].rstrip("-") + f"-{n}"
    used.add(ident)
    return ident


def to_gift(questions: Iterable[tuple[str | None, Question]]) -> str:
    """GIFT text for (title, question) pairs; a title is kept as a ``//`` comment line.

    Raises ValueError for a question GIFT cannot carry back: empty texts, a single-answer
    question without exactly one right option among at least two, a short question without
    answers, or a short answer containing ``->`` (Moodle would read a matching question).
    """
    blocks = []
    for title, question in questions:
        _check_exportable(question)
        name = " ".join((title or "").split())
        head = f"// {name}\n" if name and name != question.id else ""
        lines = [f"{head}::{_escape(question.id)}::{_escape(question.prompt, markdown=True)} {{"]
        if question.type is QuestionType.SHORT:
            lines += [f"\t={_weight_guard(a, '%100%')}{_escape(a)}" for a in question.answers]
            lines += [f"\t####{_escape(question.feedback)}"] if question.feedback.strip() else []
        else:
            lines += [_option_line(option) for option in question.options]
        blocks.append("\n".join([*lines, "}"]))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _option_line(option: Option) -> str:
    marker = "=" if option.correct else "~" + _weight_guard(option.text, "%0%")
    feedback = f"#{_escape(option.feedback)}" if option.feedback.strip() else ""
    return f"\t{marker}{_escape(option.text)}{feedback}"


def _check_exportable(q: Question) -> None:
    short = q.type is QuestionType.SHORT
    problems = {
        "has an empty text": not all(
            t.strip() for t in (q.prompt, *q.answers, *(o.text for o in q.options))
        ),
        "has no accepted answers": short and not q.answers,
        "has '->' in an answer (Moodle would read matching)": any("->" in a for a in q.answers),
        "needs two or more options, one of them right": not short
        and (len(q.options) < 2 or sum(o.correct for o in q.options) != 1),
    }
    problem = next((p for p, found in problems.items() if found), None)
    if problem:
        raise ValueError(f"question {q.id!r} {problem}")


def _weight_guard(text: str, neutral: str) -> str:
    """A neutral weight before a text that Moodle would otherwise read as a weight."""
    return neutral if _WEIGHT.match(text.strip()) else ""


def _escape(text: str, *, markdown: bool = False) -> str:
    text = text.strip().replace("\r\n", "\n").replace("\r", "\n")
    escaped = "".join(f"\\{c}" if c in _SPECIAL else c for c in text).replace("\n", "\\n")
    # A leading "[html]" in the text itself would be read as a format marker.
    return "[markdown]" + escaped if markdown or _FORMAT.match(text) else escaped


def questions_to_lesson_yaml(questions: list[GiftQuestion]) -> str:
    """The ``questions:`` block of a lesson file (content/README.md) for these questions.

    Options imported without feedback get ``feedback: ''``: the content check reports them,
    so an author writes real feedback rather than keeping a placeholder.
    """
    data = {"questions": [_question_data(g.question) for g in questions]}
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))


def _question_data(question: Question) -> dict[str, object]:
    if question.type is QuestionType.SHORT:
        short = {"type": "short", "prompt": question.prompt, "answers": list(question.answers)}
        return {"id": question.id, **short, "feedback": question.feedback}
    options = [
        {"text": o.text, **({"correct": True} if o.correct else {}), "feedback": o.feedback}
        for o in question.options
    ]
    return {"id": question.id, "prompt": question.prompt, "options": options}
