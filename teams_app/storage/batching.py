"""Writes to one table partition that arrive together go out as one transaction.

Azure Tables takes up to 100 operations on one partition in a single transaction (entity
group transaction). A campaign's check saves dozens of contacts of one tenant, and puts
dozens of learners in the same minute of the schedule, within a few milliseconds: written
one request each, they cost a storage round trip apiece, and that load, not the sending,
is what limits a large campaign. :class:`Batcher` collects the writes submitted within
``window`` seconds of each other, groups them by partition, and writes each group as one
transaction. A transaction is all or nothing: when it fails (one row moved, one was
missing), each of its writes is made again on its own, so every caller gets the answer its
own write would have had, as if nothing had been batched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

MAX_BATCH = 100  # operations per transaction (the service's limit)
# Fewer writes than this go as separate requests: the SDK builds a transaction's multipart
# body with the email package, and for one to three writes that costs the client more than
# their separate requests (CPU per write against Azurite: 0.74 ms alone, 1.9 ms as a
# transaction of one, 1.1 of two, 0.67 of four, 0.26 of fifty).
MIN_TOGETHER = 4
WINDOW_SECONDS = 0.005


@dataclass
class _Group:
    items: list[Any] = field(default_factory=list)
    waiting: list[asyncio.Future[Any]] = field(default_factory=list)


class Batcher[T, R]:
    """Coalesces single writes into transactions per partition (see the module docstring).

    ``together(group, items)`` writes the items of one group in one transaction and returns
    each one's result in order, or raises if the transaction failed; ``alone(item)`` writes
    one item (its result or its exception is the caller's)."""

    def __init__(
        self,
        together: Callable[[Hashable, list[T]], Awaitable[list[R]]],
        alone: Callable[[T], Awaitable[R]],
        *,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self._together = together
        self._alone = alone
        self._window = window
        self._groups: dict[Hashable, _Group] = {}
        self._flushing: set[asyncio.Task[None]] = set()

    async def submit(self, group: Hashable, item: T) -> R:
        """Write ``item`` with whatever else arrives for ``group`` within the window."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        pending = self._groups.get(group)
        if pending is None:
            pending = self._groups[group] = _Group()
            self._start(self._flush_later(group))
        pending.items.append(item)
        pending.waiting.append(future)
        if len(pending.items) >= MAX_BATCH:  # full: it goes now, and the next starts anew
            del self._groups[group]
            self._start(self._write(group, pending))
        return await future

    def _start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _flush_later(self, group: Hashable) -> None:
        await asyncio.sleep(self._window)
        pending = self._groups.get(group)
        if pending is not None and pending.items:
            del self._groups[group]
            await self._write(group, pending)

    async def _write(self, group: Hashable, pending: _Group) -> None:
        if len(pending.items) >= MIN_TOGETHER:
            try:
                results = await self._together(group, pending.items)
            except Exception as err:
                logger.debug("a transaction failed (%s): each write on its own", type(err).__name__)
            else:
                for future, result in zip(pending.waiting, results, strict=True):
                    if not future.done():
                        future.set_result(result)
                return
        await asyncio.gather(
            *(
                self._one(item, future)
                for item, future in zip(pending.items, pending.waiting, strict=True)
            )
        )

    async def _one(self, item: T, future: asyncio.Future[R]) -> None:
        try:
            result = await self._alone(item)
        except Exception as err:  # the caller's to handle
            if not future.done():
                future.set_exception(err)
        else:
            if not future.done():
                future.set_result(result)

    async def drain(self) -> None:
        """Wait for every write submitted so far (before closing the table client)."""
        while self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)
