"""Azure Table Storage adapter for :class:`~teams_app.storage.ports.LearnerStore`.

Key design
----------
Table ``<prefix>learners`` holds everything about a learner in one partition:

=====================================  =============================================
PartitionKey ``<tenant>|<user>``       one learner (ids encoded by ``keys.join_key``)
RowKey ``profile``                     the learner's state; replaced only with the
                                       ETag it was read at (optimistic concurrency)
RowKey ``attempt|<kind>|<attempt>``    one finished or abandoned skills check or
                                       lesson with its answers; insert-only
RowKey ``review|<lesson>|<question>``  one question's spaced-review (FSRS) card
                                       (see :mod:`teams_app.storage.engine_tables`)
=====================================  =============================================

The profile is the commit point of an answer: it holds the answers of the current and the
last finished activity, and it is replaced only if unchanged since it was read, so of two
deliveries of one click exactly one advances the learner; the other re-reads, finds the
question answered, and is shown the stored result. A history row is written after the
profile, when an activity ends, with an insert that a repeat turns into a no-op; replays and
the next finish write it again, so a row a crash left unwritten is filled in later. (Single
entity writes, not entity-group transactions: the SDK builds a transaction's multipart body
with Python's ``email`` package, which made every answer several times more expensive.)
Deleting a learner is a query of one partition plus batched deletes.

Table ``<prefix>conversations``: PartitionKey ``<tenant>``, RowKey ``<user>``, the learner's
contact: the conversation reference for proactive messages, time zone, reminder settings,
what was last sent and the next check, written with its ETag (see
:mod:`teams_app.storage.engine_tables`); a tenant's contacts share a partition.

Queries pass ``parameters=`` and never format user input into a filter. Transient failures
are retried by the SDK's retry policy (few, short tries: a card action has about 5 seconds);
every call also runs under :class:`~teams_app.storage.guard.StorageGuard`'s own deadline and
circuit breaker, whatever transport is underneath; what still fails surfaces as
:class:`StorageUnavailable`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.core.pipeline.transport import AioHttpTransport, AsyncHttpTransport
from azure.data.tables import TableTransactionError
from azure.data.tables.aio import TableClient, TableServiceClient

from teams_app.domain.learner import LearnerState
from teams_app.domain.review import ReviewItem
from teams_app.storage.codec import (
    attempt_from_columns,
    attempt_to_columns,
    state_from_columns,
    state_to_columns,
)
from teams_app.storage.engine_ports import Contact, StoredContact
from teams_app.storage.engine_tables import REVIEW_PREFIX, TableContacts
from teams_app.storage.etags import save_if_unchanged
from teams_app.storage.guard import StorageGuard, create_tables
from teams_app.storage.keys import join_key
from teams_app.storage.ports import (
    AttemptRecord,
    LearnerKey,
    StorageUnavailable,
    StoredProfile,
)

logger = logging.getLogger(__name__)

PROFILE_ROW = "profile"
ATTEMPT_PREFIX = "attempt|"
BATCH_LIMIT = 100
# Short, bounded retries: an invoke must be answered within about five seconds.
RETRY_OPTIONS: dict[str, Any] = {
    "retry_total": 2,
    "retry_backoff_factor": 0.2,
    "retry_backoff_max": 1,
}
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 3


def storage_transport() -> AioHttpTransport:
    """The HTTP transport for storage calls, with short socket timeouts. It never trusts the
    environment: aiohttp would then re-read proxy variables and ``~/.netrc`` on every request,
    in the default thread pool; the proxy is passed explicitly instead."""
    return AioHttpTransport(
        use_env_settings=False,
        connection_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )


def service_client(
    connection_string: str,
    *,
    proxy: Callable[[str], str | None] | None = None,
    transport: AsyncHttpTransport[Any, Any] | None = None,
) -> TableServiceClient:
    """A table service client with the project's retries, timeouts and proxy."""
    # A client is cheap to build and does no I/O until used: the first one tells the
    # endpoint, and the proxy (if that endpoint needs one) goes into the one we keep.
    endpoint = TableServiceClient.from_connection_string(connection_string).url
    chosen = proxy(endpoint) if proxy is not None else None
    options: dict[str, Any] = {"proxies": {"http": chosen, "https": chosen}} if chosen else {}
    return TableServiceClient.from_connection_string(
        connection_string, transport=transport or storage_transport(), **RETRY_OPTIONS, **options
    )


def _partition(key: LearnerKey) -> str:
    return join_key(key.tenant_id, key.user_id)


def _attempt_row(kind: str, attempt: str) -> str:
    return ATTEMPT_PREFIX + join_key(kind, attempt)


class TableLearnerStore:
    """:class:`LearnerStore` on Azure Table Storage."""

    def __init__(
        self, service: TableServiceClient, prefix: str, guard: StorageGuard | None = None
    ) -> None:
        self._service = service
        self._guard = guard or StorageGuard()
        self._learners: TableClient = service.get_table_client(f"{prefix}learners")
        self._conversations: TableClient = service.get_table_client(f"{prefix}conversations")
        self._contacts = TableContacts(service, prefix, self._guard)

    @classmethod
    def from_connection_string(
        cls,
        connection_string: str,
        prefix: str,
        *,
        proxy: Callable[[str], str | None] | None = None,
        transport: AsyncHttpTransport[Any, Any] | None = None,
        guard: StorageGuard | None = None,
    ) -> TableLearnerStore:
        """Build a store with the project's retries, timeouts and deadline (call :meth:`open`
        before use)."""
        service = service_client(connection_string, proxy=proxy, transport=transport)
        return cls(service, prefix, guard)

    @property
    def service(self) -> TableServiceClient:
        """The service client (other stores on the same account share it)."""
        return self._service

    @property
    def guard(self) -> StorageGuard:
        """The deadline and breaker (other stores on the same account share it)."""
        return self._guard

    async def open(self) -> None:
        """Create the tables if needed."""
        await create_tables(self._service, self._guard, self._learners, self._conversations)

    async def close(self) -> None:
        """Close the underlying HTTP sessions."""
        await self._contacts.close()
        await self._learners.close()
        await self._conversations.close()
        await self._service.close()

    async def get_profile(self, key: LearnerKey) -> StoredProfile | None:
        """See :meth:`LearnerStore.get_profile`."""
        try:
            async with self._guard.call("profile read"):
                row = await self._learners.get_entity(_partition(key), PROFILE_ROW)
        except ResourceNotFoundError:
            return None
        except AzureError as err:
            raise StorageUnavailable("profile read failed") from err
        return StoredProfile(state_from_columns(row), str(row.metadata["etag"]))

    async def save_profile(self, key: LearnerKey, state: LearnerState, etag: str | None) -> str:
        """See :meth:`LearnerStore.save_profile`."""
        entity = {"PartitionKey": _partition(key), "RowKey": PROFILE_ROW, **state_to_columns(state)}
        try:
            async with self._guard.call("profile write"):
                return await save_if_unchanged(self._learners, entity, etag)
        except AzureError as err:
            raise StorageUnavailable("profile write failed") from err

    async def add_attempt(self, key: LearnerKey, record: AttemptRecord) -> bool:
        """See :meth:`LearnerStore.add_attempt`."""
        entity = {
            "PartitionKey": _partition(key),
            "RowKey": _attempt_row(record.activity.kind.value, record.activity.attempt),
            **attempt_to_columns(record),
        }
        try:
            async with self._guard.call("history write"):
                await self._learners.create_entity(entity)
        except ResourceExistsError:
            return False
        except AzureError as err:
            raise StorageUnavailable("history write failed") from err
        return True

    async def _rows(self, key: LearnerKey) -> list[dict[str, Any]]:
        try:
            async with self._guard.call("learner query"):
                pages = self._learners.query_entities(
                    "PartitionKey eq @pk", parameters={"pk": _partition(key)}
                )
                return [dict(row) async for row in pages]
        except AzureError as err:
            raise StorageUnavailable("learner query failed") from err

    async def list_attempts(self, key: LearnerKey) -> list[AttemptRecord]:
        """See :meth:`LearnerStore.list_attempts`."""
        rows = await self._rows(key)
        found = [attempt_from_columns(r) for r in rows if r["RowKey"].startswith(ATTEMPT_PREFIX)]
        return sorted(found, key=lambda a: a.ended_at)

    async def delete_learner(self, key: LearnerKey, *, keep_conversation: bool = False) -> int:
        """See :meth:`LearnerStore.delete_learner`. Safe to repeat or to run twice at once:
        rows someone else already deleted are skipped."""
        rows = await self._rows(key)
        for start in range(0, len(rows), BATCH_LIMIT):
            await self._delete_rows(rows[start : start + BATCH_LIMIT])
        if not keep_conversation:
            try:
                async with self._guard.call("conversation delete"):
                    await self._conversations.delete_entity(
                        join_key(key.tenant_id), join_key(key.user_id)
                    )
            except AzureError as err:
                raise StorageUnavailable("learner delete failed") from err
        return len(rows)

    async def delete_history(self, key: LearnerKey) -> int:
        """See :meth:`LearnerStore.delete_history`."""
        rows = [
            r
            for r in await self._rows(key)
            if r["RowKey"].startswith((ATTEMPT_PREFIX, REVIEW_PREFIX))
        ]
        for start in range(0, len(rows), BATCH_LIMIT):
            await self._delete_rows(rows[start : start + BATCH_LIMIT])
        return len(rows)

    async def _delete_rows(self, rows: list[dict[str, Any]]) -> None:
        try:
            async with self._guard.call("learner delete"):
                try:
                    await self._learners.submit_transaction([("delete", r) for r in rows])
                except TableTransactionError:  # a row is already gone: delete one by one
                    await asyncio.gather(
                        *(
                            self._learners.delete_entity(r["PartitionKey"], r["RowKey"])
                            for r in rows
                        )
                    )
        except AzureError as err:
            raise StorageUnavailable("learner delete failed") from err

    async def get_conversation(self, key: LearnerKey) -> dict[str, Any] | None:
        """See :meth:`LearnerStore.get_conversation`."""
        stored = await self._contacts.get_contact(key)
        return stored.contact.reference if stored else None

    async def get_contact(self, key: LearnerKey) -> StoredContact | None:
        """See :meth:`ContactStore.get_contact`."""
        return await self._contacts.get_contact(key)

    async def get_contacts(self, keys: list[LearnerKey]) -> dict[LearnerKey, StoredContact]:
        """See :meth:`LearnerStore.get_contacts`."""
        return await self._contacts.get_contacts(keys)

    async def save_contact(self, key: LearnerKey, contact: Contact, etag: str | None) -> str:
        """See :meth:`ContactStore.save_contact`."""
        return await self._contacts.save_contact(key, contact, etag)

    async def review_items(self, key: LearnerKey) -> list[ReviewItem]:
        """See :meth:`ContactStore.review_items`."""
        return await self._contacts.review_items(key)

    async def save_review_items(self, key: LearnerKey, items: list[ReviewItem]) -> None:
        """See :meth:`ContactStore.save_review_items`."""
        await self._contacts.save_review_items(key, items)

    async def ping(self) -> bool:
        """See :meth:`LearnerStore.ping`: one read, without retries, under the deadline."""
        try:
            async with self._guard.call("ping"):
                await self._learners.get_entity("~ping", "~ping", retry_total=0)
        except ResourceNotFoundError:
            return True
        except (AzureError, StorageUnavailable):
            return False
        return True
