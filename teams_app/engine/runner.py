"""Runs the engine: a planner loop (which plans only while it holds the lease) and a worker
loop, until told to stop. The web process runs one (``AIREADY_ENGINE_IN_WEB``), and so does
each ``python -m server worker``; any number may run side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from teams_app.engine.clock import Clock
from teams_app.engine.planner import Planner
from teams_app.engine.worker import Worker
from teams_app.storage.guard import background as storage_background
from teams_app.storage.ports import StorageError

logger = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0
MAX_IDLE_POLL_SECONDS = 5.0
MIN_TICK_SECONDS = 1.0  # a fast clock's ticks are at least this far apart in real time
FAILURE_PAUSE_SECONDS = 5.0


class Engine:
    """The planner and the worker of one process."""

    def __init__(self, planner: Planner, worker: Worker, clock: Clock) -> None:
        self.planner = planner
        self.worker = worker
        self._clock = clock
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Ask the loops to finish their current step and end."""
        self._stop.set()

    async def run(self) -> None:
        """Run both loops until :meth:`stop`."""
        await asyncio.gather(self._plan_loop(), self._work_loop())

    async def _plan_loop(self) -> None:
        every = self._clock.real_seconds(self.planner.tick_every.total_seconds())
        while not self._stop.is_set():
            with storage_background():  # a tick's storage calls wait for turns' and sends'
                await self._step("planner tick", self.planner.tick)
                await self._step("index housekeeping", self._housekeeping)
            await self._sleep(every)

    async def _housekeeping(self) -> int:
        await self.planner.housekeeping()
        return 0

    async def _work_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.worker.run(self._stop, self._poll_after)
            except Exception:  # the loop must outlive a bug
                logger.exception("worker failed; starting it again")
                await self._sleep(FAILURE_PAUSE_SECONDS)

    def _poll_after(self, empty: int) -> float:
        """How long to wait after ``empty`` receives in a row found nothing."""
        floor = IDLE_POLL_SECONDS if self._clock.speed == 1.0 else IDLE_POLL_SECONDS / 4
        return float(min(MAX_IDLE_POLL_SECONDS, floor * 2 ** max(0, empty - 1)))

    async def _step(self, name: str, step: Callable[[], Awaitable[int]]) -> int:
        try:
            return await step()
        except StorageError as err:
            logger.warning("%s failed: %s; trying again shortly", name, type(err).__name__)
        except Exception:  # the loop must outlive a bug in one step
            logger.exception("%s failed", name)
        await self._sleep(FAILURE_PAUSE_SECONDS)
        return 0

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
