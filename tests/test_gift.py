"""Tests for GIFT import and export (teams_app/gift.py).

Samples are written inline, in the GIFT a Moodle user writes or Moodle exports. Malformed
samples follow one good question, so every expected line number is past line 1.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from teams_app.content_files import check_content, load_curriculum
from teams_app.domain.content import Option, Question, QuestionType
from teams_app.gift import (
    GiftError,
    GiftErrors,
    GiftQuestion,
    parse_gift,
    parse_gift_all,
    questions_to_lesson_yaml,
    to_gift,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def only(text: str) -> GiftQuestion:
    """The single question in ``text``."""
    questions = parse_gift(text)
    assert len(questions) == 1, questions
    return questions[0]


def options(question: GiftQuestion) -> list[tuple[str, bool, str]]:
    return [(o.text, o.correct, o.feedback) for o in question.question.options]


def single(ident: str, prompt: str, *opts: tuple[str, bool, str]) -> Question:
    return Question(ident, prompt, options=tuple(Option(*o) for o in opts))


# --- import: question types ---------------------------------------------------------------


def test_multiple_choice_with_per_answer_feedback() -> None:
    got = only(
        "Who is buried in Grant's tomb? {\n"
        "  ~Grant # He is entombed, not buried.\n"
        "  =no one#Right: the tomb is above ground.\n"
        "  ~Jefferson\n"
        "}"
    )
    assert got.question.type is QuestionType.SINGLE
    assert got.question.prompt == "Who is buried in Grant's tomb?"
    assert options(got) == [
        ("Grant", False, "He is entombed, not buried."),
        ("no one", True, "Right: the tomb is above ground."),
        ("Jefferson", False, ""),
    ]


def test_general_feedback_is_added_to_every_option() -> None:
    got = only("Capital of France? {=Paris#Yes. ~Lyon ####Paris has been the capital since 987.}")
    assert options(got) == [
        ("Paris", True, "Yes. Paris has been the capital since 987."),
        ("Lyon", False, "Paris has been the capital since 987."),
    ]


def test_missing_word_question_puts_a_blank_where_the_answers_are() -> None:
    got = only("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert got.question.prompt == "Grant is _____ in Grant's tomb."
    assert [o.correct for o in got.question.options] == [False, True, False]


@pytest.mark.parametrize(
    ("block", "truth"),
    [("{T}", True), ("{TRUE}", True), ("{F}", False), ("{FALSE}", False), ("{true}", True)],
)
def test_true_false_forms_without_feedback_use_neutral_feedback(block: str, truth: bool) -> None:
    got = only(f"The sun rises in the east. {block}")
    neutral = "The statement is true." if truth else "The statement is false."
    assert options(got) == [("True", truth, neutral), ("False", not truth, neutral)]


def test_true_false_single_feedback_is_shown_after_a_wrong_answer() -> None:
    # Moodle: {T#a#b} shows a after a wrong answer and b after the right one.
    got = only("The sun rises in the east. {TRUE#No: it rises in the east.}")
    assert options(got) == [
        ("True", True, "The statement is true."),
        ("False", False, "No: it rises in the east."),
    ]


@pytest.mark.parametrize("flag", ["F", "FALSE"])
def test_true_false_with_two_feedbacks(flag: str) -> None:
    got = only(f"The moon is a planet. {{{flag}#It is a satellite.#Right, a satellite.}}")
    assert options(got) == [
        ("True", False, "It is a satellite."),
        ("False", True, "Right, a satellite."),
    ]


def test_true_false_with_empty_wrong_feedback_as_moodle_exports_it() -> None:
    got = only("Water boils at 100 C at sea level. {TRUE##Yes.####At 1 atm.}")
    assert options(got) == [("True", True, "Yes. At 1 atm."), ("False", False, "At 1 atm.")]


def test_short_answer_with_several_answers() -> None:
    got = only(
        "What does the R in RAG stand for? {\n"
        "  =retrieval # Retrieval-augmented generation.\n"
        "  =retrieving#Close enough.\n"
        "}"
    )
    assert got.question == Question(
        "q1",
        "What does the R in RAG stand for?",
        QuestionType.SHORT,
        answers=("retrieval", "retrieving"),
        feedback="Retrieval-augmented generation.",
    )


def test_short_answer_takes_general_feedback_and_moodle_full_weights() -> None:
    got = only("Capital of Italy? {=%100%Rome# =%100%Roma#####Rome since 1871.}")
    assert got.question.answers == ("Rome", "Roma")
    assert got.question.feedback == "Rome since 1871."


def test_wrong_answers_with_zero_weight_are_plain_wrong_answers() -> None:
    got = only("Pick one {=a ~%0%b}")
    assert options(got) == [("a", True, ""), ("b", False, "")]


# --- import: titles, ids, comments, categories, layout ----------------------------------


def test_titles_become_ids_and_untitled_questions_are_numbered() -> None:
    got = parse_gift(
        "::Capital of France:: Paris? {T}\n\n"
        "Untitled {T}\n\n"
        "::Capital of France:: Again? {T}\n\n"
        "::capital of france!:: Third? {T}\n\n"
        "::Café au lait?:: Milk? {T}\n\n"
        "::!!!:: Punctuation only {T}\n\n"
        "::q-7a:: Already an id {T}\n\n"
        f"::{'Long ' * 20}:: Long title {{T}}\n"
    )
    assert [g.question.id for g in got] == [
        "capital-of-france",
        "q2",
        "capital-of-france-2",
        "capital-of-france-3",
        "cafe-au-lait",
        "q6",
        "q-7a",
        ("long-" * 13).rstrip("-"),
    ]
    assert [g.title for g in got][:2] == ["Capital of France", None]


def test_numbered_id_that_clashes_with_a_title_gets_a_suffix() -> None:
    got = parse_gift("::q2:: First {T}\n\nSecond {F}\n")
    assert [g.question.id for g in got] == ["q2", "q2-2"]


def test_comment_lines_attach_to_their_question_only() -> None:
    got = parse_gift(
        "// A file comment, not about any question.\n\n"
        "// question: 12  name: Sky\n"
        "//   Checked by L&D.\n"
        "::Sky:: The sky is blue. {T}\n\n"
        "::Grass:: Grass is red. {F}\n"
    )
    assert [g.comment for g in got] == ["question: 12  name: Sky\nChecked by L&D.", None]
    assert [g.line for g in got] == [5, 7]


def test_category_lines_are_ignored() -> None:
    got = parse_gift(
        "$CATEGORY: $course$/top/AI basics\n\n"
        "Sky is blue {T}\n\n"
        "$CATEGORY: $course$/top/Other\n"
        "Grass is red {F}\n"
    )
    assert [g.question.prompt for g in got] == ["Sky is blue", "Grass is red"]


@pytest.mark.parametrize("marker", ["[markdown]", "[html]", "[plain]", "[moodle]"])
def test_format_markers_are_removed_from_every_text(marker: str) -> None:
    got = only(
        f"::t::{marker}**Q** {{={marker}right#{marker}Good. ~{marker}wrong ####{marker}More.}}"
    )
    assert got.question.prompt == "**Q**"
    assert options(got) == [("right", True, "Good. More."), ("wrong", False, "More.")]


def test_unknown_bracket_text_is_kept() -> None:
    assert only("[note] Read this. {T}").question.prompt == "[note] Read this."


def test_multi_line_question_and_answers() -> None:
    got = parse_gift(
        "Warm-up {T}\n"
        "   \n"  # a line with only spaces separates questions too
        "// about capitals\n"
        "::Capitals::\n"
        "    What is the capital\n"
        "    of France? {\n"
        "    =Paris\n"
        "        # Right: Paris.\n"
        "    ~Lyon # No,\n"
        "      Lyon is the third city.\n"
        "}\n"
    )
    question = got[1]
    assert question.line == 4
    assert question.title == "Capitals"
    assert question.question.prompt == "What is the capital\nof France?"
    assert options(question) == [
        ("Paris", True, "Right: Paris."),
        ("Lyon", False, "No,\nLyon is the third city."),
    ]


def test_windows_line_endings_and_byte_order_mark() -> None:
    got = parse_gift("\ufeff::a1:: One {T}\r\n\r\n::a2:: Two {\r\n=x\r\n~y\r\n}\r\n")
    assert [g.question.id for g in got] == ["a1", "a2"]
    assert options(got[1]) == [("x", True, ""), ("y", False, "")]


def test_every_escape_in_title_question_answers_and_feedback() -> None:
    got = only(
        r"::Esc\: all:: Tilde \~ equals \= hash \# braces \{\} colon \: slash \\ end\nnext {"
        "\n"
        r"  =a\~b\=c\#d#fb \~ \= \# \{ \} \: \\ \n!"
        "\n"
        r"  ~C:\Users\{x\}#ok"
        "\n}"
    )
    assert got.title == "Esc: all"
    assert got.question.id == "esc-all"
    assert got.question.prompt == ("Tilde ~ equals = hash # braces {} colon : slash \\ end\nnext")
    assert options(got) == [
        ("a~b=c#d", True, "fb ~ = # { } : \\ \n!"),
        ("C:\\Users{x}", False, "ok"),
    ]


def test_escaped_braces_do_not_open_an_answer_block() -> None:
    got = only(r"Is \{x\} a set? {=yes ~no}")
    assert got.question.prompt == "Is {x} a set?"


# --- import: errors ------------------------------------------------------------------------

GOOD = "::ok:: A good question first. {T}\n\n"  # lines 1-2, so the bad one starts at line 3


@pytest.mark.parametrize(
    ("bad", "line", "message"),
    [
        pytest.param("Q?\n{=a\n~b", 4, "'{' is not closed", id="unclosed-brace"),
        pytest.param("Q? =a}", 3, "'}' without an opening '{'", id="stray-brace"),
        pytest.param("Q?\n{ }", 4, "no answers", id="empty-block"),
        pytest.param("Q? {\n####Only feedback.\n}", 3, "no answers", id="only-general-feedback"),
        pytest.param("Q? {\n~a\n~b\n}", 3, "needs one right answer", id="mc-no-right"),
        pytest.param("Q? {\n=a\n~b\n=c\n}", 6, "several right answers", id="mc-two-right"),
        pytest.param("Q? {\n=a\n~%50%b\n}", 5, "weighted answers (%50%)", id="weighted-mc"),
        pytest.param("Q?\n{=%50%a =b}", 4, "weighted answers (%50%)", id="weighted-short"),
        pytest.param("Match {\n=cat -> meow\n=dog -> woof\n}", 3, "matching", id="matching"),
        pytest.param("Year?\n\n", 3, "no answer block", id="description"),
        pytest.param("When? {#1822:5}", 3, "numeric questions", id="numeric"),
        pytest.param("// c\n::t::\n{=a ~b}", 4, "missing question text", id="no-text"),
        pytest.param("{[html] =a ~b}", 3, "missing question text", id="no-text-at-all"),
        pytest.param("Q? {\n=a\n~\n}", 5, "empty answer text after '~'", id="empty-wrong"),
        pytest.param("Q? {=#Why. ~b}", 3, "empty answer text after '='", id="empty-right"),
        pytest.param("Q? {=ok =  }", 3, "empty answer text", id="empty-short"),
        pytest.param("::Title Q? {T}", 3, "title '::' is not closed", id="unclosed-title"),
        pytest.param("Q1 {T}\nQ2 {F}", 4, "separate questions with a blank line", id="no-gap"),
        pytest.param("Q? {paris}", 3, "must start with '=' (right) or '~'", id="no-marker"),
    ],
)
def test_malformed_question_is_reported_at_its_line(bad: str, line: int, message: str) -> None:
    questions, errors = parse_gift_all(GOOD + bad, "quiz.gift")
    assert [q.question.id for q in questions] == ["ok"]
    assert len(errors) == 1, errors
    assert errors[0].line == line
    assert message in errors[0].message
    assert str(errors[0]) == f"quiz.gift:{line}: {errors[0].message}"


def test_all_errors_of_a_file_are_collected_and_good_questions_kept() -> None:
    text = "A {T}\n\nB {~x ~y}\n\nC {=x ~y}\n\nD {#1}\n\n\nE {=x\n"
    questions, errors = parse_gift_all(text, "bank.gift")
    assert [q.question.prompt for q in questions] == ["A", "C"]
    assert [(e.line, e.source) for e in errors] == [
        (3, "bank.gift"),
        (7, "bank.gift"),
        (10, "bank.gift"),
    ]
    with pytest.raises(GiftErrors) as raised:
        parse_gift(text, source="bank.gift")
    assert [str(e) for e in raised.value.errors] == [str(e) for e in errors]
    assert str(raised.value).splitlines() == [str(e) for e in errors]


def test_gift_error_defaults_to_an_anonymous_source() -> None:
    assert str(GiftError("bad", 7)) == "<gift>:7: bad"


def test_empty_file_and_comment_only_file_have_no_questions() -> None:
    assert parse_gift("") == []
    assert parse_gift("// nothing here\n\n$CATEGORY: x\n") == []


# --- export --------------------------------------------------------------------------------


def test_export_layout() -> None:
    pick = single("q1", "Pick one", ("A", True, "Yes."), ("B", False, ""))
    name = Question("q2", "Name it", QuestionType.SHORT, answers=("x", "y"), feedback="Because.")
    assert to_gift([(None, pick), (None, name)]) == (
        "::q1::[markdown]Pick one {\n\t=A#Yes.\n\t~B\n}\n\n"
        "::q2::[markdown]Name it {\n\t=x\n\t=y\n\t####Because.\n}\n"
    )


def test_export_escapes_every_special_character() -> None:
    question = single("q1", "a~b=c#d{e}f:g\\h\ni", ("1=1", True, "x#y"), ("{}", False, "~"))
    assert to_gift([(None, question)]) == (
        "::q1::[markdown]a\\~b\\=c\\#d\\{e\\}f\\:g\\\\h\\ni {\n\t=1\\=1#x\\#y\n\t~\\{\\}#\\~\n}\n"
    )


def test_export_keeps_a_title_as_a_comment_and_the_id_as_the_gift_title() -> None:
    question = single(
        "capital", "Capital of France?", ("Paris", True, "Yes."), ("Lyon", False, "No.")
    )
    text = to_gift([("Capital of\nFrance", question), ("capital", question)])
    assert text.startswith("// Capital of France\n::capital::")
    first, second = parse_gift(text)
    assert (first.comment, first.title, first.question) == (
        "Capital of France",
        "capital",
        question,
    )
    assert second.comment is None
    assert second.question.id == "capital-2"


@pytest.mark.parametrize(
    "question",
    [
        pytest.param(single("q1", " ", ("a", True, ""), ("b", False, "")), id="empty-prompt"),
        pytest.param(single("q1", "Q", ("a", True, ""), ("", False, "")), id="empty-option"),
        pytest.param(single("q1", "Q", ("a", True, "")), id="one-option"),
        pytest.param(single("q1", "Q", ("a", True, ""), ("b", True, "")), id="two-right"),
        pytest.param(single("q1", "Q", ("a", False, ""), ("b", False, "")), id="none-right"),
        pytest.param(Question("q1", "Q", QuestionType.SHORT), id="no-answers"),
        pytest.param(Question("q1", "Q", QuestionType.SHORT, answers=("a->b",)), id="arrow"),
    ],
)
def test_export_refuses_questions_gift_cannot_carry(question: Question) -> None:
    with pytest.raises(ValueError, match="question 'q1'"):
        to_gift([(None, question)])


def test_round_trip_of_awkward_texts() -> None:
    questions = [
        single(
            "tricky-1",
            "Line one\nline two: {x} = ~y # z \\ end",
            ("[html] looks like a marker", True, "Feedback with #### inside"),
            ("%50% looks like a weight", False, "Multi\nline\\n feedback"),
            ("//not a comment", False, "~= #{}:\\"),
        ),
        Question(
            "tricky-2",
            "$CATEGORY: not a category",
            QuestionType.SHORT,
            answers=("%100%", "T", "[plain]x", "a\nb"),
            feedback="####",
        ),
        single("tricky-3", "[markdown]Twice", ("TRUE", True, "->"), ("=", False, "#")),
    ]
    text = to_gift((None, q) for q in questions)
    assert [g.question for g in parse_gift(text)] == questions


# Pieces that GIFT treats specially, so that generated texts hit them often.
_PIECES = [*"~=#{}:\\\n\t%[]-> ", "\\n", "\\~", "\n ", "\n\n", "\n//", "%5%", "[html]", "####"]
_TEXT = (
    st.lists(
        st.sampled_from(_PIECES) | st.characters(exclude_categories=("Cs", "Cc")),
        min_size=1,
        max_size=12,
    )
    .map(lambda parts: "".join(parts).strip())
    .filter(bool)
)
_FEEDBACK = _TEXT | st.just("")


@st.composite
def _questions(draw: st.DrawFn) -> list[Question]:
    ids = draw(
        st.lists(
            st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}", fullmatch=True),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    return [draw(_short(ident) | _choice(ident)) for ident in ids]


def _choice(ident: str) -> st.SearchStrategy[Question]:
    def build(prompt: str, opts: list[tuple[str, str]], right: int) -> Question:
        options = tuple(Option(t, i == right % len(opts), f) for i, (t, f) in enumerate(opts))
        return Question(ident, prompt, options=options)

    pairs = st.lists(st.tuples(_TEXT, _FEEDBACK), min_size=2, max_size=4)
    return st.builds(build, _TEXT, pairs, st.integers(0, 3))


def _short(ident: str) -> st.SearchStrategy[Question]:
    answer = _TEXT.filter(lambda a: "->" not in a)
    return st.builds(
        lambda prompt, answers, feedback: Question(
            ident, prompt, QuestionType.SHORT, answers=tuple(answers), feedback=feedback
        ),
        _TEXT,
        st.lists(answer, min_size=1, max_size=3),
        _FEEDBACK,
    )


@settings(max_examples=300, deadline=None)
@given(_questions())
def test_round_trip_property(questions: list[Question]) -> None:
    parsed = parse_gift(to_gift((None, q) for q in questions))
    assert [g.question for g in parsed] == questions
    assert [g.title for g in parsed] == [q.id for q in questions]


# --- lesson YAML ---------------------------------------------------------------------------

SAMPLE = """\
::Prediction:: A chatbot "looked the answer up". What happened? {
  =It predicted likely text.#Right: it generates text word by word.
  ~It searched verified facts.#Not unless a search tool is attached.
}

What does the R in RAG stand for? {=retrieval =Retrieval ####It fetches documents first.}
"""


def test_lesson_yaml_has_the_lesson_question_structure() -> None:
    data = yaml.safe_load(questions_to_lesson_yaml(parse_gift(SAMPLE)))
    assert data == {
        "questions": [
            {
                "id": "prediction",
                "prompt": 'A chatbot "looked the answer up". What happened?',
                "options": [
                    {
                        "text": "It predicted likely text.",
                        "correct": True,
                        "feedback": "Right: it generates text word by word.",
                    },
                    {
                        "text": "It searched verified facts.",
                        "feedback": "Not unless a search tool is attached.",
                    },
                ],
            },
            {
                "id": "q2",
                "type": "short",
                "prompt": "What does the R in RAG stand for?",
                "answers": ["retrieval", "Retrieval"],
                "feedback": "It fetches documents first.",
            },
        ]
    }


def test_lesson_yaml_keeps_texts_that_look_like_other_yaml_values() -> None:
    got = parse_gift("Yes or no? {=yes ~no ~'null' ~: x}\n\nNumber? {=42 =3.0}\n")
    data = yaml.safe_load(questions_to_lesson_yaml(got))
    assert [o["text"] for o in data["questions"][0]["options"]] == ["yes", "no", "'null'", ": x"]
    assert data["questions"][1]["answers"] == ["42", "3.0"]


def _shipped_review_questions() -> list[dict[str, object]]:
    shipped = REPO_ROOT / "content" / "tracks" / "foundation" / "01-what-genai-is.yaml"
    lesson = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    return list(lesson["questions"]) + list(lesson["review_questions"])[:1]


def _write_lesson(folder: Path, questions_yaml: str) -> None:
    """A one-lesson track in ``folder`` whose questions are ``questions_yaml``."""
    track = folder / "gift-import"
    track.mkdir()
    (track / "track.yaml").write_text(
        "id: gift-import\ntitle: Imported\nsummary: Imported from GIFT.\n"
        "roles: [it]\nlessons: [gift-import-lesson]\n",
        encoding="utf-8",
    )
    lesson = {
        "id": "gift-import-lesson",
        "title": "Imported questions",
        "skill": "ai-literacy",
        "concept": "A short concept. " * 10,
        "example": "A short example. " * 10,
        "try_it": "A short step. " * 10,
        "sources": [{"title": "Internal guide", "url": "https://example.com/guide"}],
        "reviewed": date(2026, 11, 30),
        "jurisdictions": ["global"],
        # A lesson also needs a review pool; the imported questions are what is under test.
        "review_questions": [
            {**q, "id": f"r{i}"} for i, q in enumerate(_shipped_review_questions(), start=1)
        ],
    }
    text = yaml.safe_dump(lesson, sort_keys=False) + questions_yaml
    (track / "lesson.yaml").write_text(text, encoding="utf-8")


def test_lesson_yaml_passes_the_content_check(tmp_path: Path) -> None:
    imported = parse_gift(SAMPLE)
    _write_lesson(tmp_path, questions_to_lesson_yaml(imported))
    assert [
        p for p in check_content(REPO_ROOT / "content", [tmp_path]) if tmp_path in p.path.parents
    ] == []
    lesson = load_curriculum(REPO_ROOT / "content", [tmp_path]).lesson("gift-import-lesson")
    assert lesson is not None
    assert lesson.questions == tuple(g.question for g in imported)


def test_missing_option_feedback_is_left_empty_for_the_content_check(tmp_path: Path) -> None:
    imported = parse_gift("Pick one {=a#Right. ~b}\n\nPick again {=c#Yes. ~d#No.}\n")
    out = questions_to_lesson_yaml(imported)
    assert yaml.safe_load(out)["questions"][0]["options"][1] == {"text": "b", "feedback": ""}
    _write_lesson(tmp_path, out)
    problems = [
        p for p in check_content(REPO_ROOT / "content", [tmp_path]) if tmp_path in p.path.parents
    ]
    assert len(problems) == 1
    assert "'feedback' must be non-empty" in problems[0].message
