"""``scripts/dev.sh`` refuses clearly, before starting anything, when it can't run."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from tests.conftest import REPO_ROOT


def _dev(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script
        [str(REPO_ROOT / "scripts" / "dev.sh"), *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "what"),
    [
        ("AZURITE_TABLE_PORT", "Azurite table"),
        ("AZURITE_QUEUE_PORT", "Azurite queue"),
        ("AIREADY_PORT", "the bot"),
        ("PLAYGROUND_PORT", "the Agents Playground"),
    ],
)
def test_a_taken_port_stops_it_with_the_setting_to_change(variable: str, what: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _dev(**{variable: str(port)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"port {port} ({what}) is already in use" in result.stderr
    assert variable in result.stderr
    assert "starting Azurite" not in result.stdout, "nothing was started"


def test_a_bad_clock_speed_is_refused() -> None:
    result = _dev("--fast-clock", "fast")
    assert result.returncode == 2
    assert "clock speed must be a whole number" in result.stderr
