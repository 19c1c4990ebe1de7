"""OpenTelemetry traces and metrics, exported to Azure Monitor when it is configured.

Every HTTP request gets a server span from ``opentelemetry-instrumentation-aiohttp-server``'s
middleware, added to the app explicitly. (Its instrumentor's own way, replacing
``web.Application`` with a subclass, is deprecated by aiohttp; the instrumentor is run once
only to set up the middleware's shared state, and ``web.Application`` is put back at once.)
AI Ready adds its own instruments, so operators see what a learner feels:

- ``aiready.turn.duration`` (ms, histogram), by activity ``kind`` and ``outcome``;
- ``aiready.turn.failures`` (counter), by ``kind`` and ``error`` (the exception's class);
- ``aiready.messages`` (counter), by send ``status`` (sent, queued, gone, failed, unknown).

With ``APPLICATIONINSIGHTS_CONNECTION_STRING`` set, spans and metrics go to Application
Insights through Azure Monitor's OpenTelemetry exporters; otherwise the OpenTelemetry API's
no-op providers are used, unless a test passes its own.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

from aiohttp.typedefs import Middleware
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.aiohttp_server import (
    AioHttpServerInstrumentor,
    create_aiohttp_middleware,
)

logger = logging.getLogger(__name__)

SERVICE_NAME = "ai-ready"
_configured = False


@dataclass
class Telemetry:
    """The tracer and instruments of one app."""

    tracer_provider: trace.TracerProvider
    meter_provider: metrics.MeterProvider

    def __post_init__(self) -> None:
        meter = self.meter_provider.get_meter("aiready")
        self.tracer = self.tracer_provider.get_tracer("aiready")
        self._duration = meter.create_histogram(
            "aiready.turn.duration", unit="ms", description="Time to answer a bot activity"
        )
        self._failures = meter.create_counter(
            "aiready.turn.failures", description="Bot turns that ended in an error card"
        )
        self._messages = meter.create_counter(
            "aiready.messages", description="Outbound messages, by how their send ended"
        )

    def middleware(self) -> Middleware:
        """The aiohttp server-span middleware."""
        middleware: Middleware = create_aiohttp_middleware(tracer_provider=self.tracer_provider)
        return middleware

    def turn_done(self, kind: str, outcome: str, milliseconds: float) -> None:
        """Record one turn."""
        self._duration.record(milliseconds, {"kind": kind, "outcome": outcome})

    def turn_failed(self, kind: str, error: str) -> None:
        """Record a turn that became an error card."""
        self._failures.add(1, {"kind": kind, "error": error})

    def message_sent(self, status: str) -> None:
        """Record how an outbound send ended."""
        self._messages.add(1, {"status": status})


def telemetry_for(connection_string: str) -> Telemetry:
    """The process's telemetry (call before the app is built): Azure Monitor when
    configured, else whatever providers are set globally (the API's no-ops by default)."""
    global _configured
    if not _configured:
        if connection_string:
            _configure_azure_monitor(connection_string)
        instrumentor = AioHttpServerInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                instrumentor.instrument()
            instrumentor.uninstrument()  # restores web.Application; the shared state stays
        _configured = True
    return Telemetry(trace.get_tracer_provider(), metrics.get_meter_provider())


def _configure_azure_monitor(connection_string: str) -> None:
    from azure.monitor.opentelemetry.exporter import (
        AzureMonitorMetricExporter,
        AzureMonitorTraceExporter,
    )
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": SERVICE_NAME})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(AzureMonitorTraceExporter(connection_string=connection_string))
    )
    reader = PeriodicExportingMetricReader(
        AzureMonitorMetricExporter(connection_string=connection_string)
    )
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader], resource=resource))
    logger.info("exporting traces and metrics to Azure Monitor")
