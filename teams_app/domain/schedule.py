"""When AI Ready may speak first, and what it says: pure rules over a learner's facts.

Proactive messages respect the learner, whatever the load:

- only on the learner's working days, inside working hours (09:00 to 17:00 in their time
  zone), from their preferred hour on;
- never in the first 24 hours after install, never while paused, never to a chat that
  refused messages (blocked or uninstalled), and at most one message a day;
- the weekly challenge on the first working day the learner can take it each ISO week; the
  pulse on the last working day of the week, late in the afternoon; the "reviews due" card
  on review days (cadence: weekly, twice a week, or every working day); a nudge that names
  the next lesson at most once a week, after seven days without activity.

:func:`due_at` says which message (if any) is due at an instant; :func:`next_check` finds the
next instant worth looking at again, so the planner visits a learner only when something
can happen. Both take the facts as they stand; facts that change (an answer, new settings)
reschedule the learner. Time zones come from ``zoneinfo`` (DST-aware): the slots are local
wall-clock times, so "09:00" stays 09:00 across a daylight-saving change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from teams_app.domain.learner import iso_week

WORK_STARTS, WORK_ENDS = 9, 17
PULSE_HOUR = 15
QUIET_AFTER_INSTALL = timedelta(hours=24)
NUDGE_AFTER = timedelta(days=7)
LOOKAHEAD_DAYS = 8
DEFAULT_DAYS = frozenset(range(5))  # Monday to Friday
DEFAULT_ZONE = "UTC"


class Cadence(StrEnum):
    """How often the learner wants to hear from AI Ready."""

    OFF = "off"  # nothing proactive at all
    WEEKLY = "weekly"  # the challenge, the pulse, reviews once a week
    TWICE_WEEKLY = "twice-weekly"  # ... and reviews twice a week
    DAILY = "daily"  # ... and reviews on every working day


class Kind(StrEnum):
    """What a proactive message is."""

    CHALLENGE = "challenge"
    REVIEWS = "reviews"
    PULSE = "pulse"
    NUDGE = "nudge"


@dataclass(frozen=True, slots=True)
class Preferences:
    """The learner's settings for proactive messages."""

    cadence: Cadence = Cadence.WEEKLY
    hour: int = WORK_STARTS  # preferred local hour, WORK_STARTS..WORK_ENDS-1
    working_days: frozenset[int] = DEFAULT_DAYS  # Monday = 0
    paused: bool = False

    def __post_init__(self) -> None:
        if not WORK_STARTS <= self.hour < WORK_ENDS:
            raise ValueError(f"preferred hour is {WORK_STARTS} to {WORK_ENDS - 1}")
        if not self.working_days or not self.working_days <= set(range(7)):
            raise ValueError("working days are Monday (0) to Sunday (6), at least one")

    @property
    def silent(self) -> bool:
        """Whether nothing proactive may be sent."""
        return self.paused or self.cadence is Cadence.OFF

    def review_days(self) -> frozenset[int]:
        """The working days on which the "reviews due" card may come."""
        days = sorted(self.working_days)
        if self.cadence is Cadence.DAILY:
            return frozenset(days)
        second = days[min(1, len(days) - 1)]  # the challenge takes the first
        if self.cadence is Cadence.TWICE_WEEKLY:
            return frozenset({second, days[min(3, len(days) - 1)]})
        return frozenset({second})


@dataclass(frozen=True, slots=True)
class Facts:
    """What the scheduler knows about one learner (UTC datetimes)."""

    installed_at: datetime
    time_zone: str = DEFAULT_ZONE
    preferences: Preferences = field(default_factory=Preferences)
    unreachable: bool = False
    last_active: datetime | None = None
    next_review_due: datetime | None = None
    challenge_week: str = ""  # ISO week of the last challenge sent
    pulse_week: str = ""  # ISO week of the last pulse prompt sent (or pulse answered)
    reviews_sent_on: date | None = None  # local date
    nudged_at: datetime | None = None
    last_sent_on: date | None = None  # local date of the last proactive message


def zone(name: str) -> ZoneInfo:
    """The learner's zone; an unknown or empty name falls back to UTC."""
    try:
        return ZoneInfo(name.strip()) if name and name.strip() else ZoneInfo(DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(name)


def in_hours(time_zone: str, preferences: Preferences, now: datetime) -> bool:
    """Whether ``now`` is inside the learner's working hours on one of their working days."""
    local = now.astimezone(zone(time_zone))
    return local.weekday() in preferences.working_days and WORK_STARTS <= local.hour < WORK_ENDS


def next_open(time_zone: str, preferences: Preferences, now: datetime) -> datetime:
    """The next instant (UTC) inside the learner's working hours: ``now`` if it is, else
    the start of their next working day (a week ahead at most, by construction)."""
    if in_hours(time_zone, preferences, now):
        return now
    tz = zone(time_zone)
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        start = datetime.combine(day, time(WORK_STARTS), tzinfo=tz).astimezone(UTC)
        if day.weekday() in preferences.working_days and start > now:
            return start
    raise AssertionError("a week always has a working day")  # pragma: no cover


def due_at(facts: Facts, now: datetime) -> Kind | None:
    """The message due at ``now`` (UTC), if any: at most one a day, in priority order
    pulse, challenge, reviews, nudge."""
    prefs = facts.preferences
    if facts.unreachable or prefs.silent or now < facts.installed_at + QUIET_AFTER_INSTALL:
        return None
    if not in_hours(facts.time_zone, prefs, now):
        return None
    local = now.astimezone(zone(facts.time_zone))
    today, week = local.date(), iso_week(local.date())
    if facts.last_sent_on == today or local.hour < prefs.hour:
        return None
    last_day = max(prefs.working_days)
    if (
        local.weekday() == last_day
        and local.hour >= max(PULSE_HOUR, prefs.hour)
        and facts.pulse_week != week
    ):
        return Kind.PULSE
    if facts.challenge_week != week:
        return Kind.CHALLENGE
    if (
        facts.next_review_due is not None
        and facts.next_review_due <= now
        and local.weekday() in prefs.review_days()
        and facts.reviews_sent_on != today
    ):
        return Kind.REVIEWS
    idle_since = facts.last_active or facts.installed_at
    if now - idle_since >= NUDGE_AFTER and (
        facts.nudged_at is None or now - facts.nudged_at >= NUDGE_AFTER
    ):
        return Kind.NUDGE
    return None


def next_check(facts: Facts, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which :func:`due_at` finds something, or ``None``
    when nothing can come within :data:`LOOKAHEAD_DAYS` (the learner is rescheduled when
    their facts change).

    :func:`due_at` can only change its answer at a few instants: each working day's
    preferred hour and pulse hour, the end of the quiet first day, the moment a review falls
    due, and the moments a nudge becomes possible. Those are the candidates, in order (to
    the minute; the very next minute too, for facts that changed mid-day).
    """
    prefs = facts.preferences
    if facts.unreachable or prefs.silent:
        return None
    tz = zone(facts.time_zone)
    idle_since = facts.last_active or facts.installed_at
    candidates = {
        _next_minute(now),
        facts.installed_at + QUIET_AFTER_INSTALL,
        idle_since + NUDGE_AFTER,
    }
    if facts.nudged_at is not None:
        candidates.add(facts.nudged_at + NUDGE_AFTER)
    if facts.next_review_due is not None:
        candidates.add(facts.next_review_due)
    local_now = now.astimezone(tz)
    hours = sorted({prefs.hour, max(PULSE_HOUR, prefs.hour)})
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = local_now.date() + timedelta(days=offset)
        if day.weekday() in prefs.working_days:
            candidates.update(
                datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC) for hour in hours
            )
    horizon = now + timedelta(days=LOOKAHEAD_DAYS + 1)
    for candidate in sorted(_next_minute(c - timedelta(seconds=1)) for c in candidates):
        if now < candidate <= horizon and due_at(facts, candidate) is not None:
            return candidate
    return None


def _next_minute(at: datetime) -> datetime:
    """The first whole minute after ``at`` (UTC)."""
    return at.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
