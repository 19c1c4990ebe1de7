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
    Pulse,
    SkillLevel,
    SkillResult,
    Stage,
)
from teams_app.domain.scoring import Confidence, Tally
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import (
    AttemptRecord,
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
        pulses={"2026-W47": Pulse(4, 90, True), "2026-W48": Pulse(2, 0, False)},
        last_activity=Activity(ActivityKind.ASSESSMENT, "a0", ("i1",), None, Stage.QUIZ, (result,)),
    )


def _attempt(attempt: str = "att1", when: datetime = NOW) -> AttemptRecord:
    results = (
        AnswerResult("q1", "2", True, Confidence.HIGH, 3, SkillId.PROMPTING),
        AnswerResult("q2", "1", False, Confidence.MEDIUM, -2, SkillId.PROMPTING),
    )
    activity = Activity(
        ActivityKind.LESSON, attempt, ("q1", "q2"), "foundation-x", Stage.QUIZ, results
    )
    return AttemptRecord(activity=activity, finished=True, ended_at=when)


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


async def test_an_attempt_is_added_once(store: LearnerStore) -> None:
    assert await store.add_attempt(KEY, _attempt()) is True
    changed = replace(_attempt(), finished=False)
    assert await store.add_attempt(KEY, changed) is False
    assert await store.list_attempts(KEY) == [_attempt()], "the first write stands"


async def test_concurrent_duplicate_attempts_are_added_once(store: LearnerStore) -> None:
    outcomes = await asyncio.gather(*(store.add_attempt(KEY, _attempt()) for _ in range(6)))
    assert sorted(outcomes) == [False] * 5 + [True]
    assert len(await store.list_attempts(KEY)) == 1


async def test_concurrent_profile_writers_one_wins(store: LearnerStore) -> None:
    etag = await store.save_profile(KEY, LearnerState(), None)
    outcomes = await asyncio.gather(
        *(store.save_profile(KEY, LearnerState(assessments_taken=i), etag) for i in range(5)),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if isinstance(o, str)]
    assert len(winners) == 1
    assert all(isinstance(o, str | ConcurrentUpdate) for o in outcomes)
    stored = await store.get_profile(KEY)
    assert stored is not None and stored.etag == winners[0]


async def test_history_lists_in_time_order(store: LearnerStore) -> None:
    for i, attempt in enumerate(["b", "a", "c"]):
        await store.add_attempt(KEY, _attempt(attempt, NOW + timedelta(seconds=i)))
    assert [a.activity.attempt for a in await store.list_attempts(KEY)] == ["b", "a", "c"]


async def test_learners_and_tenants_never_share_rows(store: LearnerStore) -> None:
    other_user = LearnerKey(KEY.tenant_id, "someone-else")
    other_tenant = LearnerKey("22222222-2222-4222-8222-222222222222", KEY.user_id)
    await store.save_profile(KEY, LearnerState(role=Role.HR), None)
    await store.add_attempt(KEY, _attempt())
    for other in (other_user, other_tenant):
        assert await store.get_profile(other) is None
        assert await store.list_attempts(other) == []


@pytest.mark.parametrize(
    "user_id", ["29:1a/b\\c#d?e", "user|with|pipes", "~tilde~", "émoji 🎉", "ctrl\x01\x7f"]
)
async def test_awkward_ids_are_safe_keys(store: LearnerStore, user_id: str) -> None:
    key = LearnerKey("tenant/with#odd?chars", user_id)
    await store.save_profile(key, LearnerState(role=Role.IT), None)
    stored = await store.get_profile(key)
    assert stored is not None and stored.state.role is Role.IT
    assert await store.get_profile(LearnerKey("tenant/with#odd?chars", user_id + "x")) is None


async def test_delete_removes_profile_and_history_but_can_keep_the_chat(
    store: LearnerStore,
) -> None:
    await store.save_profile(KEY, LearnerState(), None)
    for attempt in ("a1", "a2", "a3"):
        await store.add_attempt(KEY, _attempt(attempt))
    await store.save_conversation(KEY, {"conversation": {"id": "c1"}})
    assert await store.delete_learner(KEY, keep_conversation=True) == 4
    assert await store.get_profile(KEY) is None
    assert await store.list_attempts(KEY) == []
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
