"""The storage port: what the use cases need from storage, and its errors.

Implementations: :class:`teams_app.storage.tables.TableLearnerStore` (Azure Table Storage,
Azurite locally) and :class:`teams_app.storage.memory.MemoryLearnerStore` (tests). The same
contract test suite (``tests/storage``) runs against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from teams_app.domain.learner import Activity, LearnerState
from teams_app.domain.review import ReviewItem

if TYPE_CHECKING:
    from teams_app.storage.engine_ports import Contact, StoredContact


@dataclass(frozen=True, slots=True)
class LearnerKey:
    """Identifies a learner: tenants never share keys, so they never share rows."""

    tenant_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """A learner's state with the ETag it was read at."""

    state: LearnerState
    etag: str


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """A finished or abandoned skills check or lesson with all its answers: the history."""

    activity: Activity
    finished: bool
    ended_at: datetime


class StorageError(Exception):
    """Base of the storage errors."""


class StorageUnavailable(StorageError):
    """Storage could not be reached after retries."""


class ConcurrentUpdate(StorageError):
    """The row changed since it was read (ETag mismatch); read again and retry."""


class LearnerStore(Protocol):
    """Per-learner persistence with optimistic concurrency and idempotent answers."""

    async def get_profile(self, key: LearnerKey) -> StoredProfile | None:
        """The learner's state, or ``None`` for a new learner."""
        ...

    async def save_profile(self, key: LearnerKey, state: LearnerState, etag: str | None) -> str:
        """Create (``etag`` None) or replace (if unchanged since ``etag``) the profile.

        Raises :class:`ConcurrentUpdate` when another writer got there first.
        Returns the new ETag.
        """
        ...

    async def add_attempt(self, key: LearnerKey, record: AttemptRecord) -> bool:
        """Append an attempt to the learner's history, once: ``False`` if it already exists.

        The profile (saved first, with its ETag) is what counts answers; this row is the
        history, keyed by (kind, attempt) so a repeated write is a no-op.
        """
        ...

    async def list_attempts(self, key: LearnerKey) -> list[AttemptRecord]:
        """The learner's history, oldest first."""
        ...

    async def delete_learner(self, key: LearnerKey, *, keep_conversation: bool = False) -> int:
        """Delete the learner's profile and history (and, unless ``keep_conversation``, the
        conversation reference); returns the number of profile and history rows removed."""
        ...

    async def delete_history(self, key: LearnerKey) -> int:
        """Delete the learner's history rows and review items (a reset), keeping the profile
        and the contact; returns how many. Safe to repeat."""
        ...

    async def get_conversation(self, key: LearnerKey) -> dict[str, Any] | None:
        """The saved conversation reference, if any (see the contact, below)."""
        ...

    async def get_contact(self, key: LearnerKey) -> StoredContact | None:
        """The learner's contact (reference, settings, what was sent), if any."""
        ...

    async def get_contacts(self, keys: list[LearnerKey]) -> dict[LearnerKey, StoredContact]:
        """The contacts of those learners that have one (fewer reads than one by one)."""
        ...

    async def save_contact(self, key: LearnerKey, contact: Contact, etag: str | None) -> str:
        """Create (``etag`` None) or replace-if-unchanged; ``ConcurrentUpdate`` otherwise."""
        ...

    async def review_items(self, key: LearnerKey) -> list[ReviewItem]:
        """The learner's spaced-review items."""
        ...

    async def save_review_items(self, key: LearnerKey, items: list[ReviewItem]) -> None:
        """Write (insert or replace) these review items."""
        ...

    async def ping(self) -> bool:
        """Whether storage answers at all (for health checks)."""
        ...
