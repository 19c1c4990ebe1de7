"""Tests for the Adaptive Card validator (tools/validate_cards.mjs + tests/support/cardcheck.py).

Every broken card is the known-good card with one defect added, so each test shows that the
validator accepts the good card and rejects exactly because of that defect.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cardcheck import REPO_ROOT, CardValidator, CardValidatorError

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
Card = dict[str, Any]


@pytest.fixture(scope="module")
def validator() -> Iterator[CardValidator]:
    """One validator worker for the whole module."""
    with CardValidator() as v:
        yield v


def good_card() -> Card:
    """A correct Adaptive Card 1.5 using the features the bot relies on."""
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "msteams": {
            "width": "Full",
            "entities": [
                {
                    "type": "mention",
                    "text": "<at>Ada</at>",
                    "mentioned": {"id": "29:1", "name": "Ada"},
                }
            ],
        },
        "refresh": {
            "action": {"type": "Action.Execute", "verb": "refreshLesson", "title": "Refresh"},
            "userIds": ["29:abc"],
        },
        "body": [
            {
                "type": "TextBlock",
                "text": "Today's AI lesson",
                "size": "Large",
                "weight": "Bolder",
                "style": "heading",
                "wrap": True,
            },
            {
                "type": "RichTextBlock",
                "inlines": [
                    {"type": "TextRun", "text": "Prompting ", "weight": "Bolder"},
                    {"type": "TextRun", "text": "with examples", "italic": True},
                ],
            },
            {
                "type": "ColumnSet",
                "columns": [
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [
                            {
                                "type": "Image",
                                "url": "https://example.com/icon.png",
                                "size": "Small",
                                "altText": "Lesson icon",
                            }
                        ],
                    },
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [
                            {
                                "type": "FactSet",
                                "facts": [
                                    {"title": "Level", "value": "Beginner"},
                                    {"title": "Time", "value": "5 min"},
                                ],
                            }
                        ],
                    },
                ],
            },
            {
                "type": "Container",
                "id": "details",
                "isVisible": False,
                "style": "emphasis",
                "items": [{"type": "TextBlock", "text": "More detail here.", "wrap": True}],
            },
            {
                "type": "Input.ChoiceSet",
                "id": "answer",
                "style": "expanded",
                "label": "Which prompt is better?",
                "isRequired": True,
                "errorMessage": "Pick an answer",
                "choices": [
                    {"title": "Prompt A", "value": "a"},
                    {"title": "Prompt B", "value": "b"},
                ],
            },
            {
                "type": "Input.Text",
                "id": "comment",
                "label": "Comment",
                "isMultiline": True,
                "maxLength": 500,
                "placeholder": "Optional",
            },
            {
                "type": "Table",
                "columns": [{"width": 1}, {"width": 2}],
                "rows": [
                    {
                        "type": "TableRow",
                        "cells": [
                            {"type": "TableCell", "items": [{"type": "TextBlock", "text": "A"}]},
                            {"type": "TableCell", "items": [{"type": "TextBlock", "text": "B"}]},
                        ],
                    }
                ],
            },
            {
                "type": "ActionSet",
                "actions": [
                    {
                        "type": "Action.ToggleVisibility",
                        "title": "Show details",
                        "targetElements": ["details"],
                    },
                    {
                        "type": "Action.Execute",
                        "title": "Hint",
                        "verb": "hint",
                        "data": {"lesson": "l1"},
                    },
                ],
            },
            {
                # Other 1.5 features the bot may use; none may produce a problem.
                "type": "Container",
                "style": "accent",
                "bleed": True,
                "separator": True,
                "spacing": "Medium",
                "minHeight": "60px",
                "verticalContentAlignment": "Center",
                "rtl": False,
                "backgroundImage": {"url": "https://example.com/bg.png", "fillMode": "cover"},
                "selectAction": {"type": "Action.Execute", "verb": "openLesson", "title": "Open"},
                "items": [
                    {
                        "type": "ImageSet",
                        "imageSize": "small",
                        "images": [
                            {"type": "Image", "url": "https://example.com/a.png", "altText": "A"},
                            {
                                "type": "Image",
                                "url": "data:image/png;base64,iVBORw0KGgo=",
                                "altText": "B",
                                "msteams": {"allowExpand": True},
                            },
                        ],
                    },
                    {
                        "type": "TextBlock",
                        "text": "Hello <at>Ada</at>",
                        "color": "Good",
                        "isSubtle": True,
                        "horizontalAlignment": "Center",
                        "maxLines": 2,
                        "fontType": "Monospace",
                        "fallback": "drop",
                    },
                    {"type": "Input.Toggle", "id": "optin", "title": "Remind me", "value": "true"},
                    {"type": "Input.Date", "id": "when", "label": "Date", "min": "2026-01-01"},
                    {"type": "Input.Time", "id": "at", "label": "Time"},
                    {"type": "Input.Number", "id": "mins", "label": "Minutes", "min": 1, "max": 60},
                    {
                        "type": "Input.Text",
                        "id": "email",
                        "label": "Email",
                        "style": "Email",
                        "regex": "^[^@]+@[^@]+$",
                        "inlineAction": {
                            "type": "Action.Execute",
                            "verb": "saveEmail",
                            "title": "Save",
                            "iconUrl": "https://example.com/save.png",
                            "tooltip": "Save email",
                        },
                    },
                    {
                        "type": "ActionSet",
                        "actions": [
                            {
                                "type": "Action.Execute",
                                "verb": "later",
                                "title": "Later",
                                "mode": "secondary",
                                "isEnabled": True,
                                "associatedInputs": "none",
                            }
                        ],
                    },
                ],
            },
        ],
        "actions": [
            {
                "type": "Action.Execute",
                "title": "Submit answer",
                "verb": "submitAnswer",
                "associatedInputs": "auto",
                "style": "positive",
                "data": {"lesson": "l1", "type": "Action.Submit"},  # payload is not card content
            },
            {"type": "Action.OpenUrl", "title": "Learn more", "url": "https://example.com/ai"},
            {
                "type": "Action.ShowCard",
                "title": "Rate",
                "card": {
                    "type": "AdaptiveCard",
                    "body": [
                        {
                            "type": "Input.ChoiceSet",
                            "id": "rating",
                            "label": "Rating",
                            "style": "filtered",
                            "choices": [{"title": str(i), "value": str(i)} for i in range(1, 6)],
                        }
                    ],
                    "actions": [{"type": "Action.Execute", "title": "Rate", "verb": "rate"}],
                },
            },
        ],
    }


# ---------------------------------------------------------------------------------------------
# Mutations: each adds exactly one defect to the good card.
# ---------------------------------------------------------------------------------------------
def _body(card: Card) -> list[Any]:
    body: list[Any] = card["body"]
    return body


def unknown_element(card: Card) -> None:
    _body(card).append({"type": "Widget", "text": "?"})


def unknown_element_with_fallback_drop(card: Card) -> None:
    _body(card).append({"type": "Widget", "fallback": "drop"})


def input_without_id(card: Card) -> None:
    del _body(card)[5]["id"]


def duplicate_input_ids(card: Card) -> None:
    _body(card)[5]["id"] = "answer"


def empty_choice_set(card: Card) -> None:
    _body(card)[4]["choices"] = []


def choice_without_value(card: Card) -> None:
    _body(card)[4]["choices"][0] = {"title": "Prompt A"}


def bad_size(card: Card) -> None:
    _body(card)[0]["size"] = "huge"


def bad_image_url(card: Card) -> None:
    _body(card)[2]["columns"][0]["items"][0]["url"] = "not a url"


def image_url_bad_scheme(card: Card) -> None:
    _body(card)[2]["columns"][0]["items"][0]["url"] = "javascript:alert(1)"


def image_without_url(card: Card) -> None:
    del _body(card)[2]["columns"][0]["items"][0]["url"]


def open_url_bad(card: Card) -> None:
    card["actions"][1]["url"] = "example.com/no-scheme"


def missing_verb(card: Card) -> None:
    del card["actions"][0]["verb"]


def empty_verb(card: Card) -> None:
    card["actions"][0]["verb"] = "  "


def non_string_verb(card: Card) -> None:
    card["actions"][0]["verb"] = 7


def missing_verb_in_action_set(card: Card) -> None:
    del _body(card)[7]["actions"][1]["verb"]


def missing_verb_in_show_card(card: Card) -> None:
    del card["actions"][2]["card"]["actions"][0]["verb"]


def missing_verb_in_select_action(card: Card) -> None:
    _body(card)[3]["selectAction"] = {"type": "Action.Execute", "title": "Open"}


def missing_verb_in_refresh(card: Card) -> None:
    del card["refresh"]["action"]["verb"]


def action_submit(card: Card) -> None:
    card["actions"].append({"type": "Action.Submit", "title": "Old style", "data": {"x": 1}})


def action_submit_in_show_card(card: Card) -> None:
    card["actions"][2]["card"]["actions"][0] = {"type": "Action.Submit", "title": "Rate"}


def version_1_6(card: Card) -> None:
    card["version"] = "1.6"


def version_1_4(card: Card) -> None:
    card["version"] = "1.4"


def version_missing(card: Card) -> None:
    del card["version"]


def schema_missing(card: Card) -> None:
    del card["$schema"]


def wrong_type(card: Card) -> None:
    card["type"] = "Card"


def element_from_1_6(card: Card) -> None:
    _body(card).append({"type": "Carousel", "pages": []})


def property_from_1_6(card: Card) -> None:
    _body(card)[4]["choices.data"] = {"type": "Data.Query", "dataset": "people"}


def too_many_actions(card: Card) -> None:
    card["actions"].extend(
        {"type": "Action.Execute", "title": f"Extra {i}", "verb": f"extra{i}"} for i in range(3)
    )


def toggle_without_targets(card: Card) -> None:
    del _body(card)[7]["actions"][0]["targetElements"]


def toggle_unknown_target(card: Card) -> None:
    _body(card)[7]["actions"][0]["targetElements"] = [{"elementId": "nope", "isVisible": True}]


def required_input_without_label(card: Card) -> None:
    del _body(card)[4]["label"]


def property_typo(card: Card) -> None:
    _body(card)[0]["wrapp"] = True


def property_typo_on_action(card: Card) -> None:
    card["actions"][0]["verbb"] = "x"


def property_typo_top_level(card: Card) -> None:
    card["bodyy"] = []


def body_not_array(card: Card) -> None:
    card["body"] = card["body"][0]


def text_block_without_text(card: Card) -> None:
    del _body(card)[0]["text"]


def fact_without_value(card: Card) -> None:
    del _body(card)[2]["columns"][1]["items"][0]["facts"][0]["value"]


def thirty_kb(card: Card) -> None:
    _body(card).append({"type": "TextBlock", "text": "x" * 30_000, "wrap": True})


BROKEN: list[tuple[Callable[[Card], None], list[str]]] = [
    (unknown_element, ["UnknownElementType", '"Widget"']),
    (unknown_element_with_fallback_drop, ["UnknownElementType"]),
    (input_without_id, ["All inputs must have a unique Id"]),
    (duplicate_input_ids, ["DuplicateId", '"answer"']),
    (empty_choice_set, ["CollectionCantBeEmpty", "at least one choice"]),
    (choice_without_value, ["title and value"]),
    (bad_size, ["InvalidPropertyValue", '"huge"', '"size"']),
    (bad_image_url, ["Image url is not a valid absolute URL"]),
    (image_url_bad_scheme, ['unsupported scheme "javascript:"']),
    (image_without_url, ["Image url must be a non-empty URL string"]),
    (open_url_bad, ["Action.OpenUrl url is not a valid absolute URL"]),
    (missing_verb, ['$.actions[0]: Action.Execute must have a non-empty string "verb"']),
    (empty_verb, ["Action.Execute must have a non-empty string"]),
    (non_string_verb, ["Action.Execute must have a non-empty string"]),
    (missing_verb_in_action_set, ["$.body[7].actions[1]: Action.Execute"]),
    (missing_verb_in_show_card, ["$.actions[2].card.actions[0]: Action.Execute"]),
    (missing_verb_in_select_action, ["$.body[3].selectAction: Action.Execute"]),
    (missing_verb_in_refresh, ["$.refresh.action: Action.Execute"]),
    (action_submit, ["$.actions[3]: Action.Submit is not allowed"]),
    (action_submit_in_show_card, ["$.actions[2].card.actions[0]: Action.Submit is not allowed"]),
    (version_1_6, ['"version" must be exactly "1.5"', "UnsupportedCardVersion"]),
    (version_1_4, ['"version" must be exactly "1.5" (got "1.4")']),
    (version_missing, ['"version" must be exactly "1.5"']),
    (schema_missing, ['"$schema" must be']),
    (wrong_type, ['top-level "type" must be "AdaptiveCard"', "MissingCardType"]),
    (element_from_1_6, ["UnknownElementType", '"Carousel"']),
    (property_from_1_6, ["UnsupportedProperty", '"choices.data"']),
    (too_many_actions, ["TooManyActions"]),
    (toggle_without_targets, ['non-empty "targetElements" array']),
    (toggle_unknown_target, ['no element with id "nope"']),
    (required_input_without_label, ["Required inputs should have a label"]),
    (property_typo, ['unknown property "wrapp" on TextBlock']),
    (property_typo_on_action, ['unknown property "verbb" on Action.Execute']),
    (property_typo_top_level, ['unknown property "bodyy" on AdaptiveCard']),
    (body_not_array, ["$.body: must be an array"]),
    (text_block_without_text, ['$.body[0]: TextBlock must have a string "text"']),
    (fact_without_value, ["$.body[2].columns[1].items[0].facts[0]: a fact must have string"]),
    (thirty_kb, ["bytes (UTF-8); it must be < 28000"]),
]


def test_good_card_is_valid(validator: CardValidator) -> None:
    assert validator.validate(good_card()) == []


def test_good_card_is_not_modified(validator: CardValidator) -> None:
    card = good_card()
    validator.validate(card)
    assert card == good_card()


@pytest.mark.parametrize(
    ("mutate", "expected"), BROKEN, ids=[mutate.__name__ for mutate, _ in BROKEN]
)
def test_broken_card_is_rejected(
    validator: CardValidator, mutate: Callable[[Card], None], expected: list[str]
) -> None:
    card = copy.deepcopy(good_card())
    mutate(card)
    problems = validator.validate(card)
    assert problems, f"{mutate.__name__}: validator accepted a broken card"
    text = "\n".join(problems)
    for fragment in expected:
        assert fragment in text, f"{mutate.__name__}: {fragment!r} not reported in:\n{text}"


def test_library_reports_with_phase_and_event_name(validator: CardValidator) -> None:
    card = good_card()
    bad_size(card)
    duplicate_input_ids(card)
    problems = validator.validate(card)
    assert any(p.startswith("adaptivecards Parse/InvalidPropertyValue:") for p in problems)
    assert any(p.startswith("adaptivecards Validation/DuplicateId:") for p in problems)


def test_several_problems_are_all_reported(validator: CardValidator) -> None:
    card = good_card()
    missing_verb(card)
    action_submit(card)
    unknown_element(card)
    problems = validator.validate(card)
    text = "\n".join(problems)
    assert "must have a non-empty string" in text
    assert "Action.Submit is not allowed" in text
    assert "UnknownElementType" in text


def test_action_data_payload_is_not_inspected(validator: CardValidator) -> None:
    card = good_card()
    card["actions"][0]["data"] = {"type": "Action.Execute", "nested": {"type": "Action.Submit"}}
    assert validator.validate(card) == []


def test_size_limit_boundary(validator: CardValidator) -> None:
    card = good_card()
    base = len(json.dumps(card, separators=(",", ":")).encode())
    filler: Card = {"type": "TextBlock", "text": "", "wrap": True}
    overhead = len(json.dumps(filler, separators=(",", ":")).encode()) + 1  # + comma
    filler["text"] = "x" * (27_999 - base - overhead)
    card["body"].append(filler)
    assert len(json.dumps(card, separators=(",", ":")).encode()) == 27_999
    assert validator.validate(card) == []
    filler["text"] += "x"  # 28,000 bytes
    assert any("28000 bytes" in p for p in validator.validate(card))


def test_size_counts_utf8_bytes(validator: CardValidator) -> None:
    card = good_card()
    card["body"].append({"type": "TextBlock", "text": "é" * 14_500, "wrap": True})  # 29 KB
    assert any("bytes (UTF-8)" in p for p in validator.validate(card))


def test_non_object_and_non_json_cards(validator: CardValidator) -> None:
    assert validator.validate([1, 2])  # type: ignore[arg-type]
    assert validator.validate({"body": float("nan")}) == [
        "card is not JSON-serializable: Out of range float values are not JSON compliant: nan"
    ]
    assert validator.validate({"x": object()})[0].startswith("card is not JSON-serializable")


def test_assert_valid(validator: CardValidator) -> None:
    validator.assert_valid(good_card(), "good card")
    card = good_card()
    missing_verb(card)
    with pytest.raises(AssertionError, match=r"lesson card is not a valid Adaptive Card"):
        validator.assert_valid(card, "lesson card")


def test_worker_keeps_answering_in_order(validator: CardValidator) -> None:
    broken = good_card()
    bad_size(broken)
    for i in range(20):
        card = broken if i % 2 else good_card()
        assert bool(validator.validate(card)) is bool(i % 2)


def test_validation_is_fast(validator: CardValidator) -> None:
    card = good_card()
    validator.validate(card)
    n = 100
    start = time.perf_counter()
    for _ in range(n):
        validator.validate(card)
    per_card = (time.perf_counter() - start) / n
    assert per_card < 0.05, f"{per_card * 1000:.1f} ms per card"


def test_missing_node_modules_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    shutil.copy(REPO_ROOT / "tools" / "validate_cards.mjs", tmp_path / "tools")
    with pytest.raises(CardValidatorError, match="npm ci"):
        CardValidator(repo_root=tmp_path)


def test_missing_node_is_a_clear_error() -> None:
    with pytest.raises(CardValidatorError, match="not found on PATH"):
        CardValidator(node="definitely-not-node-xyz")


def test_close_stops_worker_and_is_idempotent() -> None:
    with CardValidator() as v:
        assert v.validate(good_card()) == []
    v.close()
    with pytest.raises(CardValidatorError, match="closed"):
        v.validate(good_card())


def _node() -> str:
    node = shutil.which("node")
    assert node is not None
    return node


def test_worker_protocol_directly() -> None:
    requests = [
        json.dumps({"id": "good", "card": good_card()}),
        "not json",
        json.dumps({"id": "nocard"}),
        json.dumps({"id": 3, "card": {"type": "AdaptiveCard"}}),
    ]
    result = subprocess.run(  # noqa: S603
        [_node(), str(REPO_ROOT / "tools" / "validate_cards.mjs")],
        input="\n".join(requests) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in lines] == ["good", None, "nocard", 3]
    assert lines[0] == {"id": "good", "ok": True, "problems": []}
    assert [r["ok"] for r in lines[1:]] == [False, False, False]
    assert all(set(r) == {"id", "ok", "problems"} for r in lines)


def test_one_shot_mode(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(good_card()), encoding="utf-8")
    broken_card = good_card()
    missing_verb(broken_card)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(broken_card), encoding="utf-8")
    script = str(REPO_ROOT / "tools" / "validate_cards.mjs")

    ok = subprocess.run(  # noqa: S603
        [_node(), script, str(good)], capture_output=True, text=True, timeout=60, check=False
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"OK   {good}" in ok.stdout

    bad = subprocess.run(  # noqa: S603
        [_node(), script, str(good), str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert f"FAIL {broken}" in bad.stdout
    assert 'Action.Execute must have a non-empty string "verb"' in bad.stdout


def test_dead_worker_is_a_clear_error() -> None:
    v = CardValidator()
    try:
        v._proc.kill()
        v._proc.wait(timeout=10)
        with pytest.raises(CardValidatorError, match="worker"):
            v.validate(good_card())
        with pytest.raises(CardValidatorError, match="unusable"):
            v.validate(good_card())
    finally:
        v.close()
