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

Work that can wait marks itself with :func:`background` (the engine's checks: a campaign's
thousands of learners checked within a minute). Its calls hold at most half the slots and
take a free one only when no other call is waiting, so a learner's turn and the sends under
way never queue behind a burst of checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar

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

_background: ContextVar[bool] = ContextVar("storage_background", default=False)


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Storage calls made within (and in tasks started within) wait for other calls: see
    the module docstring."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


class _Slots:
    """A semaphore with two lanes: a waiting call is served before any waiting background
    call, and background calls hold at most ``background_limit`` slots."""

    def __init__(self, size: int, background_limit: int) -> None:
        self._free = size
        self._background_limit = background_limit
        self._background_held = 0
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(),
            deque(),
        )

    async def acquire(self, background: bool) -> None:
        ahead = self._waiting[0] or (background and self._waiting[1])  # served before us
        if self._grantable(background) and not ahead:
            self._take(background)
            return
        lane = self._waiting[background]
        waiter = asyncio.get_running_loop().create_future()
        lane.append(waiter)
        try:
            await waiter  # the slot is taken on our behalf when we're woken
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(background)  # woken and cancelled at once: pass it on
            else:
                with contextlib.suppress(ValueError):  # unless a wake-up passed it over
                    lane.remove(waiter)
            raise

    def release(self, background: bool) -> None:
        self._free += 1
        self._background_held -= background
        self._wake()

    def _grantable(self, background: bool) -> bool:
        return self._free > 0 and (not background or self._background_held < self._background_limit)

    def _take(self, background: bool) -> None:
        self._free -= 1
        self._background_held += background

    def _wake(self) -> None:
        for background in (False, True):
            lane = self._waiting[background]
            while lane and self._grantable(background):
                waiter = lane.popleft()
                if not waiter.done():
                    self._take(background)
                    waiter.set_result(None)


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
        self._slots = _Slots(in_flight, max(1, in_flight // 2))
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
        waits = _background.get()
        await self._slots.acquire(waits)
        try:
            async with self._call(what, deadline):
                yield
        finally:
            self._slots.release(waits)

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
