"""``python -m server deliveries``: the per-campaign accounting, read from the ledger on
Azurite by a separate process, as an operator would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from teams_app.storage.engine_ports import Claim, Outcome, State
from teams_app.storage.engine_tables import TableLedger
from teams_app.storage.tables import TableLearnerStore
from tests.conftest import REPO_ROOT, table_prefix
from tests.support.azurite import Azurite

pytestmark = pytest.mark.azurite

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ENDINGS = [
    Outcome(State.SENT, 201, 1),
    Outcome(State.SENT, 201, 3, throttled=2),
    Outcome(State.GONE, 403, 1),
    Outcome(State.SKIPPED),
    Outcome(State.UNKNOWN),
]


def _deliveries(azurite: Azurite, prefix: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIREADY_ENV": "development",
        "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
        "AIREADY_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "AIREADY_TABLE_PREFIX": prefix,
    }
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "server", "deliveries", *extra],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _campaign(azurite: Azurite, prefix: str, campaign: str, queued: int) -> None:
    store = TableLearnerStore.from_connection_string(azurite.connection_string, prefix)
    ledger = TableLedger(store.service, prefix, store.guard)
    await ledger.open()
    try:
        for n, outcome in enumerate(ENDINGS):
            recipient = f"tenant|learner-{n}"
            etag = await ledger.plan(campaign, recipient, NOW)
            claim = await ledger.claim(campaign, recipient, "cli-test", NOW, etag)
            assert isinstance(claim, Claim)
            await ledger.record(claim, outcome)
        for n in range(queued):
            await ledger.plan(campaign, f"tenant|waiting-{n}", NOW)
    finally:
        await ledger.close()
        await store.close()


async def test_the_report_counts_each_campaigns_deliveries(azurite: Azurite) -> None:
    prefix = table_prefix()
    await _campaign(azurite, prefix, "challenge-2026-W49", queued=2)
    await _campaign(azurite, prefix, "pulse-2026-W49", queued=0)

    as_json = _deliveries(azurite, prefix, "--json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    challenge = report["campaigns"]["challenge-2026-W49"]
    assert (challenge["sent"], challenge["gone"], challenge["skipped"]) == (2, 1, 1)
    assert (challenge["unknown"], challenge["queued"], challenge["throttled"]) == (1, 2, 2)
    pulse = report["campaigns"]["pulse-2026-W49"]
    assert pulse.get("queued", 0) == 0 and pulse["sent"] == 2
    assert report["set_aside"] == 0

    table = _deliveries(azurite, prefix)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:3] == ["campaign", "queued", "sent"]
    assert "unreachable" in header
    row = next(r.split() for r in rows if r.startswith("challenge-2026-W49"))
    assert row[1:3] == ["2", "2"], "queued, sent"

    only = _deliveries(azurite, prefix, "--campaign", "pulse-2026-W49", "--json")
    assert list(json.loads(only.stdout)["campaigns"]) == ["pulse-2026-W49"]


async def test_an_empty_ledger_says_so(azurite: Azurite) -> None:
    result = _deliveries(azurite, table_prefix())
    assert result.returncode == 0, result.stderr
    assert "(no deliveries yet)" in result.stdout
