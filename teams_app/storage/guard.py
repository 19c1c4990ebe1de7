"""A deadline and a circuit breaker around every storage call.

The Azure SDK's own timeouts are per socket operation and belong to its transport (a custom
transport silently drops them); its retries add up. So every call of the table adapters runs
under one absolute deadline of its own, whatever transport is underneath, and a timeout is a
:class:`~teams_app.storage.ports.StorageUnavailable` like any other outage.

When storage is down, waiting out each call's retries and deadline for every learner would
make error cards late under load. After ``failures_to_open`` consecutive failures the breaker
opens: calls fail at once for ``cooldown`` seconds, then one call probes; its success closes
the breaker again.

At most ``in_flight`` calls are under way at once; the others wait their turn, first come
first served, before their deadline starts. A burst of work (an install burst's turns, a
campaign's checks) then queues here, where waiting is not mistaken for an outage, rather
than in the HTTP client's connection pool, where it would count against each call's
deadline and open the breaker on a storage account that is answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables.aio import TableClient, TableServiceClient

from teams_app.storage.ports import StorageUnavailable

STORAGE_DEADLINE_SECONDS = 3.0
FAILURES_TO_OPEN = 5
COOLDOWN_SECONDS = 2.0
IN_FLIGHT = 64  # under the storage transport's pool of 100 connections


class StorageGuard:
    """Deadline plus circuit breaker, shared by the adapters of one storage account."""

    def __init__(
        self,
        *,
        deadline: float = STORAGE_DEADLINE_SECONDS,
        failures_to_open: int = FAILURES_TO_OPEN,
        cooldown: float = COOLDOWN_SECONDS,
        in_flight: int = IN_FLIGHT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.deadline = deadline
        self._slots = asyncio.Semaphore(in_flight)
        self._failures_to_open = failures_to_open
        self._cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0
        self._probing = False

    @property
    def is_open(self) -> bool:
        """Whether calls are currently refused without trying."""
        return self._failures >= self._failures_to_open and self._clock() < self._open_until

    @contextlib.asynccontextmanager
    async def call(self, what: str, *, deadline: float | None = None) -> AsyncIterator[None]:
        """Run the block under the deadline (``deadline`` seconds for a long batch); record
        whether storage answered."""
        self._admit(what, probing=False)  # an open breaker fails at once, without waiting
        async with self._slots, self._call(what, deadline):
            yield

    @contextlib.asynccontextmanager
    async def _call(self, what: str, deadline: float | None) -> AsyncIterator[None]:
        probe = self._admit(what)
        limit = deadline or self.deadline
        try:
            async with asyncio.timeout(limit):
                yield
        except TimeoutError:
            self._failed()
            raise StorageUnavailable(f"{what}: no answer within {limit:g} s") from None
        except (StorageUnavailable, ServiceRequestError, ServiceResponseError):
            self._failed()
            raise
        except HttpResponseError as err:  # storage answered; 5xx means it is struggling
            if err.status_code is not None and err.status_code >= 500:
                self._failed()
            else:
                self._succeeded()
            raise
        except BaseException:
            if probe:
                self._probing = False
            raise
        else:
            self._succeeded()

    def _admit(self, what: str, *, probing: bool = True) -> bool:
        """Whether this call is the probe of a half-open breaker; raises while it is open.
        Without ``probing``, only checks."""
        if self._failures < self._failures_to_open:
            return False
        if self._clock() < self._open_until or self._probing:
            raise StorageUnavailable(f"{what}: storage is unavailable (failing fast)")
        self._probing = probing
        return probing

    def _failed(self) -> None:
        self._failures += 1
        self._probing = False
        if self._failures >= self._failures_to_open:
            self._open_until = self._clock() + self._cooldown

    def _succeeded(self) -> None:
        self._failures = 0
        self._probing = False
        self._open_until = 0.0


async def create_tables(
    service: TableServiceClient, guard: StorageGuard, *tables: TableClient
) -> None:
    """Create ``tables`` if needed (start-up has a deadline too)."""
    try:
        async with guard.call("create tables"):
            for table in tables:
                await service.create_table_if_not_exists(table.table_name)
    except AzureError as err:
        raise StorageUnavailable("cannot create tables") from err
