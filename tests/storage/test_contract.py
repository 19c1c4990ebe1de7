"""One contract for every LearnerStore: the in-memory fake and Azure Tables (on Azurite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from teams_app.domain.content import Role, SkillId
from teams_app.domain.learner import (
    Activity,
    ActivityKind,
    AnswerResult,
    LearnerState,
    LessonRecord,
    SkillLevel,
    SkillResult,
    Stage,
)
from teams_app.domain.scoring import Confidence, Tally
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import (
    AlreadyRecorded,
    AnswerRecord,
    ConcurrentUpdate,
    LearnerKey,
    LearnerStore,
)
from teams_app.storage.tables import TableLearnerStore
from tests.conftest import table_prefix
from tests.support.azurite import Azurite

KEY = LearnerKey("11111111-1111-4111-8111-111111111111", "00000000-0000-4000-8000-000000000001")
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["memory", "azure-tables"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[LearnerStore]:
    if request.param == "memory":
        yield MemoryLearnerStore()
        return
    azurite: Azurite = request.getfixturevalue("azurite")
    tables = TableLearnerStore.from_connection_string(azurite.connection_string, table_prefix())
    await tables.open()
    try:
        yield tables
    finally:
        await tables.close()


def _rich_state() -> LearnerState:
    result = AnswerResult("q1", "2", True, Confidence.HIGH, 3, SkillId.PROMPTING)
    return LearnerState(
        role=Role.FINANCE,
        activity=Activity(
            ActivityKind.LESSON, "att1", ("q1", "q2"), "foundation-x", Stage.QUIZ, (result,)
        ),
        skills={SkillId.PROMPTING: SkillResult(SkillLevel.GAP, 0, 2, -4)},
        assessed_on=date(2026, 11, 20),
        assessments_taken=1,
        seen_items=("a", "b"),
        completed={"l1": LessonRecord("l1", "x", 2, 3, 3, date(2026, 11, 21))},
        tallies={Confidence.HIGH: Tally(1, 1)},
        skill_tallies={SkillId.PROMPTING: {Confidence.HIGH: Tally(1, 1)}},
        active_weeks=("2026-W47",),
    )


def _answer(question: str = "q2", attempt: str = "att1") -> AnswerRecord:
    return AnswerRecord(
        kind="lesson",
        attempt=attempt,
        question_id=question,
        subject_id="foundation-x",
        response="1",
        correct=False,
        confidence=Confidence.MEDIUM,
        mark=-2,
        skill="prompting",
        answered_at=NOW,
    )


async def test_new_learner_has_no_profile(store: LearnerStore) -> None:
    assert await store.get_profile(KEY) is None


async def test_profile_round_trips_every_field(store: LearnerStore) -> None:
    state = _rich_state()
    etag = await store.save_profile(KEY, state, None)
    stored = await store.get_profile(KEY)
    assert stored is not None
    assert stored.state == state
    assert stored.etag == etag


async def test_creating_twice_is_a_conflict(store: LearnerStore) -> None:
    await store.save_profile(KEY, LearnerState(), None)
    with pytest.raises(ConcurrentUpdate):
        await store.save_profile(KEY, LearnerState(role=Role.IT), None)


async def test_stale_etag_is_refused_and_nothing_changes(store: LearnerStore) -> None:
    first = await store.save_profile(KEY, LearnerState(role=Role.HR), None)
    await store.save_profile(KEY, LearnerState(role=Role.IT), first)
    with pytest.raises(ConcurrentUpdate):
        await store.save_profile(KEY, LearnerState(role=Role.SALES), first)
    stored = await store.get_profile(KEY)
    assert stored is not None and stored.state.role is Role.IT


async def test_answer_and_profile_are_written_together(store: LearnerStore) -> None:
    etag = await store.save_profile(KEY, _rich_state(), None)
    new_state = LearnerState(role=Role.FINANCE, assessments_taken=7)
    new_etag = await store.record_answer(KEY, _answer(), new_state, etag)
    stored = await store.get_profile(KEY)
    assert stored is not None and stored.state == new_state and stored.etag == new_etag
    assert await store.get_answer(KEY, "lesson", "att1", "q2") == _answer()


async def test_a_replayed_answer_is_stored_once(store: LearnerStore) -> None:
    etag = await store.save_profile(KEY, LearnerState(), None)
    etag = await store.record_answer(KEY, _answer(), LearnerState(assessments_taken=1), etag)
    with pytest.raises(AlreadyRecorded):
        await store.record_answer(KEY, _answer(), LearnerState(assessments_taken=2), etag)
    assert len(await store.list_answers(KEY)) == 1
    stored = await store.get_profile(KEY)
    assert stored is not None and stored.state.assessments_taken == 1


async def test_an_answer_with_a_stale_etag_writes_neither_row(store: LearnerStore) -> None:
    stale = await store.save_profile(KEY, LearnerState(), None)
    await store.save_profile(KEY, LearnerState(role=Role.HR), stale)
    with pytest.raises(ConcurrentUpdate):
        await store.record_answer(KEY, _answer(), LearnerState(role=Role.IT), stale)
    assert await store.list_answers(KEY) == []
    stored = await store.get_profile(KEY)
    assert stored is not None and stored.state.role is Role.HR


async def test_concurrent_answers_to_one_question_count_once(store: LearnerStore) -> None:
    etag = await store.save_profile(KEY, LearnerState(), None)
    outcomes = await asyncio.gather(
        *(store.record_answer(KEY, _answer(), LearnerState(), etag) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(o, str) for o in outcomes) == 1
    assert all(isinstance(o, str | AlreadyRecorded | ConcurrentUpdate) for o in outcomes)
    assert len(await store.list_answers(KEY)) == 1


async def test_answers_list_in_time_order(store: LearnerStore) -> None:
    etag = await store.save_profile(KEY, LearnerState(), None)
    for i, question in enumerate(["b", "a", "c"]):
        answer = _answer(question)
        answer = replace(answer, answered_at=NOW + timedelta(seconds=i))
        etag = await store.record_answer(KEY, answer, LearnerState(), etag)
    assert [a.question_id for a in await store.list_answers(KEY)] == ["b", "a", "c"]


async def test_learners_and_tenants_never_share_rows(store: LearnerStore) -> None:
    other_user = LearnerKey(KEY.tenant_id, "someone-else")
    other_tenant = LearnerKey("22222222-2222-4222-8222-222222222222", KEY.user_id)
    etag = await store.save_profile(KEY, LearnerState(role=Role.HR), None)
    await store.record_answer(KEY, _answer(), LearnerState(role=Role.HR), etag)
    for other in (other_user, other_tenant):
        assert await store.get_profile(other) is None
        assert await store.list_answers(other) == []
        assert await store.get_answer(other, "lesson", "att1", "q2") is None


@pytest.mark.parametrize(
    "user_id", ["29:1a/b\\c#d?e", "user|with|pipes", "~tilde~", "émoji 🎉", "ctrl\x01\x7f"]
)
async def test_awkward_ids_are_safe_keys(store: LearnerStore, user_id: str) -> None:
    key = LearnerKey("tenant/with#odd?chars", user_id)
    await store.save_profile(key, LearnerState(role=Role.IT), None)
    stored = await store.get_profile(key)
    assert stored is not None and stored.state.role is Role.IT
    assert await store.get_profile(LearnerKey("tenant/with#odd?chars", user_id + "x")) is None


async def test_delete_removes_profile_and_answers_but_can_keep_the_chat(
    store: LearnerStore,
) -> None:
    etag = await store.save_profile(KEY, LearnerState(), None)
    for question in ("q1", "q2", "q3"):
        etag = await store.record_answer(KEY, _answer(question), LearnerState(), etag)
    await store.save_conversation(KEY, {"conversation": {"id": "c1"}})
    assert await store.delete_learner(KEY, keep_conversation=True) == 4
    assert await store.get_profile(KEY) is None
    assert await store.list_answers(KEY) == []
    assert await store.get_conversation(KEY) == {"conversation": {"id": "c1"}}
    await store.delete_learner(KEY)
    assert await store.get_conversation(KEY) is None


async def test_conversation_reference_round_trips(store: LearnerStore) -> None:
    reference = {"conversation": {"id": "a:1"}, "serviceUrl": "https://smba.example/emea/"}
    await store.save_conversation(KEY, reference)
    await store.save_conversation(KEY, {**reference, "serviceUrl": "https://new.example/"})
    found = await store.get_conversation(KEY)
    assert found is not None and found["serviceUrl"] == "https://new.example/"


async def test_ping(store: LearnerStore) -> None:
    assert await store.ping() is True
