"""In-memory :class:`~teams_app.storage.ports.LearnerStore` with the same semantics as the
Azure Tables adapter (ETags, insert-only history rows).

It is a complete fake for fast unit tests, held to the same contract tests as the real one.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from teams_app.domain.learner import LearnerState
from teams_app.domain.review import ReviewItem
from teams_app.storage.engine_ports import Contact, StoredContact
from teams_app.storage.ports import (
    AttemptRecord,
    ConcurrentUpdate,
    LearnerKey,
    StoredProfile,
)


class MemoryLearnerStore:
    """:class:`LearnerStore` kept in dictionaries."""

    def __init__(self) -> None:
        self._profiles: dict[LearnerKey, tuple[LearnerState, str]] = {}
        self._attempts: dict[LearnerKey, dict[tuple[str, str], AttemptRecord]] = {}
        self._contacts: dict[LearnerKey, tuple[Contact, str]] = {}
        self._items: dict[LearnerKey, dict[str, ReviewItem]] = {}
        self._etags = itertools.count(1)

    def _next_etag(self) -> str:
        return f'W/"{next(self._etags)}"'

    async def get_profile(self, key: LearnerKey) -> StoredProfile | None:
        """See :meth:`LearnerStore.get_profile`."""
        found = self._profiles.get(key)
        return StoredProfile(found[0], found[1]) if found else None

    def _check_etag(self, key: LearnerKey, etag: str | None) -> None:
        current = self._profiles.get(key)
        if etag is None and current is not None:
            raise ConcurrentUpdate
        if etag is not None and (current is None or current[1] != etag):
            raise ConcurrentUpdate

    async def save_profile(self, key: LearnerKey, state: LearnerState, etag: str | None) -> str:
        """See :meth:`LearnerStore.save_profile`."""
        self._check_etag(key, etag)
        new = self._next_etag()
        self._profiles[key] = (state, new)
        return new

    async def add_attempt(self, key: LearnerKey, record: AttemptRecord) -> bool:
        """See :meth:`LearnerStore.add_attempt`."""
        attempts = self._attempts.setdefault(key, {})
        attempt_key = (record.activity.kind.value, record.activity.attempt)
        if attempt_key in attempts:
            return False
        attempts[attempt_key] = record
        return True

    async def list_attempts(self, key: LearnerKey) -> list[AttemptRecord]:
        """See :meth:`LearnerStore.list_attempts`."""
        return sorted(self._attempts.get(key, {}).values(), key=lambda a: a.ended_at)

    async def delete_learner(self, key: LearnerKey, *, keep_conversation: bool = False) -> int:
        """See :meth:`LearnerStore.delete_learner`."""
        removed = len(self._attempts.pop(key, {})) + (1 if self._profiles.pop(key, None) else 0)
        removed += len(self._items.pop(key, {}))
        if not keep_conversation:
            self._contacts.pop(key, None)
        return removed

    async def delete_history(self, key: LearnerKey) -> int:
        """See :meth:`LearnerStore.delete_history`."""
        return len(self._attempts.pop(key, {})) + len(self._items.pop(key, {}))

    async def get_conversation(self, key: LearnerKey) -> dict[str, Any] | None:
        """See :meth:`LearnerStore.get_conversation`."""
        found = self._contacts.get(key)
        return copy.deepcopy(found[0].reference) if found is not None else None

    async def get_contact(self, key: LearnerKey) -> StoredContact | None:
        """See :meth:`ContactStore.get_contact`."""
        found = self._contacts.get(key)
        return StoredContact(found[0], found[1]) if found else None

    async def get_contacts(self, keys: list[LearnerKey]) -> dict[LearnerKey, StoredContact]:
        """See :meth:`LearnerStore.get_contacts`."""
        return {k: StoredContact(*self._contacts[k]) for k in keys if k in self._contacts}

    async def save_contact(self, key: LearnerKey, contact: Contact, etag: str | None) -> str:
        """See :meth:`ContactStore.save_contact`."""
        current = self._contacts.get(key)
        if (etag is None) != (current is None) or (current and current[1] != etag):
            raise ConcurrentUpdate
        new = self._next_etag()
        self._contacts[key] = (copy.deepcopy(contact), new)
        return new

    async def review_items(self, key: LearnerKey) -> list[ReviewItem]:
        """See :meth:`ContactStore.review_items`."""
        return list(self._items.get(key, {}).values())

    async def save_review_items(self, key: LearnerKey, items: list[ReviewItem]) -> None:
        """See :meth:`ContactStore.save_review_items`."""
        self._items.setdefault(key, {}).update({i.item: i for i in items})

    async def ping(self) -> bool:
        """See :meth:`LearnerStore.ping`."""
        return True
