"""What an operator sees: one log line per failed turn, correlation ids, JSON logs, traces and
metrics, several worker processes."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from server.logs import JsonFormatter, configure_logging
from server.telemetry import Telemetry
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import StorageUnavailable
from tests.support.azurite import Azurite, free_port
from tests.support.driver import find_action

REPO_ROOT = Path(__file__).resolve().parents[2]


class BrokenStore(MemoryLearnerStore):
    """Storage that is down for profile reads once ``broken`` is set."""

    broken = False

    async def get_profile(self, key: Any) -> Any:
        if self.broken:
            raise StorageUnavailable("down")
        return await super().get_profile(key)


def _turn_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING and r.name != "server.app"]


async def test_a_failed_turn_is_one_log_line_with_its_ids_and_no_traceback(
    make_driver: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    store = BrokenStore()
    bot = await make_driver(store)
    await bot.install()
    store.broken = True
    activity = bot.user.invoke("show_progress")
    with caplog.at_level(logging.INFO):
        caplog.clear()
        response = await bot.client.post("/api/messages", json=activity)
        body = await response.json()
    assert "try again" in json.dumps(body).lower()
    records = _turn_records(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    record = records[0]
    assert activity["id"] in record.getMessage()
    assert record.exc_info is None, "an outage is not a bug: no traceback"
    assert record.correlation_id == response.headers["X-Correlation-Id"]  # type: ignore[attr-defined]


async def test_a_bug_is_logged_once_with_its_traceback(
    make_driver: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = await make_driver(MemoryLearnerStore())
    await bot.install()
    from teams_app.learning import LearningService

    async def broken(*_args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(LearningService, "progress", broken)
    with caplog.at_level(logging.INFO):
        caplog.clear()
        card = await bot.click("show_progress")
    assert "Something went wrong" in json.dumps(card)
    assert "a bug" not in json.dumps(card) and "RuntimeError" not in json.dumps(card)
    records = _turn_records(caplog)
    assert len(records) == 1 and records[0].exc_info is not None


def test_json_logs_are_one_object_per_line() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "turn failed: %s", ("Boom",), None
    )
    record.correlation_id = "abc"
    entry = json.loads(formatter.format(record))
    assert entry["message"] == "turn failed: Boom"
    assert entry["level"] == "WARNING" and entry["correlation_id"] == "abc"
    configure_logging("INFO", "json")  # installs the same formatter on the root logger
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)
    configure_logging("INFO", "text")


async def test_turns_produce_spans_and_metrics(make_driver: Callable[..., Any]) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    telemetry = Telemetry(tracer_provider, MeterProvider(metric_readers=[reader]))
    bot = await make_driver(MemoryLearnerStore(), telemetry=telemetry)
    await bot.install()
    card = await bot.click("choose_role", {"role": "hr"})
    find_action(card, "start_assessment")

    spans = exporter.get_finished_spans()
    assert any(s.kind is trace.SpanKind.SERVER and "/api/messages" in s.name for s in spans)
    data = reader.get_metrics_data()
    assert data is not None
    points = {
        metric.name: metric.data.data_points
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    kinds = {dict(p.attributes or {}).get("kind") for p in points["aiready.turn.duration"]}
    assert {"conversationUpdate", "invoke"} <= kinds
    statuses = {dict(p.attributes or {}).get("status") for p in points["aiready.messages"]}
    assert "sent" in statuses
    assert isinstance(metrics.get_meter_provider(), metrics.MeterProvider)


@pytest.mark.azurite
def test_several_worker_processes_serve_one_port(azurite: Azurite) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIREADY_")},
        "AIREADY_ENV": "development",
        "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
        "AIREADY_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "AIREADY_TABLE_PREFIX": "workers" + str(port),
        "AIREADY_PORT": str(port),
        "AIREADY_WORKERS": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "server"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        answered = False
        while time.monotonic() < deadline and not answered:
            try:
                answered = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok
            except requests.ConnectionError:
                time.sleep(0.2)
        assert answered, "the server did not come up"
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) == 2, "two workers under one master"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in stderr
