"""The bot speaks the language of the learner's Teams client, and nothing escapes the catalogs.

The pseudo-locale run plays the main screens with ``locale: qps-ploc``: every catalog message
then comes out accented between ⟦ ⟧ and 40 % longer, so any English word left on a card that
isn't content or the learner's name was written without the catalog, and every card still
passes Microsoft's renderer and stays under the 28 KB limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from teams_app import i18n
from teams_app.cards import MAX_CARD_BYTES
from teams_app.content_files import load_curriculum
from teams_app.domain.content import Role
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import LearnerKey
from tests.bot.play import choice, question_of
from tests.conftest import REPO_ROOT
from tests.support.activities import TeamsUser
from tests.support.driver import BotDriver, actions, find_action, texts
from tests.support.pseudo import card_text, curriculum_text, leaks

CURRICULUM = load_curriculum(REPO_ROOT / "content")
GERMAN = CURRICULUM.in_language("de")


async def _answer_through(
    bot: BotDriver, card: dict[str, Any], curriculum: Any, lesson: Any = None
) -> dict[str, Any]:
    """Answer every question from ``card`` on (right, high confidence) by verbs alone, never
    by reading the card's words; returns the results card."""
    while True:
        button = find_action(card, "answer")
        data = button["data"]
        if data["kind"] == "lesson":
            question = next(q for q in lesson.questions if q.id == data["question"])
        else:
            question, _skill = question_of(curriculum, button)
        feedback = await bot.click(
            "answer", {**data, "answer": choice(question, True), "confidence": "high"}
        )
        verbs = [a["verb"] for a in actions(feedback)]
        if "show_results" in verbs:
            return await bot.click("show_results", find_action(feedback, "show_results")["data"])
        card = await bot.click("continue", find_action(feedback, "continue")["data"])


async def _play_the_main_screens(bot: BotDriver, curriculum: Any) -> None:
    await bot.install()
    await bot.say("help")
    await bot.say("what is this")  # not a command: help with an apology
    await bot.click("show_role")
    await bot.click("choose_role", {"role": Role.HR.value})
    card = await bot.click("start_assessment")
    await _answer_through(bot, card, curriculum)
    lesson = curriculum.lesson(curriculum.track("hr").lesson_ids[0])
    card = await bot.click("start_lesson", {"lesson": lesson.id})
    quiz = await bot.click("start_quiz", find_action(card, "start_quiz")["data"])
    await _answer_through(bot, quiz, curriculum, lesson)
    for command in ("progress", "settings", "pulse", "challenge", "my data", "review", "reset"):
        await bot.say(command)
    await bot.say("pause")
    await bot.click("resume_reminders")
    await bot.click("submit_pulse", {"week": "2026-W01", "confidence": "9"})


async def test_in_the_pseudo_locale_every_card_string_comes_from_a_catalog(
    make_driver: Callable[..., Any],
) -> None:
    bot = await make_driver(MemoryLearnerStore(), TeamsUser(service_url="", locale="qps-ploc"))
    await _play_the_main_screens(bot, CURRICULUM)
    data = curriculum_text(CURRICULUM) | {bot.user.name, "Ada"}
    found: dict[str, list[str]] = {}
    for card in bot.seen:
        assert len(json.dumps(card, ensure_ascii=False).encode()) < MAX_CARD_BYTES
        for text in card_text(card):
            if words := leaks(text, data):
                found[text] = words
    assert len(bot.seen) >= 25
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)[:3000]


async def test_a_german_client_gets_german_cards_and_the_german_hr_track(
    make_driver: Callable[..., Any],
) -> None:
    bot = await make_driver(MemoryLearnerStore(), TeamsUser(service_url="", locale="de-DE"))
    welcome = await bot.install()
    with i18n.using(i18n.negotiate("de-DE")):
        assert i18n._("Your role") in texts(welcome)
        assert i18n._("Your role") != "Your role"
    await bot.click("choose_role", {"role": Role.HR.value})
    english = CURRICULUM.lesson("hr-ai-assisted-hiring")
    german = GERMAN.lesson("hr-ai-assisted-hiring")
    assert english is not None and german is not None and german.title != english.title
    card = await bot.click("start_lesson", {"lesson": german.id})
    assert german.title in texts(card) and english.title not in texts(card)
    assert german.concept.split("\n")[0][:60] in texts(card)
    # Progress is kept against ids, so it means the same in every language.
    quiz = await bot.click("start_quiz", find_action(card, "start_quiz")["data"])
    await _answer_through(bot, quiz, GERMAN, german)
    key = LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)
    stored = await bot.services.store.get_profile(key)
    assert stored is not None and german.id in stored.state.completed
    # A lesson without a German file is shown in English.
    foundation = CURRICULUM.track("foundation")
    assert foundation is not None
    first = CURRICULUM.lesson(foundation.lesson_ids[0])
    assert first is not None and GERMAN.lesson(first.id) == first


@pytest.mark.parametrize("tag", ["de-DE", "fr-FR", "es-ES", "ja-JP"])
async def test_command_words_work_in_the_clients_language(
    make_driver: Callable[..., Any], tag: str
) -> None:
    bot = await make_driver(MemoryLearnerStore(), TeamsUser(service_url="", locale=tag))
    await bot.install()
    with i18n.using(i18n.negotiate(tag)):
        word, title = i18n._("progress"), i18n._("My progress")
    assert word != "progress", f"{tag} has no word for the progress command"
    card = await bot.say(word)
    assert title in texts(card)
    card = await bot.say("progress")  # English always works too
    assert title in texts(card)


@pytest.mark.parametrize(
    ("tag", "typed", "command"),
    [
        ("fr-FR", "Rôle", "role"),
        ("fr-FR", "role", "role"),  # typed without its accent
        ("fr-FR", "reviser", "review"),
        ("es-ES", "AYUDA!", "help"),
        ("ja-JP", "ヘルプ", "help"),
        ("ja-JP", "ｈｅｌｐ", "help"),  # full-width letters from a Japanese keyboard
        ("de-DE", "hilfe", "help"),
    ],
)
def test_typed_commands_forgive_case_accents_and_width(tag: str, typed: str, command: str) -> None:
    from teams_app.bot.commands import parse_command

    with i18n.using(i18n.negotiate(tag)):
        assert parse_command(typed).value == command


def test_each_languages_command_words_are_distinct() -> None:
    from teams_app.bot.commands import LISTED, translated_words

    for code in i18n.LANGUAGES:
        words = translated_words(code)
        assert len(words) == len(LISTED), (code, words)
