"""Logging: one format chosen at start (text or JSON lines), a correlation id on every record.

Each HTTP request gets a correlation id (the caller's ``X-Correlation-Id`` when it is a sane
token, else a fresh one), returned in the response header and attached to every log record
written while the request is handled, so one failed turn is one findable line. Values that
come from outside (ids, names) go through :func:`teams_app.logsafe.safe` before they are
logged: control characters could otherwise forge log lines.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.typedefs import Handler

CORRELATION_HEADER = "X-Correlation-Id"
_correlation: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def correlation_id() -> str:
    """The current request's correlation id (``-`` outside a request)."""
    return _correlation.get()


@web.middleware
async def correlation_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request a correlation id for its logs and its response."""
    offered = request.headers.get(CORRELATION_HEADER, "")
    value = offered if _SANE.match(offered) else uuid.uuid4().hex
    token = _correlation.set(value)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers[CORRELATION_HEADER] = value
        raise
    finally:
        _correlation.reset(token)
    response.headers[CORRELATION_HEADER] = value
    return response


_installed = False


def _not_the_app_id_warning(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("App ID is not provided")


def quiet_sdk_validation_log() -> None:
    """The SDK logs a traceback at ERROR for every activity its model refuses; the route
    already answers those with a 400 and a reason, so that log is noise (and can be flooded).
    In local-dev mode (no credentials) it also warns "App ID is not provided" on every turn;
    start-up already says loudly that the bot runs without credentials."""
    logging.getLogger("microsoft_agents.activity.activity").setLevel(logging.CRITICAL)
    tokens = logging.getLogger("microsoft_agents.hosting.core.connector.client.user_token_client")
    if _not_the_app_id_warning not in tokens.filters:
        tokens.addFilter(_not_the_app_id_warning)


def install_correlation_ids() -> None:
    """Give every log record a ``correlation_id`` attribute, whatever handler writes it
    (idempotent; called when an app is built)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def with_correlation(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.correlation_id = _correlation.get()
        return record

    logging.setLogRecordFactory(with_correlation)
    _installed = True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: str = "text") -> None:
    """Set up the root logger once, for the server and its tools."""
    install_correlation_ids()
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The SDK logs routine details at INFO (and every connector error at ERROR with bodies);
    # our own sender logs what matters.
    logging.getLogger("microsoft_agents").setLevel(
        max(logging.getLevelName(level), logging.WARNING)
    )
    logging.getLogger("azure").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
