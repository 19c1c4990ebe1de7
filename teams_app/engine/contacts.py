"""The learner's contact: install, reachability, settings, and their place in the schedule.

Everything that changes when AI Ready may next speak to a learner goes through here, and is
saved with the learner's next check: their facts (contact, profile, review items) go through
:func:`teams_app.domain.schedule.next_check`, the learner is put in the schedule index at
that instant, and the contact is saved with it, in one write. An index entry that no longer
matches the contact's ``next_check`` is stale and skipped when its time comes, so
rescheduling never has to find and delete the old one first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from teams_app.domain.learner import LearnerState
from teams_app.domain.review import ReviewItem
from teams_app.domain.schedule import DEFAULT_ZONE, Facts, Preferences, next_check, valid_zone
from teams_app.storage.engine_ports import Contact, ScheduleIndex
from teams_app.storage.ports import ConcurrentUpdate, LearnerKey, LearnerStore, StorageUnavailable

logger = logging.getLogger(__name__)

MAX_TRIES = 5


def facts_of(
    contact: Contact, state: LearnerState, items: Iterable[ReviewItem], default_zone: str
) -> Facts:
    """What the schedule rules need to know about a learner (a challenge done or a pulse
    answered this week counts as sent)."""
    return Facts(
        installed_at=contact.installed_at,
        time_zone=contact.time_zone or default_zone,
        preferences=contact.preferences,
        unreachable=contact.unreachable,
        last_active=state.last_active,
        next_review_due=min((i.due for i in items), default=None),
        challenge_week=max(contact.challenge_week, max(state.challenges, default="")),
        pulse_week=max(contact.pulse_week, max(state.pulses, default="")),
        reviews_sent_on=contact.reviews_sent_on,
        nudged_at=contact.nudged_at,
        last_sent_on=contact.last_sent_on,
    )


_REFRESH_ON = ("serviceUrl", "locale")  # a reference that changed these is kept anew


class Contacts:
    """Contacts and scheduling, for the bot, the tabs and the engine."""

    def __init__(
        self,
        store: LearnerStore,
        schedule: ScheduleIndex,
        clock: Callable[[], datetime],
        *,
        default_zone: str = DEFAULT_ZONE,
    ) -> None:
        self._store = store
        self._schedule = schedule
        self._clock = clock
        self.default_zone = default_zone

    async def _update(
        self,
        key: LearnerKey,
        change: Callable[[Contact | None], Contact | None],
        *,
        reschedule: bool = False,
        eager: bool = False,
    ) -> tuple[Contact | None, Contact | None]:
        """Apply ``change`` to the contact with its ETag, re-reading on conflict. Returns the
        contact before and after (``change`` returning its input writes nothing). With
        ``reschedule``, the changed contact is saved with its next check, in the same write:
        the learner's profile and review items are read, and the learner is put in the
        schedule index at that instant first. ``eager`` reads them alongside the contact,
        for a change that is rarely a no-op (an install: three round trips in all, which is
        what an install burst's turns can afford)."""
        for _ in range(MAX_TRIES):
            facts = None
            if reschedule and eager:
                stored, facts = await asyncio.gather(
                    self._store.get_contact(key), self._learner_facts(key)
                )
            else:
                stored = await self._store.get_contact(key)
            before = stored.contact if stored else None
            after = change(before)
            if after is None or after is before:
                return before, before
            if reschedule:
                state, items = facts or await self._learner_facts(key)
                upcoming = next_check(
                    facts_of(after, state, items, self.default_zone), self._clock()
                )
                after = replace(after, next_check=upcoming)
                if upcoming is not None and upcoming != (before and before.next_check):
                    await self._schedule.add(upcoming, key)
            if after == before:
                return before, before
            try:
                await self._store.save_contact(key, after, stored.etag if stored else None)
            except ConcurrentUpdate:
                continue
            return before, after
        raise StorageUnavailable("contact kept changing")

    async def _learner_facts(self, key: LearnerKey) -> tuple[LearnerState, list[ReviewItem]]:
        profile, items = await asyncio.gather(
            self._store.get_profile(key), self._store.review_items(key)
        )
        return (profile.state if profile else LearnerState()), items

    async def installed(
        self,
        key: LearnerKey,
        reference: dict[str, Any],
        activity_id: str,
        time_zone: str,
        *,
        welcome: bool,
    ) -> bool:
        """The app was added to the learner's chat: keep where to reach them (a reinstall
        after a refusal starts the quiet first day again). With ``welcome``, ``True`` when
        this install event should be welcomed: a redelivery of the same event is not."""
        now = self._clock()

        def change(contact: Contact | None) -> Contact | None:
            zone = time_zone if valid_zone(time_zone) else ""
            mark = activity_id if welcome else ""
            if contact is None:
                return Contact(reference, now, zone, welcomed_by=mark)
            if welcome and contact.welcomed_by == activity_id:
                return contact
            return replace(
                contact,
                reference=reference,
                installed_at=now if contact.unreachable else contact.installed_at,
                unreachable=False,
                welcomed_by=mark or contact.welcomed_by,
                time_zone=zone or contact.time_zone,
            )

        before, after = await self._update(key, change, reschedule=True, eager=True)
        return welcome and before is not after and after is not None

    async def seen(self, key: LearnerKey, reference: dict[str, Any], time_zone: str) -> None:
        """The learner wrote to the bot: they are reachable, their zone and chat are current."""
        now = self._clock()

        def change(contact: Contact | None) -> Contact | None:
            zone = time_zone if valid_zone(time_zone) else ""
            if contact is None:  # a chat that began without an install event
                return Contact(reference, now, zone)
            # A new service URL, or a new language for the cards the engine sends.
            moved = any(reference.get(k) != contact.reference.get(k) for k in _REFRESH_ON)
            if not contact.unreachable and not moved and (not zone or zone == contact.time_zone):
                return contact
            return replace(
                contact,
                reference=reference if moved else contact.reference,
                unreachable=False,
                time_zone=zone or contact.time_zone,
            )

        await self._update(key, change, reschedule=True)

    async def unreachable(self, key: LearnerKey) -> None:
        """The chat refused a message (403/404): nothing more until the learner writes."""

        def change(contact: Contact | None) -> Contact | None:
            if contact is None or contact.unreachable:
                return contact
            return replace(contact, unreachable=True, next_check=None)

        await self._update(key, change)

    async def contact(self, key: LearnerKey) -> Contact | None:
        """The learner's contact, if any."""
        stored = await self._store.get_contact(key)
        return stored.contact if stored else None

    async def change_settings(
        self, key: LearnerKey, preferences: Preferences, time_zone: str | None = None
    ) -> Contact | None:
        """Save the learner's settings (and zone) and reschedule them."""

        def change(contact: Contact | None) -> Contact | None:
            if contact is None:
                return None
            zone = time_zone if time_zone is not None and valid_zone(time_zone) else None
            return replace(contact, preferences=preferences, time_zone=zone or contact.time_zone)

        _, after = await self._update(key, change, reschedule=True)
        return after

    async def opened_challenge(self, key: LearnerKey, week: str, challenge_id: str) -> None:
        """The learner opened this week's challenge themselves: it needn't be sent."""

        def change(contact: Contact | None) -> Contact | None:
            if contact is None or contact.challenge_week == week:
                return contact
            return replace(contact, challenge_week=week, challenge_id=challenge_id)

        await self._update(key, change, reschedule=True)

    async def reschedule(self, key: LearnerKey) -> None:
        """Put the learner in the schedule at their next check (none: out of it)."""
        # A copy (not the contact itself) is a change: its next check is worked out again.
        await self._update(key, lambda c: replace(c) if c is not None else None, reschedule=True)
