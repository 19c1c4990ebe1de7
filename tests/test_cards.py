"""Every card template renders with its sample data and passes Microsoft's renderer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from teams_app.bot.agent import ACTIONS
from teams_app.cards import CardError, CardRenderer, UserText, execute_verbs
from teams_app.verbs import Verb
from tests.support.cardcheck import CardValidator

CARDS = Path(__file__).resolve().parent.parent / "cards"
RENDERER = CardRenderer(CARDS)
NO_ACTIONS: dict[str, Any] = {
    "action_title": "",
    "action_verb": "",
    "action_data": {},
    "second_title": "",
    "second_verb": "",
    "second_data": {},
}


@pytest.fixture(scope="module")
def validator() -> Any:
    with CardValidator() as v:
        yield v


def _sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CARDS / "samples" / f"{name}.json").read_text())
    return data


@pytest.mark.parametrize("name", RENDERER.names)
def test_every_template_renders_cleanly_with_its_sample(
    name: str, validator: CardValidator
) -> None:
    card = RENDERER.render(name, _sample(name))
    assert card["version"] == "1.5"
    assert validator.validate(card) == []
    assert len(json.dumps(card).encode()) < 28_000
    assert "${" not in json.dumps(card), "every placeholder is filled"


def test_every_verb_has_exactly_one_handler_and_a_card_that_uses_it() -> None:
    assert set(ACTIONS) == set(Verb)
    static = {v for n in RENDERER.names for v in execute_verbs(RENDERER.template(n))}
    templated = {v for v in static if v.startswith("${")}
    assert templated == {"${action_verb}", "${second_verb}"}, (
        "only the notice card chooses its verbs at run time"
    )
    assert static - templated == {v.value for v in Verb}


def test_values_are_inserted_as_values_not_spliced_text() -> None:
    card = RENDERER.render(
        "notice",
        {
            "heading": 'quote " and \\ backslash',
            "title": "} ] { [",
            "text": "${heading}",
            **NO_ACTIONS,
        },
    )
    assert card["body"][1]["text"] == "} ] { ["
    assert card["body"][2]["text"] == "${heading}", "a value is never evaluated again"
    assert all(a.get("verb") != "" for a in card["actions"]), "$when dropped the empty action"


def test_user_text_is_cleaned_and_escaped() -> None:
    card = RENDERER.render(
        "welcome", {**_sample("welcome"), "name": UserText("**Eve**\n[x](http://e)\u0007")}
    )
    heading = card["body"][1]["text"]
    assert heading == r"Hi \*\*Eve\*\* \[x\](http://e), welcome to AI Ready"


def test_a_missing_value_or_template_is_a_loud_bug() -> None:
    with pytest.raises(CardError, match="no value"):
        RENDERER.render("notice", {"heading": "x"})
    with pytest.raises(CardError, match="no card template"):
        RENDERER.render("nope", {})


def test_an_unknown_verb_cannot_be_rendered() -> None:
    with pytest.raises(CardError, match="unknown verb"):
        RENDERER.render(
            "notice",
            {
                "heading": "h",
                "title": "t",
                "text": "x",
                **NO_ACTIONS,
                "action_title": "Go",
                "action_verb": "rm_rf",
            },
        )
