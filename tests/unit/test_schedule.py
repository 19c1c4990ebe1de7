"""When AI Ready may speak first: working hours and days in the learner's zone (through
daylight-saving changes), the quiet first day, one message a day, preferences, pause and stop.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from teams_app.domain.learner import iso_week
from teams_app.domain.schedule import (
    Cadence,
    Facts,
    Kind,
    Preferences,
    due_at,
    in_hours,
    next_check,
    next_open,
    zone,
)

BERLIN = "Europe/Berlin"
# Monday 23 November 2026, 08:00 UTC (09:00 in Berlin): installed.
INSTALLED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, tz: str = BERLIN) -> datetime:
    """A local wall-clock time in November 2026, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def facts(**changes: object) -> Facts:
    return replace(Facts(installed_at=INSTALLED, time_zone=BERLIN), **changes)  # type: ignore[arg-type]


def test_nothing_in_the_first_24_hours_then_the_challenge_on_a_working_morning() -> None:
    assert due_at(facts(), at(23, 10)) is None, "install day"
    assert due_at(facts(), at(24, 8, 59)) is None, "quiet until the 24 hours are over"
    assert due_at(facts(), at(24, 9, 0)) is Kind.CHALLENGE


@pytest.mark.parametrize(
    ("day", "hour", "minute"),
    [(24, 8, 59), (24, 17, 0), (24, 23, 30), (25, 3, 0), (28, 10, 0), (29, 12, 0)],
)
def test_nothing_outside_working_hours_or_on_the_weekend(day: int, hour: int, minute: int) -> None:
    assert due_at(facts(), at(day, hour, minute)) is None


def test_the_learners_own_days_and_hour_are_kept() -> None:
    weekend_worker = Preferences(hour=13, working_days=frozenset({5, 6}))  # Saturday, Sunday
    f = facts(preferences=weekend_worker)
    assert due_at(f, at(24, 13)) is None, "Tuesday is not a working day for them"
    assert due_at(f, at(28, 12, 59)) is None, "before their preferred hour"
    assert due_at(f, at(28, 13)) is Kind.CHALLENGE


def test_pause_stop_and_a_refusing_chat_silence_everything() -> None:
    now = at(24, 10)
    assert due_at(facts(), now) is Kind.CHALLENGE
    assert due_at(facts(preferences=Preferences(paused=True)), now) is None
    assert due_at(facts(preferences=Preferences(cadence=Cadence.OFF)), now) is None
    assert due_at(facts(unreachable=True), now) is None
    for silent in (Preferences(paused=True), Preferences(cadence=Cadence.OFF)):
        assert next_check(facts(preferences=silent), now) is None


def test_at_most_one_message_a_day_and_each_weekly_message_once_a_week() -> None:
    week = iso_week(date(2026, 11, 24))
    sent_today = facts(last_sent_on=date(2026, 11, 24))
    assert due_at(sent_today, at(24, 15)) is None
    assert due_at(facts(challenge_week=week), at(24, 10)) is None, "this week's is out"
    assert due_at(facts(challenge_week=week), at(30, 10)) is Kind.CHALLENGE, "next week's"


def test_the_pulse_comes_at_the_end_of_the_working_week() -> None:
    week = iso_week(date(2026, 11, 27))
    f = facts(challenge_week=week)
    assert due_at(f, at(27, 14, 59)) is None
    assert due_at(f, at(27, 15)) is Kind.PULSE
    assert due_at(replace(f, pulse_week=week), at(27, 15)) is None, "answered or sent"
    thursday_off = replace(f, preferences=Preferences(working_days=frozenset({0, 1, 2, 3})))
    assert due_at(thursday_off, at(26, 15)) is Kind.PULSE, "their last working day"


@pytest.mark.parametrize(
    ("cadence", "due_days"),
    [
        (Cadence.WEEKLY, {1}),  # Tuesday
        (Cadence.TWICE_WEEKLY, {1, 3}),  # Tuesday and Thursday
        (Cadence.DAILY, {0, 1, 2, 3, 4}),
    ],
)
def test_reviews_come_on_the_cadences_days(cadence: Cadence, due_days: set[int]) -> None:
    week = iso_week(date(2026, 11, 30))
    f = facts(
        preferences=Preferences(cadence=cadence),
        challenge_week=week,
        pulse_week=week,
        last_active=at(29, 10),
        next_review_due=at(29, 9),
    )
    days = {d for d in range(7) if due_at(f, at(30, 10) + timedelta(days=d)) is Kind.REVIEWS}
    assert days == due_days
    assert due_at(replace(f, next_review_due=at(30, 11)), at(30, 10)) is None, "not yet due"
    monday = date(2026, 11, 30)
    sent = replace(f, reviews_sent_on=monday + timedelta(days=min(due_days)))
    assert due_at(sent, at(30, 10) + timedelta(days=min(due_days))) is None


def test_a_nudge_after_seven_quiet_days_and_then_not_for_another_week() -> None:
    week = iso_week(date(2026, 12, 1))
    quiet = facts(challenge_week=week, last_active=at(23, 10))
    assert due_at(quiet, at(30, 9, 59)) is None, "not quite seven days"
    assert due_at(quiet, at(30, 10)) is Kind.NUDGE
    assert next_check(quiet, at(30, 9, 30)) == at(30, 10), "planned for the very minute"
    nudged = replace(quiet, nudged_at=at(30, 10))
    assert due_at(nudged, datetime(2026, 12, 4, 10, tzinfo=ZoneInfo(BERLIN))) is None
    active = replace(quiet, last_active=at(29, 9))
    assert due_at(active, datetime(2026, 12, 1, 10, tzinfo=ZoneInfo(BERLIN))) is None


@pytest.mark.parametrize(
    ("tz", "before", "expected"),
    [
        # US clocks spring forward on Sunday 8 March 2026: 09:00 is 14:00 UTC, then 13:00.
        (
            "America/New_York",
            datetime(2026, 3, 6, 22, tzinfo=UTC),
            datetime(2026, 3, 9, 13, tzinfo=UTC),
        ),
        (
            "America/New_York",
            datetime(2026, 2, 27, 22, tzinfo=UTC),
            datetime(2026, 3, 2, 14, tzinfo=UTC),
        ),
        # Europe springs forward on Sunday 29 March and falls back on Sunday 25 October 2026.
        (
            "Europe/Berlin",
            datetime(2026, 3, 27, 18, tzinfo=UTC),
            datetime(2026, 3, 30, 7, tzinfo=UTC),
        ),
        (
            "Europe/Berlin",
            datetime(2026, 10, 23, 18, tzinfo=UTC),
            datetime(2026, 10, 26, 8, tzinfo=UTC),
        ),
        # Australia falls back on Sunday 5 April 2026 (AEDT +11 to AEST +10).
        (
            "Australia/Sydney",
            datetime(2026, 4, 3, 12, tzinfo=UTC),
            datetime(2026, 4, 5, 23, tzinfo=UTC),
        ),
        # Half-hour and quarter-hour zones.
        (
            "Asia/Kolkata",
            datetime(2026, 3, 6, 12, tzinfo=UTC),
            datetime(2026, 3, 9, 3, 30, tzinfo=UTC),
        ),
        (
            "Asia/Kathmandu",
            datetime(2026, 3, 6, 12, tzinfo=UTC),
            datetime(2026, 3, 9, 3, 15, tzinfo=UTC),
        ),
    ],
)
def test_monday_nine_oclock_local_across_daylight_saving_changes(
    tz: str, before: datetime, expected: datetime
) -> None:
    f = Facts(installed_at=before - timedelta(days=30), time_zone=tz)
    assert next_check(f, before) == expected
    assert expected.astimezone(ZoneInfo(tz)).hour == 9
    assert due_at(f, expected) is Kind.CHALLENGE


def test_the_next_working_window_opens_at_nine_local() -> None:
    prefs = Preferences()
    friday_evening = at(27, 18)
    assert next_open(BERLIN, prefs, friday_evening) == at(30, 9)
    assert next_open(BERLIN, prefs, at(30, 11)) == at(30, 11), "already open"
    assert in_hours(BERLIN, prefs, at(30, 16, 59)) and not in_hours(BERLIN, prefs, at(30, 17))


def test_an_unknown_zone_falls_back_to_utc() -> None:
    assert zone("Mars/Olympus_Mons") == ZoneInfo("UTC")
    assert zone(" Europe/Berlin ") == ZoneInfo(BERLIN)
    assert zone("") == ZoneInfo("UTC")


ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Chatham",
]


def test_every_planned_instant_is_allowed_and_nothing_earlier_was_due() -> None:
    """A seeded sweep over zones, settings and histories: the next check is a moment when
    something is due, inside the learner's hours, and no whole hour before it had anything."""
    rng = random.Random(20261201)
    checked = 0
    for _ in range(400):
        tz = rng.choice(ZONES)
        now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        days = frozenset(rng.sample(range(7), rng.randint(1, 7)))
        prefs = Preferences(
            cadence=rng.choice([Cadence.WEEKLY, Cadence.TWICE_WEEKLY, Cadence.DAILY]),
            hour=rng.randrange(9, 17),
            working_days=days,
        )
        local_week = iso_week(now.astimezone(ZoneInfo(tz)).date())
        f = Facts(
            installed_at=now - timedelta(hours=rng.choice([1, 20, 48, 500])),
            time_zone=tz,
            preferences=prefs,
            last_active=now - timedelta(days=rng.randrange(0, 12)),
            next_review_due=now + timedelta(hours=rng.randrange(-48, 200)),
            challenge_week=rng.choice(["", local_week]),
            pulse_week=rng.choice(["", local_week]),
        )
        found = next_check(f, now)
        if found is None:
            continue
        checked += 1
        assert found > now
        assert found >= f.installed_at + timedelta(hours=24)
        assert in_hours(tz, prefs, found), (tz, found)
        assert due_at(f, found) is not None
        hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        while hour < found:
            assert due_at(f, hour) is None, (tz, now, hour, found)
            hour += timedelta(hours=1)
    assert checked > 300
