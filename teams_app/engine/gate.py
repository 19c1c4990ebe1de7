"""The per-tenant send schedule, shared by every process through one table row per tenant.

Teams throttles per app per tenant, whatever process sends. :class:`TableRateGate` keeps the
tenant's GCRA schedule (the theoretical time of the next slot, ``Tat``) and its pause after a
429 (``PausedUntil``) in a row of the engine table, updated with its ETag, so N processes
together send at most ``rate`` messages a second. A process reserves a small block of slots
at a time (half a second's worth at most) and hands them out locally, so a busy worker pays
one table round trip per block, not per message; a quiet one reserves one slot per message.
Per-conversation pacing (one message a second) stays local: a chat is served by one process
at a time.

A 429's pause and slowdown (see :mod:`teams_app.delivery.pacing`) are kept in the same row,
so every process slows down together. Wall-clock time (``time.time``) is used, since
processes don't share a monotonic clock; clock skew between hosts shifts the schedule by
the skew, which is harmless at these rates. When storage can't be reached, the process
paces itself alone (a local gate at the same rate) rather than stop sending.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables.aio import TableClient

from teams_app.delivery.pacing import (
    CONVERSATION_INTERVAL_SECONDS,
    BurstGuard,
    LocalRateGate,
    after_429,
    recovered,
)
from teams_app.storage.etags import replace_if_unchanged
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
    interval: float = 0.0  # between this block's slots (longer while the tenant is slowed)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


_COLUMNS = ("Tat", "PausedUntil", "Factor", "FactorAt", "Last429")


def _row(tenant_id: str, row: dict[str, float]) -> dict[str, object]:
    """The tenant's row as it stands (keys and every column)."""
    return {"PartitionKey": "rate", "RowKey": join_key(tenant_id), **row}


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
        self._generations: dict[str, int] = {}
        self._alone = LocalRateGate(rate_per_second, conversation_interval=conversation_interval)
        self._burst = BurstGuard(rate_per_second)

    async def admit(self, tenant_id: str) -> None:
        """See :meth:`RateGate.admit`."""
        await self._burst.admit(tenant_id)

    def generation(self, tenant_id: str) -> int:
        """See :meth:`RateGate.generation`."""
        return self._generations.get(tenant_id, 0)

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
                block.next_slot = slot + block.interval
                block.left -= 1
        finally:
            self._demand[tenant_id] -= 1
        self._conversations[conversation_id] = slot + self._conversation_interval
        return max(0.0, slot - now)

    async def _refill(self, tenant_id: str, block: _Block, now: float) -> None:
        """Reserve the next block of the tenant's shared schedule."""
        for _ in range(MAX_TRIES):
            row, etag = await self._read(tenant_id)
            factor = recovered(row.get("Factor", 1.0), row.get("FactorAt", now), now)
            interval = self._interval / factor
            wanted = max(1, min(int(self._block_size * factor), self._demand.get(tenant_id, 1)))
            start = max(row.get("Tat", 0.0), row.get("PausedUntil", 0.0), now)
            entity = {**_row(tenant_id, row), "Tat": start + wanted * interval}
            if await self._write(entity, etag):
                block.next_slot, block.left, block.interval = start, wanted, interval
                return
        # contended: one slot, well behind the others
        block.next_slot, block.left = now + self._interval * self._block_size, 1
        block.interval = self._interval

    async def pause(self, tenant_id: str, seconds: float) -> None:
        """See :meth:`RateGate.pause`: every process waits out the 429's Retry-After."""
        await self._alone.pause(tenant_id, seconds)
        try:
            await self._pause(tenant_id, seconds)
        except (AzureError, StorageUnavailable):
            return  # this process pauses; the others find out from their own 429s

    async def _pause(self, tenant_id: str, seconds: float) -> None:
        now = self._clock()
        until = now + max(0.0, seconds)
        self._generations[tenant_id] = self._generations.get(tenant_id, 0) + 1
        block = self._blocks.setdefault(tenant_id, _Block())
        block.next_slot, block.left = max(block.next_slot, until), 0
        for _ in range(MAX_TRIES):
            row, etag = await self._read(tenant_id)
            paused = row.get("PausedUntil", 0.0)
            if paused >= until:
                return  # another process met the same 429 storm: one slowdown is enough
            factor, since = after_429(
                row.get("Factor", 1.0),
                row.get("FactorAt", now),
                row.get("Last429"),
                paused,
                now,
            )
            entity = {
                **_row(tenant_id, row),
                "Tat": max(row.get("Tat", 0.0), until),
                "PausedUntil": until,
                "Factor": factor,
                "FactorAt": since,
                "Last429": now if now >= paused else row.get("Last429", now),
            }
            if await self._write(entity, etag):
                return

    async def _read(self, tenant_id: str) -> tuple[dict[str, float], str | None]:
        try:
            async with self._guard.call("rate read"):
                row = await self._table.get_entity("rate", join_key(tenant_id))
        except ResourceNotFoundError:
            return {}, None
        numbers = {k: float(v) for k, v in row.items() if k in _COLUMNS}
        return numbers, str(row.metadata["etag"])

    async def _write(self, entity: dict[str, object], etag: str | None) -> bool:
        try:
            async with self._guard.call("rate write"):
                if etag is None:
                    await self._table.create_entity(entity)
                else:
                    await replace_if_unchanged(self._table, entity, etag)
        except (ResourceExistsError, ResourceModifiedError):
            return False
        except HttpResponseError as err:
            if err.status_code == 412:
                return False
            raise
        except AzureError:
            raise
        return True
