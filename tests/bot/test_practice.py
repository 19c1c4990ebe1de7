"""Spaced review, the weekly challenge and reminder settings, through the bot like Teams.

Every card is checked with Microsoft's Adaptive Cards renderer (the driver does it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fsrs import Rating

from server import keys
from teams_app.domain.learner import iso_week
from teams_app.domain.review import rating
from teams_app.domain.schedule import Cadence
from teams_app.domain.scoring import Confidence
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import LearnerKey
from tests.bot.play import answer_all, finish_a_lesson, make_reviews_due
from tests.support.activities import TeamsUser
from tests.support.driver import BotDriver, find_action, find_input, texts


def _key(bot: BotDriver) -> LearnerKey:
    return LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)


async def _ready(make_driver: Callable[..., Any], **user: Any) -> tuple[BotDriver, Any]:
    store = MemoryLearnerStore()
    bot = await make_driver(store, user=TeamsUser(service_url="", **user))
    await bot.install()
    await bot.click("choose_role", {"role": "finance"})
    return bot, store


async def test_a_finished_lesson_comes_back_as_review_questions_rated_by_fsrs(
    make_driver: Callable[..., Any], curriculum: Any
) -> None:
    bot, store = await _ready(make_driver)
    await finish_a_lesson(bot, curriculum, right=False, confidence="high")
    items = await store.review_items(_key(bot))
    state = (await store.get_profile(_key(bot))).state
    (lesson_id,) = state.completed
    lesson = curriculum.lesson(lesson_id)
    quiz = {f"{lesson_id}/{q.id}" for q in lesson.questions}
    pool = {f"{lesson_id}/{q.id}" for q in lesson.review_questions}
    assert {i.item for i in items} == quiz | pool, "the quiz, rated, and the pool, new"
    now = datetime.now(UTC)
    for item in items:
        if item.item in quiz:  # wrong answers: Again, back the next day
            assert item.card.last_review is not None
            assert timedelta(hours=23) < item.due - now < timedelta(days=1, hours=1)
        else:
            assert item.card.last_review is None and item.due - now > timedelta(days=1)

    nothing = await bot.say("review")
    assert "Nothing to review" in texts(nothing)
    assert "The next questions come back on" in texts(nothing)


async def test_a_review_session_asks_at_most_five_and_counts_towards_the_streak(
    make_driver: Callable[..., Any], curriculum: Any
) -> None:
    bot, store = await _ready(make_driver)
    await finish_a_lesson(bot, curriculum, right=False, confidence="low")
    await make_reviews_due(bot)
    before = {i.item: i for i in await store.review_items(_key(bot))}
    first = await bot.say("review")
    assert "Review 1 of 5" in texts(first)
    assert find_input(first, "confidence")["isRequired"] is True
    summary = await answer_all(bot, curriculum, first, lambda _skill: True, "medium")
    assert "Review done" in texts(summary)
    assert "5 of 5 right" in texts(summary)
    after = {i.item: i for i in await store.review_items(_key(bot))}
    moved = [k for k in after if after[k] != before[k]]
    assert len(moved) == 5, "each asked question was rated once"
    for item in moved:
        assert after[item].due > before[item].due, "right at medium: Good, later"
    state = (await store.get_profile(_key(bot))).state
    assert iso_week(datetime.now(UTC).date()) in state.active_weeks


async def test_a_redelivered_review_answer_rates_the_item_once(
    make_driver: Callable[..., Any], curriculum: Any
) -> None:
    bot, store = await _ready(make_driver)
    await finish_a_lesson(bot, curriculum)
    await make_reviews_due(bot)
    card = await bot.say("review")
    button = find_action(card, "answer")
    item = button["data"]["question"]
    from tests.bot.play import choice, question_of

    question, _ = question_of(curriculum, button)
    activity = bot.user.invoke(
        "answer", {**button["data"], "answer": choice(question, True), "confidence": "high"}
    )
    first = await bot.post(activity)
    rated_once = {i.item: i for i in await store.review_items(_key(bot))}[item]
    second = await bot.post(activity)
    assert await first.json() == await second.json(), "the same feedback card"
    assert {i.item: i for i in await store.review_items(_key(bot))}[item] == rated_once
    assert rating(True, Confidence.HIGH) is Rating.Easy


async def test_review_and_lesson_ask_before_abandoning_each_other(
    make_driver: Callable[..., Any], curriculum: Any
) -> None:
    bot, _store = await _ready(make_driver)
    await finish_a_lesson(bot, curriculum)
    await make_reviews_due(bot)
    card = await bot.say("review")
    button = find_action(card, "answer")
    from tests.bot.play import choice, question_of

    question, _ = question_of(curriculum, button)
    await bot.click(
        "answer", {**button["data"], "answer": choice(question, True), "confidence": "low"}
    )
    ask = await bot.click("start_lesson")
    assert "Work in progress" in texts(ask) and "through a review" in texts(ask)
    leave = find_action(ask, "start_lesson")
    assert leave["data"]["restart"] is True
    lesson = await bot.click("start_lesson", leave["data"])
    assert find_action(lesson, "start_quiz")


async def test_this_weeks_challenge_shows_its_rubric_and_keeps_done_or_skipped(
    make_driver: Callable[..., Any], curriculum: Any
) -> None:
    bot, store = await _ready(make_driver)
    card = await bot.say("challenge")
    done = find_action(card, "complete_challenge")
    challenge = curriculum.challenge(done["data"]["challenge"])
    assert "finance" in [r.value for r in challenge.roles], "the role's own challenge first"
    assert challenge.title in texts(card)
    for n, line in enumerate(challenge.rubric):
        assert find_input(card, f"check_{n}")["title"] == line
    reply = await bot.click(
        "complete_challenge",
        {**done["data"], "minutes": "25", "check_0": "yes", "check_1": "yes", "check_2": "no"},
    )
    assert "Challenge done" in texts(reply)
    assert f"You ticked 2 of {len(challenge.rubric)}" in texts(reply)
    state = (await store.get_profile(_key(bot))).state
    record = state.challenges[done["data"]["week"]]
    assert (record.challenge_id, record.done, record.minutes_saved, record.checks) == (
        challenge.id,
        True,
        25,
        2,
    )
    again = await bot.say("challenge")
    assert "Done: you ticked 2" in texts(again)
    assert find_input(again, "check_1")["value"] == "yes"

    bad = await bot.click("complete_challenge", {**done["data"], "minutes": "-5"})
    assert "Enter minutes from 0 to 2400" in texts(bad)
    skipped = await bot.click("skip_challenge", done["data"])
    assert "Skipped this week" in texts(skipped)
    record = (await store.get_profile(_key(bot))).state.challenges[done["data"]["week"]]
    assert record.done is False

    future = await bot.click("complete_challenge", {**done["data"], "week": "2999-W01"})
    assert "out of date" in texts(future)


async def test_settings_are_saved_and_bad_values_are_asked_again(
    make_driver: Callable[..., Any],
) -> None:
    bot, store = await _ready(make_driver, local_timezone="Europe/Paris")
    bot.user.local_timezone = "Europe/Paris"
    await bot.say("help")  # the zone comes with the learner's activities
    await bot.client.app[keys.SERVICES].background.drain()
    card = await bot.say("settings")
    assert find_input(card, "zone")["value"] == "Europe/Paris"
    assert find_input(card, "cadence")["value"] == "weekly"
    assert "Reminders are on" in texts(card)

    wrong = await bot.click(
        "save_settings", {"cadence": "daily", "hour": "10", "days": "0,1", "zone": "Mars/Base"}
    )
    assert "I don't know the time zone" in texts(wrong)
    no_days = await bot.click("save_settings", {"cadence": "daily", "hour": "10", "days": ""})
    assert "at least one day" in texts(no_days)
    saved = await bot.click(
        "save_settings",
        {"cadence": "twice-weekly", "hour": "14", "days": "0,2,4", "zone": "Asia/Tokyo"},
    )
    assert find_input(saved, "hour")["value"] == "14"
    contact = (await store.get_contact(_key(bot))).contact
    assert contact.preferences.cadence is Cadence.TWICE_WEEKLY
    assert (contact.preferences.hour, contact.preferences.working_days) == (
        14,
        frozenset({0, 2, 4}),
    )
    assert contact.time_zone == "Asia/Tokyo"


async def test_pause_stop_and_resume(make_driver: Callable[..., Any]) -> None:
    bot, store = await _ready(make_driver)

    async def prefs() -> Any:
        return (await store.get_contact(_key(bot))).contact.preferences

    paused = await bot.say("pause")
    assert "Reminders paused" in texts(paused)
    assert (await prefs()).paused is True
    resumed = await bot.click("resume_reminders")
    assert "Reminders are on" in texts(resumed)
    assert (await prefs()).paused is False
    stopped = await bot.say("stop")
    assert "Reminders stopped" in texts(stopped)
    assert (await prefs()).cadence is Cadence.OFF
    await bot.say("resume")
    assert (await prefs()).cadence is Cadence.WEEKLY


async def test_an_install_is_welcomed_once_however_often_teams_delivers_it(
    make_driver: Callable[..., Any],
) -> None:
    store = MemoryLearnerStore()
    bot = await make_driver(store)
    install = bot.user.installed()
    for _ in range(3):
        response = await bot.post(install)
        assert response.status in (200, 202)
    assert len(bot.connector.take_cards()) == 1, "one welcome"
    await bot.post(bot.user.installation_update("remove"))
    stored = await store.get_contact(_key(bot))
    assert stored is not None and stored.contact.unreachable, "uninstalled: nothing goes there"
    await bot.post(bot.user.installation_update("add"))
    await bot.post(bot.user.installed())  # a new install event: welcomed again
    assert len(bot.connector.take_cards()) == 1
    stored = await store.get_contact(_key(bot))
    assert stored is not None and not stored.contact.unreachable
