"""The engine's command-line entry points: ``python -m server worker`` and
``python -m server deliveries``.

Both build the same services as the web app (:func:`server.services.build_services`), so a
worker sends with the same credentials, allow-list, pacing and cards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from typing import Any

from server.config import Settings
from server.services import build_services
from teams_app.engine.worker import MAX_DEQUEUES

logger = logging.getLogger(__name__)

COLUMNS = ("queued", "sent", "retried", "throttled", "gone", "unknown", "skipped", "failed")
HEADINGS = {"gone": "unreachable", "skipped": "skipped (settings)"}


async def run_worker(settings: Settings) -> None:
    """Plan (when this process holds the lease) and send, until SIGINT or SIGTERM."""
    async with build_services(settings) as services:
        engine = services.engine_runner()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not on Windows
                loop.add_signal_handler(sig, engine.stop)
        logger.info("worker started (clock speed %g)", services.engine_clock.speed)
        await engine.run()
        logger.info("worker stopped")


async def delivery_report(settings: Settings, campaign: str | None = None) -> dict[str, Any]:
    """Per campaign: how many deliveries are in each state, and how many queue messages
    were set aside after failing too often."""
    async with build_services(settings) as services:
        ledger = services.engine.ledger
        names = [campaign] if campaign else await ledger.campaigns()
        campaigns = {name: await ledger.counts(name) for name in names}
        poisoned = await services.engine.queue.poisoned()
    return {"campaigns": campaigns, "set_aside": poisoned}


def format_report(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    headings = ["campaign", *(HEADINGS.get(c, c) for c in COLUMNS)]
    rows = [
        [name, *(str(counts.get(column, 0)) for column in COLUMNS)]
        for name, counts in report["campaigns"].items()
    ]
    widths = [max(len(r[i]) for r in [headings, *rows]) for i in range(len(headings))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True))
        for r in [headings, *rows]
    ]
    if not rows:
        lines.append("(no deliveries yet)")
    lines.append(f"queue messages set aside after {MAX_DEQUEUES} tries: {report['set_aside']}")
    return "\n".join(line.rstrip() for line in lines)


def print_report(report: dict[str, Any], as_json: bool) -> None:
    """Print the report, as JSON or a table."""
    print(json.dumps(report, indent=2, sort_keys=True) if as_json else format_report(report))
