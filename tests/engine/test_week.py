"""A simulated fortnight of proactive messages: what arrives, when, and what never does.

Learners in six time zones install the app on a Monday morning (UTC). The engine then runs
in five-minute steps for two weeks; every message that reaches the local Bot Connector is
checked against the learner's clock and settings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from teams_app import i18n
from teams_app.domain.learner import iso_week
from teams_app.domain.schedule import Cadence, Preferences
from teams_app.engine.worker import VISIBILITY_SECONDS
from teams_app.storage.engine_ports import Claim, Outcome, State, StoredContact
from teams_app.storage.ports import LearnerKey, StorageUnavailable
from tests.engine.conftest import TENANT, Week, card_kind
from tests.support.cardcheck import CardValidator

MONDAY = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
ZONES = {
    "berlin": "Europe/Berlin",
    "newyork": "America/New_York",
    "kolkata": "Asia/Kolkata",
    "auckland": "Pacific/Auckland",
    "kathmandu": "Asia/Kathmandu",
    "losangeles": "America/Los_Angeles",
}


def _local(when: datetime, zone: str) -> datetime:
    return when.astimezone(ZoneInfo(zone))


async def test_a_fortnight_of_reminders_keeps_to_each_learners_hours_and_days(
    week: Callable[..., Any], card_validator: CardValidator
) -> None:
    w: Week = await week(MONDAY)
    for user, zone in ZONES.items():
        await w.learner(user, zone=zone)
    await w.run_until(MONDAY + timedelta(days=14))

    for user, zone in ZONES.items():
        received = w.sent_to(user)
        assert received, f"{user} got nothing"
        days = Counter(_local(when, zone).date() for when, _ in received)
        assert max(days.values()) == 1, f"{user}: at most one message a day"
        kinds_by_week: dict[str, Counter[str]] = {}
        for when, card in received:
            local = _local(when, zone)
            assert local.weekday() < 5, f"{user}: {local} is a weekend"
            assert 9 <= local.hour < 17, f"{user}: {local} is outside working hours"
            assert when >= MONDAY + timedelta(hours=24), f"{user}: inside the quiet first day"
            assert card_validator.validate(card) == [], "every proactive card is valid"
            kinds_by_week.setdefault(iso_week(local.date()), Counter())[card_kind(card)] += 1
        for iso, kinds in kinds_by_week.items():
            assert kinds["challenge"] <= 1 and kinds["pulse"] <= 1, f"{user} {iso}: {kinds}"
        second_week = iso_week(date(2026, 12, 2))
        assert kinds_by_week[second_week]["challenge"] == 1, f"{user}: the week's challenge"
        assert kinds_by_week[second_week]["pulse"] == 1, f"{user}: the week's pulse"
        pulse_times = [_local(t, zone) for t, c in received if card_kind(c) == "pulse"]
        assert all(t.weekday() == 4 and t.hour >= 15 for t in pulse_times), pulse_times
        assert "reviews" not in Counter(card_kind(c) for _, c in received), "none were due"

    ledger = w.services.engine.ledger
    for campaign in ("challenge-2026-W49", "pulse-2026-W49"):
        counts = await ledger.counts(campaign)
        assert counts[State.SENT.value] == len(ZONES), (campaign, counts)
        assert set(counts) == {State.SENT.value, "retried", "throttled"}, counts


async def test_the_first_challenge_comes_the_next_working_morning_after_the_quiet_day(
    week: Callable[..., Any],
) -> None:
    w: Week = await week(MONDAY)
    await w.learner("berlin", zone="Europe/Berlin")
    await w.run_until(MONDAY + timedelta(days=2))
    ((when, card),) = w.sent_to("berlin")
    assert card_kind(card) == "challenge"
    assert _local(when, "Europe/Berlin") == datetime(
        2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )


async def test_pause_and_stop_end_everything_and_resume_brings_it_back(
    week: Callable[..., Any],
) -> None:
    w: Week = await week(MONDAY)
    paused = await w.learner("paused")
    stopped = await w.learner("stopped")
    await w.learner("control")
    contacts = w.services.contacts
    await contacts.change_settings(paused, Preferences(paused=True))
    await contacts.change_settings(stopped, Preferences(cadence=Cadence.OFF))
    await w.run_until(MONDAY + timedelta(days=7))
    assert w.sent_to("paused") == [] and w.sent_to("stopped") == []
    assert w.sent_to("control"), "the control learner heard from us"

    await contacts.change_settings(paused, Preferences())
    await w.run_until(MONDAY + timedelta(days=9))
    resumed = [card_kind(c) for _, c in w.sent_to("paused")]
    assert resumed == ["challenge", "nudge"], "this week's challenge, then a nudge (idle 8 days)"


async def test_settings_saved_mid_week_move_the_next_message(week: Callable[..., Any]) -> None:
    w: Week = await week(MONDAY)
    key = await w.learner("late-riser")
    await w.services.contacts.change_settings(
        key, Preferences(hour=14, working_days=frozenset({2, 3})), "America/New_York"
    )
    await w.run_until(MONDAY + timedelta(days=7))
    (when,) = [t for t, c in w.sent_to("late-riser") if card_kind(c) == "challenge"]
    local = _local(when, "America/New_York")
    assert (local.weekday(), local.hour, local.minute) == (2, 14, 0), local


async def test_a_chat_that_refuses_gets_nothing_more_until_the_learner_writes(
    week: Callable[..., Any],
) -> None:
    w: Week = await week(MONDAY)
    key = await w.learner("blocker")
    w.connector.blocked.add("a:blocker")
    await w.run_until(MONDAY + timedelta(days=14))
    assert w.connector.after_block["a:blocker"] == 0, "nothing after the first 403"
    contact = await w.services.contacts.contact(key)
    assert contact is not None and contact.unreachable
    counts = await w.services.engine.ledger.counts("challenge-2026-W48")
    assert counts["gone"] == 1

    w.connector.blocked.clear()
    stored = await w.services.store.get_contact(key)
    assert stored is not None
    await w.services.contacts.seen(key, stored.contact.reference, "Europe/Berlin")
    await w.run_until(MONDAY + timedelta(days=16))
    back = [card_kind(c) for _, c in w.sent_to("blocker")]
    assert back == ["challenge", "nudge"], "back in touch (and nothing learned for two weeks)"


async def test_a_delivery_held_up_past_working_hours_waits_for_the_next_morning(
    week: Callable[..., Any],
) -> None:
    w: Week = await week(MONDAY)
    await w.learner("berlin", zone="Europe/Berlin")
    tuesday_nine = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    await w.run_until(tuesday_nine - timedelta(minutes=5))
    # The check runs at 09:00, but the send stage is stuck until 18:00 (a backlog).
    w.clock.now = tuesday_nine
    await w.engine.planner.tick()
    queue = w.services.engine.queue
    check = await queue.receive(1, visibility=60)
    worker = w.engine.worker
    await worker._handle(check[0])  # the check only: it plans a delivery
    w.clock.now = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
    while await worker.run_once():
        pass
    assert w.connector.sent == [], "not in the evening"
    await w.run_until(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    ((when, card),) = w.sent_to("berlin")
    assert card_kind(card) == "challenge"
    assert _local(when, "Europe/Berlin").date() == date(2026, 11, 25)
    assert _local(when, "Europe/Berlin").hour == 9


async def test_a_tenants_next_send_does_not_wait_for_the_last_outcome_to_be_written(
    week: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tenant's sends take turns (one at a time here), and a send's outcome is written to
    the ledger after its turn: the next send doesn't wait for storage."""
    w: Week = await week(MONDAY)
    for user in ("first", "second"):
        await w.learner(user)
    monkeypatch.setattr(w.engine.worker, "_concurrency", 1)
    ledger = w.services.engine.ledger
    record = ledger.record
    sent_meanwhile: list[int] = []

    async def slow_record(claim: Claim, outcome: Outcome) -> None:
        for _ in range(100):  # up to a second for the other send to go out
            if len(w.connector.sent) == 2:
                break
            await asyncio.sleep(0.01)
        sent_meanwhile.append(len(w.connector.sent))
        await record(claim, outcome)

    monkeypatch.setattr(ledger, "record", slow_record)
    await w.run_until(MONDAY + timedelta(days=2))
    assert [card_kind(c) for _, c in w.sent_to("first") + w.sent_to("second")] == [
        "challenge", "challenge",
    ]  # fmt: skip
    assert sent_meanwhile[0] == 2, "the second send went out while the first was recorded"
    assert (await ledger.counts("challenge-2026-W48"))[State.SENT.value] == 2


async def test_malformed_queue_messages_are_dropped_and_the_rest_still_go_out(
    week: Callable[..., Any],
) -> None:
    w: Week = await week(MONDAY)
    await w.learner("berlin", zone="Europe/Berlin")
    queue = w.services.engine.queue
    for body in (
        {"type": "mystery"},
        {"type": "check", "at": "not a time", "learners": []},
        {"type": "check", "at": MONDAY.isoformat(), "learners": [["t", "u"]]},
        {"type": "deliver", "deliveries": [{"campaign": 7}]},
        {"type": "deliver", "deliveries": ["not an object"]},
    ):
        await queue.put(body)
    await w.run_until(MONDAY + timedelta(days=2))
    assert [card_kind(c) for _, c in w.sent_to("berlin")] == ["challenge"]
    assert await queue.receive(32, visibility=1) == [], "nothing left behind"
    assert w.engine.worker.poisoned == 0


async def test_a_message_that_fails_unexpectedly_comes_back_and_is_set_aside_after_five(
    week: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while handling a message never loses it: the message is left on the queue and
    handled again after its visibility; one that keeps failing is set aside and counted."""
    w: Week = await week(MONDAY)
    for user in ("first", "second"):
        await w.learner(user, zone="Europe/Berlin")
    store, worker = w.services.store, w.engine.worker
    real, failures = store.get_contacts, {"first": 2, "second": 99}

    async def flaky(keys: list[LearnerKey]) -> dict[LearnerKey, StoredContact]:
        for key in keys:
            if failures.get(key.user_id, 0) > 0:
                failures[key.user_id] -= 1
                raise RuntimeError("a bug")
        return await real(keys)

    w.clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin
    await w.engine.planner.tick()
    (check,) = await w.services.engine.queue.receive(32, visibility=VISIBILITY_SECONDS)
    await worker._handle(check)  # the check plans the deliveries: then sending them fails
    monkeypatch.setattr(store, "get_contacts", flaky)
    for _ in range(12):
        with contextlib.suppress(RuntimeError):
            while await worker.run_once():
                pass
        w.clock.now += timedelta(seconds=VISIBILITY_SECONDS + 1)
    (sent,) = w.connector.sent
    assert sent.conversation_id == "a:first", "sent once, after two failures"
    assert card_kind(sent.activity["attachments"][0]["content"]) == "challenge"
    assert failures["second"] == 99 - 5, "the second learner's failed five times"
    assert worker.poisoned == 1 and await w.services.engine.queue.poisoned() == 1
    counts = await w.services.engine.ledger.counts("challenge-2026-W48")
    assert (counts["sent"], counts["queued"]) == (1, 1), "the set-aside one still shows"


async def test_a_handled_message_that_cant_be_deleted_comes_back_and_sends_nothing_twice(
    week: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Storage stalls as a worker deletes the messages it has handled: each comes back
    after its visibility, and the ledger finds its work done (a warning, no traceback)."""
    w: Week = await week(MONDAY)
    for user in ("first", "second"):
        await w.learner(user, zone="Europe/Berlin")
    queue, worker = w.services.engine.queue, w.engine.worker
    real, stalls = queue.delete, {"left": 3}

    async def stalling(message: Any) -> None:
        if stalls["left"] > 0:
            stalls["left"] -= 1
            raise StorageUnavailable("queue delete: no answer within 3 s")
        await real(message)

    monkeypatch.setattr(queue, "delete", stalling)
    w.clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin
    await w.engine.planner.tick()
    for _ in range(4):
        while await worker.run_once():
            pass
        w.clock.now += timedelta(seconds=VISIBILITY_SECONDS + 1)
    assert stalls["left"] == 0
    assert sorted(s.conversation_id for s in w.connector.sent) == ["a:first", "a:second"]
    assert await queue.receive(32, visibility=1) == [], "nothing left behind"
    left = [r for r in caplog.records if "left for later" in r.getMessage()]
    assert left and all(r.exc_info is None for r in left)


async def test_a_long_check_is_kept_hidden_until_it_is_done(
    week: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that takes longer than the queue's visibility timeout (a large campaign's
    checks share the worker) is kept hidden while it runs: it doesn't reappear, so it isn't
    split and every learner checked again."""
    monkeypatch.setattr("teams_app.engine.worker.KEEP_EVERY_SECONDS", 0.02)
    w: Week = await week(MONDAY)
    for user in ("first", "second"):
        await w.learner(user, zone="Europe/Berlin")
    store, queue, worker = w.services.store, w.services.engine.queue, w.engine.worker
    real, slow = store.get_profile, asyncio.Event()

    async def slow_profile(key: LearnerKey) -> Any:
        await slow.wait()
        return await real(key)

    monkeypatch.setattr(store, "get_profile", slow_profile)
    w.clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin
    await w.engine.planner.tick()
    checking = asyncio.create_task(worker.run_once())
    await asyncio.sleep(0.05)
    w.clock.now += timedelta(seconds=VISIBILITY_SECONDS + 1)  # past its first visibility
    await asyncio.sleep(0.1)
    assert await queue.receive(32, visibility=1) == [], "still hidden: it is under way"
    slow.set()
    await checking
    while await worker.run_once():
        pass
    assert sorted(s.conversation_id for s in w.connector.sent) == ["a:first", "a:second"]
    w.clock.now += timedelta(seconds=VISIBILITY_SECONDS + 1)
    assert await queue.receive(32, visibility=1) == [], "and deleted once done"


async def test_a_team_challenge_reaches_each_member_once_in_their_hours(
    week: Callable[..., Any], card_validator: CardValidator
) -> None:
    from teams_app.domain.team import Contribution
    from teams_app.storage.team_ports import TeamKey

    w: Week = await week(MONDAY)
    zones = {"berlin": "Europe/Berlin", "newyork": "America/New_York", "off": "Asia/Tokyo"}
    for user, zone in zones.items():
        await w.learner(user, zone=zone, installed=MONDAY - timedelta(days=3))
    await w.services.contacts.change_settings(
        LearnerKey(TENANT, "off"), Preferences(cadence=Cadence.OFF)
    )
    team = TeamKey(TENANT, "team-1")
    await w.services.team_store.replace_roster(team, {u: Contribution() for u in zones}, MONDAY)
    await w.run_until(MONDAY + timedelta(hours=4))  # 11:00 in Berlin, 06:00 in New York
    before = {user: len(w.sent_to(user)) for user in zones}

    kicked = await w.services.team_challenges.kick_off(team, None)
    again = await w.services.team_challenges.kick_off(team, None)
    assert kicked.challenge is not None and again.challenge is None, "once a week"
    await w.run_until(MONDAY + timedelta(days=1))
    for user, zone in zones.items():
        team_cards = [
            (when, card)
            for when, card in w.sent_to(user)[before[user] :]
            if "whole team's challenge" in str(card)
        ]
        if user == "off":
            assert team_cards == [], "reminders off: no team challenge either"
            continue
        ((when, card),) = team_cards
        assert card_validator.validate(card) == []
        assert kicked.challenge.title in str(card)
        assert 9 <= _local(when, zone).hour < 17, f"{user} got it in working hours"


async def test_each_learner_gets_the_engines_cards_in_their_teams_language(
    week: Callable[..., Any], card_validator: CardValidator
) -> None:
    """One campaign, three languages: each card is rendered in the language the learner's
    Teams last reported, and one language's card is never reused for another."""
    w: Week = await week(MONDAY)
    tags = {"anna": "de-DE", "jun": "ja-JP", "kate": None}
    for user, tag in tags.items():
        await w.learner(user, locale=tag)
    await w.run_until(MONDAY + timedelta(days=3))
    for user, tag in tags.items():
        ((_when, card),) = w.sent_to(user)
        assert card_validator.validate(card) == []
        header = card["body"][0]["columns"][1]["items"][0]["text"]
        with i18n.using(i18n.negotiate(tag)):
            title = i18n._("Weekly challenge · ${week_label}").split("${")[0]
        assert title and header.startswith(title), (user, header)
    german = w.sent_to("anna")[0][1]["body"][0]["columns"][1]["items"][0]["text"]
    assert not german.startswith("Weekly challenge")
