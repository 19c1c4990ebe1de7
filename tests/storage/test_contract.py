"""One contract for every LearnerStore: the in-memory fake and Azure Tables (on Azurite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

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
from teams_app.domain.review import answered as rated
from teams_app.domain.review import new_item, scheduler
from teams_app.domain.schedule import Cadence, Preferences
from teams_app.domain.scoring import Confidence, Tally
from teams_app.storage.engine_ports import Contact
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


def _contact(reference: dict[str, Any] | None = None, **changes: Any) -> Contact:
    return replace(Contact(reference or {"conversation": {"id": "c1"}}, NOW), **changes)


async def test_delete_removes_profile_history_and_reviews_but_can_keep_the_chat(
    store: LearnerStore,
) -> None:
    await store.save_profile(KEY, LearnerState(), None)
    for attempt in ("a1", "a2", "a3"):
        await store.add_attempt(KEY, _attempt(attempt))
    await store.save_review_items(KEY, [new_item("lesson-a/q1", NOW), new_item("lesson-a/q2", NOW)])
    await store.save_contact(KEY, _contact(), None)
    assert await store.delete_learner(KEY, keep_conversation=True) == 6
    assert await store.get_profile(KEY) is None
    assert await store.list_attempts(KEY) == []
    assert await store.review_items(KEY) == []
    assert await store.get_conversation(KEY) == {"conversation": {"id": "c1"}}
    await store.delete_learner(KEY)
    assert await store.get_conversation(KEY) is None
    assert await store.get_contact(KEY) is None


async def test_a_reset_deletes_history_and_review_items_and_keeps_profile_and_contact(
    store: LearnerStore,
) -> None:
    await store.save_profile(KEY, LearnerState(role=Role.HR), None)
    await store.add_attempt(KEY, _attempt("a1"))
    await store.save_review_items(KEY, [new_item("lesson-a/q1", NOW)])
    await store.save_contact(KEY, _contact(), None)
    assert await store.delete_history(KEY) == 2
    assert await store.review_items(KEY) == []
    assert await store.get_profile(KEY) is not None
    assert await store.get_contact(KEY) is not None


async def test_a_contact_round_trips_every_field(store: LearnerStore) -> None:
    contact = _contact(
        {"conversation": {"id": "a:1"}, "serviceUrl": "https://smba.example/emea/"},
        time_zone="America/Los_Angeles",
        preferences=Preferences(
            Cadence.DAILY, hour=14, working_days=frozenset({0, 2, 6}), paused=True
        ),
        unreachable=True,
        welcomed_by="activity-1",
        challenge_week="2026-W48",
        challenge_id="challenge-x",
        pulse_week="2026-W47",
        reviews_sent_on=date(2026, 11, 24),
        nudged_at=NOW - timedelta(days=3),
        last_sent_on=date(2026, 11, 25),
        next_check=NOW + timedelta(hours=5),
    )
    etag = await store.save_contact(KEY, contact, None)
    stored = await store.get_contact(KEY)
    assert stored is not None and stored.contact == contact and stored.etag == etag
    assert await store.get_conversation(KEY) == contact.reference


async def test_contacts_are_read_many_at_a_time(store: LearnerStore) -> None:
    others = LearnerKey("22222222-2222-4222-8222-222222222222", KEY.user_id)
    keys = [LearnerKey(KEY.tenant_id, f"user-{n:02d}") for n in range(40)] + [others]
    for n, key in enumerate(keys):
        if n % 3:  # every third learner has no contact
            await store.save_contact(key, _contact(time_zone=f"Etc/GMT-{n % 12}"), None)
    asked = [*keys, keys[1], LearnerKey(KEY.tenant_id, "nobody")]
    found = await store.get_contacts(asked)
    assert set(found) == {k for n, k in enumerate(keys) if n % 3}
    for n, key in enumerate(keys):
        if n % 3:
            assert found[key] == await store.get_contact(key)
            assert found[key].contact.time_zone == f"Etc/GMT-{n % 12}"
    assert await store.get_contacts([]) == {}


async def test_contacts_asked_for_among_many_others_are_all_found(store: LearnerStore) -> None:
    """A tenant's contacts asked for together lie far apart among others: each is found,
    once, and the missing ones (between them and past them) are not."""
    keys = [LearnerKey(KEY.tenant_id, f"user-{n:03d}") for n in range(300)]
    await asyncio.gather(
        *(
            store.save_contact(k, _contact(time_zone=f"Etc/GMT-{n % 12}"), None)
            for n, k in enumerate(keys)
        )
    )
    asked = [keys[n] for n in (0, 1, 2, 150, 299)]
    missing = [LearnerKey(KEY.tenant_id, user) for user in ("user-0005", "user-2995", "user-3")]
    found = await store.get_contacts([*missing, *asked])
    assert set(found) == set(asked)
    assert found[keys[150]].contact.time_zone == "Etc/GMT-6"
    assert found[keys[299]] == await store.get_contact(keys[299])


async def test_contact_writes_are_guarded_by_etag(store: LearnerStore) -> None:
    first = await store.save_contact(KEY, _contact(), None)
    with pytest.raises(ConcurrentUpdate):
        await store.save_contact(KEY, _contact(), None)  # a second create
    second = await store.save_contact(KEY, _contact(time_zone="Asia/Kolkata"), first)
    with pytest.raises(ConcurrentUpdate):
        await store.save_contact(KEY, _contact(time_zone="Europe/Paris"), first)  # stale
    stored = await store.get_contact(KEY)
    assert stored is not None and stored.etag == second
    assert stored.contact.time_zone == "Asia/Kolkata"


async def test_contact_writes_made_together_each_get_their_own_answer(
    store: LearnerStore,
) -> None:
    """A check saves a tenant's contacts together (one transaction on Azure Tables): each
    save still gets its own ETag, and one stale save among them fails alone."""
    keys = [LearnerKey(KEY.tenant_id, f"user-{n:02d}") for n in range(30)]
    etags = await asyncio.gather(*(store.save_contact(k, _contact(), None) for k in keys))
    stale = keys[7]
    await store.save_contact(stale, _contact(time_zone="Europe/Paris"), etags[7])  # moved on
    outcomes = await asyncio.gather(
        *(
            store.save_contact(k, _contact(time_zone="Asia/Kolkata"), etag)
            for k, etag in zip(keys, etags, strict=True)
        ),
        store.save_contact(LearnerKey(KEY.tenant_id, "new-one"), _contact(), None),
        return_exceptions=True,
    )
    assert isinstance(outcomes[7], ConcurrentUpdate)
    assert not any(isinstance(o, BaseException) for n, o in enumerate(outcomes) if n != 7)
    found = await store.get_contacts([*keys, LearnerKey(KEY.tenant_id, "new-one")])
    assert len(found) == len(keys) + 1
    for n, key in enumerate(keys):
        expected = "Europe/Paris" if n == 7 else "Asia/Kolkata"
        assert found[key].contact.time_zone == expected
        if n != 7:
            assert found[key].etag == outcomes[n], "the ETag each save returned is the row's"


async def test_review_items_round_trip_and_replace_by_id(store: LearnerStore) -> None:
    sched = scheduler(fuzz=False)
    first = new_item("lesson-a/q1", NOW)
    rated_item = rated(None, "lesson-a/q2", True, Confidence.HIGH, "att1", NOW, sched)
    await store.save_review_items(KEY, [first, rated_item])
    again = rated(first, "lesson-a/q1", False, Confidence.LOW, "att2", NOW, sched)
    await store.save_review_items(KEY, [again])
    found = {i.item: i for i in await store.review_items(KEY)}
    assert found == {"lesson-a/q1": again, "lesson-a/q2": rated_item}
    assert await store.review_items(LearnerKey(KEY.tenant_id, "someone-else")) == []


async def test_ping(store: LearnerStore) -> None:
    assert await store.ping() is True
