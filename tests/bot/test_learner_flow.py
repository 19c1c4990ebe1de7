"""End to end: the whole learner flow over real HTTP, stored in Azurite.

Install → welcome → role → skills check (8 questions with confidence) → profile and path →
a lesson read and answered → summary with streak → next lesson; then text commands. Every
card is checked by Microsoft's Adaptive Cards library on the way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from azure.data.tables.aio import TableClient

from teams_app.domain.content import Curriculum, SkillId
from teams_app.domain.learner import LearnerState
from teams_app.storage.ports import LearnerKey
from teams_app.storage.tables import TableLearnerStore
from tests.bot.play import answer_all
from tests.support.driver import answers_stored, find_action, find_input, texts


async def test_a_new_employee_goes_from_install_to_a_finished_lesson(
    make_driver: Callable[..., Any], table_store: TableLearnerStore, curriculum: Curriculum
) -> None:
    bot = await make_driver(table_store)
    key = LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)

    welcome = await bot.install()
    assert "Ada Lovelace" in texts(welcome)
    roles = [c["value"] for c in find_input(welcome, "role")["choices"]]
    assert roles == [
        "everyone",
        "hr",
        "marketing",
        "finance",
        "it",
        "sales",
        "support",
        "engineering",
        "leader",
    ]
    assert await table_store.get_conversation(key) is not None

    intro = await bot.click("choose_role", {"role": "finance"})
    assert "8 to 16 questions" in texts(intro)

    first = await bot.click("start_assessment")
    assert "Question 1" in texts(first)
    strong = {SkillId.AI_LITERACY, SkillId.PROMPTING}
    profile = await answer_all(bot, curriculum, first, lambda skill: skill in strong)
    shown = texts(profile)
    assert "Your skills profile" in shown
    assert "Mastered" in shown and "Strong" not in shown, "the tabs' word for it"
    assert "Foundation, AI at work now, then Finance" in shown
    stored = await table_store.get_profile(key)
    assert stored is not None and stored.state.activity is None
    # The check climbs where answers are right and stops early where they are not.
    assert {s: (r.right, r.total) for s, r in stored.state.skills.items()} == {
        SkillId.AI_LITERACY: (4, 4),
        SkillId.PROMPTING: (4, 4),
        SkillId.DATA_INTERPRETATION: (0, 2),
        SkillId.CRITICAL_THINKING: (0, 2),
    }
    assert len(await answers_stored(table_store, key)) == 12

    lesson_card = await bot.click("start_lesson", find_action(profile, "start_lesson").get("data"))
    start = find_action(lesson_card, "start_quiz")
    stored = await table_store.get_profile(key)
    assert stored is not None and stored.state.activity is not None
    lesson = curriculum.lesson(stored.state.activity.lesson_id or "")
    assert lesson is not None
    assert lesson.skill not in strong, "a focus lesson comes before mastered ones"
    assert lesson.title in texts(lesson_card) and "Try it now" in texts(lesson_card)

    quiz = await bot.click("start_quiz", start["data"])
    by_id = {q.id: q for q in lesson.questions}
    summary = await answer_all(bot, curriculum, quiz, lambda _: True, "medium", by_id)
    n = len(lesson.questions)
    assert f"{n} of {n}" in texts(summary)
    assert f"+{2 * n} marks" in texts(summary)  # medium confidence: +2 each
    assert f"out of a best possible +{3 * n} marks" in texts(summary)
    assert "Weekly streak" in texts(summary)

    stored = await table_store.get_profile(key)
    assert stored is not None
    record = stored.state.completed[lesson.id]
    assert (record.right, record.total, record.mark) == (n, n, 2 * n)
    assert len(stored.state.active_weeks) == 1
    assert len(await answers_stored(table_store, key)) == 12 + n

    following = await bot.click("start_lesson", None)
    assert "Take the quiz" in texts(following)
    assert lesson.title not in texts(following)


async def test_text_commands_always_answer_with_a_card(
    make_driver: Callable[..., Any], table_store: TableLearnerStore
) -> None:
    bot = await make_driver(table_store)
    await bot.install()
    assert "What you can do" in texts(await bot.say("help"))
    assert "Which role fits" in texts(await bot.say("start"))  # no role yet
    await bot.click("choose_role", {"role": "everyone"})
    assert "skills check" in texts(await bot.say("Start"))
    assert "Your AI Ready progress" in texts(await bot.say("progress"))
    assert "Which role fits" in texts(await bot.say("role"))
    assert "Take the quiz" in texts(await bot.say("next"))
    assert "Start over" in texts(await bot.say("reset"))
    assert "didn't catch that" in texts(await bot.say("what is the meaning of life?"))
    assert "I'm AI Ready" in texts(await bot.say("hi!"))


async def test_a_learner_can_leave_mid_lesson_and_resume(
    make_driver: Callable[..., Any], table_store: TableLearnerStore, curriculum: Curriculum
) -> None:
    bot = await make_driver(table_store)
    await bot.install()
    await bot.click("choose_role", {"role": "everyone"})
    lesson_card = await bot.click("start_lesson")
    quiz = await bot.click("start_quiz", find_action(lesson_card, "start_quiz")["data"])
    button = find_action(quiz, "answer")
    await bot.click("answer", {**button["data"], "answer": "0", "confidence": "low"})

    resumed = await bot.say("start")  # days later, in a new message
    assert "Question 2 of" in texts(resumed)
    assert find_action(resumed, "answer")["data"]["attempt"] == button["data"]["attempt"]


async def test_reset_asks_first_and_then_starts_fresh(
    make_driver: Callable[..., Any], table_store: TableLearnerStore
) -> None:
    bot = await make_driver(table_store)
    key = LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)
    await bot.install()
    await bot.click("choose_role", {"role": "hr"})
    confirm = await bot.say("reset")
    find_action(confirm, "cancel_reset")
    kept = await bot.click("cancel_reset")
    assert "Nothing changed" in texts(kept)
    assert (await table_store.get_profile(key)) is not None

    fresh = await bot.click("confirm_reset")
    assert "Which role fits" in texts(fresh)
    stored = await table_store.get_profile(key)
    assert stored is not None
    assert replace(stored.state, handled=(), last_active=None) == LearnerState()
    assert await table_store.list_attempts(key) == []
    assert await table_store.get_conversation(key) is not None, "the chat is kept"


async def test_changing_role_keeps_progress(
    make_driver: Callable[..., Any], table_store: TableLearnerStore
) -> None:
    bot = await make_driver(table_store)
    key = LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)
    await bot.install()
    await bot.click("choose_role", {"role": "hr"})
    await bot.click("start_lesson")
    changed = await bot.click("choose_role", {"role": "engineering"})
    assert "Software engineering track" in texts(changed)
    stored = await table_store.get_profile(key)
    assert stored is not None and stored.state.activity is not None


async def test_stored_rows_use_the_documented_keys(
    make_driver: Callable[..., Any], table_store: TableLearnerStore, azurite: Any
) -> None:
    bot = await make_driver(table_store)
    await bot.install()
    await bot.click("choose_role", {"role": "hr"})
    table = TableClient.from_connection_string(
        azurite.connection_string, table_store._learners.table_name
    )
    async with table:
        rows = [r async for r in table.list_entities()]
    assert [(r["PartitionKey"], r["RowKey"]) for r in rows] == [
        (f"{bot.user.tenant_id}|{bot.user.aad_object_id}", "profile")
    ]
    assert rows[0]["Role"] == "hr"


async def test_my_data_and_delete_my_data_from_the_chat(
    make_driver: Callable[..., Any], table_store: TableLearnerStore
) -> None:
    bot = await make_driver(table_store)
    key = LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)
    await bot.install()
    await bot.click("choose_role", {"role": "marketing"})
    shown = texts(await bot.say("my data"))
    assert "Marketing" in shown and "Kept, so I can send you reminders" in shown

    confirm = await bot.say("delete my data")
    assert "can't be undone" in texts(confirm)
    kept = await bot.click("cancel_reset")
    assert "Nothing changed" in texts(kept)
    assert await table_store.get_profile(key) is not None

    done = await bot.click("confirm_delete_data")
    assert "Your data is deleted" in texts(done)
    assert await table_store.get_profile(key) is None
    assert await table_store.get_conversation(key) is None
    assert await table_store.list_attempts(key) == []


async def test_the_weekly_pulse_is_kept_per_week(
    make_driver: Callable[..., Any], table_store: TableLearnerStore
) -> None:
    bot = await make_driver(table_store)
    key = LearnerKey(bot.user.tenant_id, bot.user.aad_object_id)
    await bot.install()
    card = await bot.say("pulse")
    week = find_action(card, "submit_pulse")["data"]["week"]
    bad = await bot.click("submit_pulse", {"week": week, "confidence": "9", "minutes": "30"})
    assert "Pick a confidence from 1 to 5" in texts(bad)
    thanks = await bot.click(
        "submit_pulse", {"week": week, "confidence": "4", "minutes": "45", "caught": "yes"}
    )
    assert "Thanks, pulse received" in texts(thanks)
    again = await bot.click("submit_pulse", {"week": week, "confidence": "3", "minutes": "20"})
    assert "Thanks" in texts(again)
    stored = await table_store.get_profile(key)
    assert stored is not None
    assert list(stored.state.pulses) == [week]
    pulse = stored.state.pulses[week]
    assert (pulse.confidence, pulse.minutes_saved, pulse.caught_error) == (3, 20, False)
    prefilled = await bot.say("pulse")
    assert find_input(prefilled, "confidence")["value"] == "3"
    future = await bot.click(
        "submit_pulse", {"week": "2999-W01", "confidence": "3", "minutes": "1"}
    )
    assert "out of date" in texts(future)
