"""Each track's first lesson plays through the bot's real flow, with valid cards throughout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from teams_app.content_files import load_curriculum
from teams_app.domain.content import Role
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import LearnerKey
from tests.bot.play import answer_all
from tests.conftest import REPO_ROOT
from tests.support.driver import find_action, texts

CURRICULUM = load_curriculum(REPO_ROOT / "content")


@pytest.mark.parametrize("track", CURRICULUM.tracks, ids=lambda t: t.id)
async def test_first_lesson_of_each_track(make_driver: Callable[..., Any], track: Any) -> None:
    store = MemoryLearnerStore()
    bot = await make_driver(store)
    role = track.roles[0] if track.roles[0] is not Role.EVERYONE else Role.EVERYONE
    await bot.install()
    await bot.click("choose_role", {"role": role.value})
    lesson = CURRICULUM.lesson(track.lesson_ids[0])
    assert lesson is not None
    card = await bot.click("start_lesson", {"lesson": lesson.id})
    assert lesson.title in texts(card)
    quiz = await bot.click("start_quiz", find_action(card, "start_quiz")["data"])
    by_id = {q.id: q for q in lesson.questions}
    summary = await answer_all(bot, CURRICULUM, quiz, lambda _: True, "high", by_id)
    n = len(lesson.questions)
    assert f"+{3 * n} marks out of a best possible +{3 * n} marks" in texts(summary)
    stored = await store.get_profile(LearnerKey(bot.user.tenant_id, bot.user.aad_object_id))
    assert stored is not None and lesson.id in stored.state.completed
