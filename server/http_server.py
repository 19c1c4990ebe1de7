"""Serving the app: one process (``python -m server``) or several under gunicorn.

Malformed HTTP (an oversized header, a broken request line) never reaches the app: aiohttp's
protocol layer answers it. Its default answer quotes the offending bytes back and logs a
traceback at ERROR for every such request; :class:`AiReadyRunner` answers with a short JSON
400 that echoes nothing and logs one INFO line.

For several processes on one host, gunicorn's aiohttp worker runs :func:`gunicorn_app`
(``python -m server`` starts it when ``AIREADY_WORKERS`` is above 1): each worker builds its
own app from the same settings; they share nothing but storage.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

logger = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_SECONDS = 20


class _QuietRequestHandler(RequestHandler):
    """Protocol errors as a short JSON body: no echo of the request, no traceback."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        logger.info(
            "refused a malformed HTTP request: %s %s", status, type(exc).__name__ if exc else "-"
        )
        reason = HTTPStatus(status).phrase.lower() if status in HTTPStatus else "bad request"
        response = web.json_response({"error": reason}, status=status)
        response.force_close()
        return response


class _QuietServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _QuietRequestHandler(self, loop=self._loop, **self._kwargs)


class AiReadyRunner(web.AppRunner):
    """``web.AppRunner`` whose connections answer malformed HTTP quietly."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # Same object, one method different: aiohttp builds its Server internally, and its
        # request handler class is only chosen in Server.__call__.
        server.__class__ = _QuietServer
        return server


async def serve(app: web.Application, host: str, port: int) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then shut down gracefully."""
    runner = AiReadyRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, host, port).start()
        logger.info("AI Ready listening on http://%s:%d", host, port)
        await stop.wait()
    finally:
        await runner.cleanup()


async def gunicorn_app() -> web.AppRunner:
    """The entry point gunicorn's ``aiohttp.GunicornWebWorker`` calls in each worker."""
    import os

    from server.app import create_app
    from server.config import load_settings
    from server.logs import configure_logging

    settings = load_settings(os.environ)
    configure_logging(settings.log_level, settings.log_format)
    return AiReadyRunner(create_app(settings), access_log=None)


def gunicorn_options(settings: Any) -> dict[str, Any]:
    """gunicorn's settings for ``AIREADY_WORKERS`` processes."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "aiohttp.GunicornWebWorker",
        "graceful_timeout": SHUTDOWN_TIMEOUT_SECONDS,
        "timeout": 60,
        "accesslog": None,
    }
