"""The per-tenant send schedule, shared by every process through one table row per tenant.

Teams throttles per app per tenant, whatever process sends. :class:`TableRateGate` keeps the
tenant's GCRA schedule (the theoretical time of the next slot, ``Tat``) and its pause after a
429 (``PausedUntil``) in a row of the engine table, updated with its ETag, so N processes
together send at most ``rate`` messages a second. A process reserves a small block of slots
at a time (half a second's worth at most) and hands them out locally, so a busy worker pays
one table round trip per block, not per message; a quiet one reserves one slot per message.
Per-conversation pacing (one message a second) stays local: a chat is served by one process
at a time.

Wall-clock time (``time.time``) is used, since processes don't share a monotonic clock; clock
skew between hosts shifts the schedule by the skew, which is harmless at these rates. When
storage can't be reached, the process paces itself alone (a local gate at the same rate)
rather than stop sending.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from teams_app.delivery.pacing import CONVERSATION_INTERVAL_SECONDS, LocalRateGate
from teams_app.storage.guard import StorageGuard
from teams_app.storage.keys import join_key
from teams_app.storage.ports import StorageUnavailable

BLOCK_SECONDS = 0.5
MAX_TRIES = 8


@dataclass
class _Block:
    """Slots reserved from the shared schedule and not yet handed out."""

    next_slot: float = 0.0
    left: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class TableRateGate:
    """:class:`~teams_app.delivery.pacing.RateGate` shared through Azure Tables."""

    def __init__(
        self,
        table: TableClient,
        guard: StorageGuard,
        rate_per_second: float,
        *,
        conversation_interval: float = CONVERSATION_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table
        self._guard = guard
        self._interval = 1.0 / rate_per_second
        self._block_size = max(1, int(rate_per_second * BLOCK_SECONDS))
        self._conversation_interval = conversation_interval
        self._clock = clock
        self._blocks: dict[str, _Block] = {}
        self._conversations: dict[str, float] = {}
        self._demand: dict[str, int] = {}
        self._alone = LocalRateGate(rate_per_second, conversation_interval=conversation_interval)

    async def reserve(self, tenant_id: str, conversation_id: str, max_wait: float) -> float | None:
        """See :meth:`RateGate.reserve`."""
        try:
            return await self._reserve(tenant_id, conversation_id, max_wait)
        except (AzureError, StorageUnavailable):
            return await self._alone.reserve(tenant_id, conversation_id, max_wait)

    async def _reserve(self, tenant_id: str, conversation_id: str, max_wait: float) -> float | None:
        now = self._clock()
        earliest = max(now, self._conversations.get(conversation_id, now))
        block = self._blocks.setdefault(tenant_id, _Block())
        self._demand[tenant_id] = self._demand.get(tenant_id, 0) + 1
        try:
            async with block.lock:
                if block.left == 0 or block.next_slot < now - self._interval:
                    await self._refill(tenant_id, block, now)
                slot = max(block.next_slot, earliest)
                if slot - now > max_wait:
                    return None
                block.next_slot = slot + self._interval
                block.left -= 1
        finally:
            self._demand[tenant_id] -= 1
        self._conversations[conversation_id] = slot + self._conversation_interval
        return max(0.0, slot - now)

    async def _refill(self, tenant_id: str, block: _Block, now: float) -> None:
        """Reserve the next block of the tenant's shared schedule."""
        wanted = max(1, min(self._block_size, self._demand.get(tenant_id, 1)))
        for _ in range(MAX_TRIES):
            row, etag = await self._read(tenant_id)
            start = max(float(row.get("Tat", 0.0)), float(row.get("PausedUntil", 0.0)), now)
            entity = {
                "PartitionKey": "rate",
                "RowKey": join_key(tenant_id),
                "Tat": start + wanted * self._interval,
                "PausedUntil": float(row.get("PausedUntil", 0.0)),
            }
            if await self._write(entity, etag):
                block.next_slot, block.left = start, wanted
                return
        block.next_slot, block.left = now + self._interval * self._block_size, 1  # contended

    async def pause(self, tenant_id: str, seconds: float) -> None:
        """See :meth:`RateGate.pause`: every process waits out the 429's Retry-After."""
        await self._alone.pause(tenant_id, seconds)
        try:
            await self._pause(tenant_id, seconds)
        except (AzureError, StorageUnavailable):
            return  # this process pauses; the others find out from their own 429s

    async def _pause(self, tenant_id: str, seconds: float) -> None:
        until = self._clock() + max(0.0, seconds)
        block = self._blocks.setdefault(tenant_id, _Block())
        block.next_slot, block.left = max(block.next_slot, until), 0
        for _ in range(MAX_TRIES):
            row, etag = await self._read(tenant_id)
            if float(row.get("PausedUntil", 0.0)) >= until:
                return
            entity = {
                "PartitionKey": "rate",
                "RowKey": join_key(tenant_id),
                "Tat": max(float(row.get("Tat", 0.0)), until),
                "PausedUntil": until,
            }
            if await self._write(entity, etag):
                return

    async def _read(self, tenant_id: str) -> tuple[dict[str, float], str | None]:
        try:
            async with self._guard.call("rate read"):
                row = await self._table.get_entity("rate", join_key(tenant_id))
        except ResourceNotFoundError:
            return {}, None
        return dict(row), str(row.metadata["etag"])

    async def _write(self, entity: dict[str, object], etag: str | None) -> bool:
        try:
            async with self._guard.call("rate write"):
                if etag is None:
                    await self._table.create_entity(entity)
                else:
                    await self._table.update_entity(
                        entity,
                        mode=UpdateMode.REPLACE,
                        etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
        except (ResourceExistsError, ResourceModifiedError):
            return False
        except HttpResponseError as err:
            if err.status_code == 412:
                return False
            raise
        except AzureError:
            raise
        return True
