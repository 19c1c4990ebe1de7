"""Work that must finish even when the request that started it has answered or timed out.

After an answer's commit point (the profile write), the history row and the team figures are
still to be written. They run as tasks here, not in the request's own task: when Teams' reply
deadline cancels the request, they carry on. Shutdown waits for what is still running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0


class Background:
    """A set of tasks that outlive their caller."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def run(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Start ``work``; it is not cancelled with the caller. A failure is logged once."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.warning("%s did not finish: %s", task.get_name(), type(error).__name__)

    async def drain(self, seconds: float = DRAIN_SECONDS) -> None:
        """Wait up to ``seconds`` for the running work (at shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=seconds)
