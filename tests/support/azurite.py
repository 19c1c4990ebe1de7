"""Start and stop Azurite (Microsoft's Azure Storage emulator) for the test session."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "devstoreaccount1"
# Azurite's fixed, publicly documented development key (not a secret).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def connection_string(table_port: int, queue_port: int | None = None) -> str:
    """The connection string for Azurite's table (and queue) service on these ports."""
    queue = f"QueueEndpoint=http://127.0.0.1:{queue_port}/{ACCOUNT};" if queue_port else ""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"TableEndpoint=http://127.0.0.1:{table_port}/{ACCOUNT};{queue}"
    )


@dataclass
class Azurite:
    """A running Azurite: the table, queue and blob services."""

    process: subprocess.Popen[bytes]
    port: int  # the table service
    queue_port: int
    workdir: Path

    @property
    def connection_string(self) -> str:
        return connection_string(self.port, self.queue_port)

    def stop(self) -> None:
        """Stop with SIGINT (Azurite's clean shutdown) and wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_azurite(port: int | None = None) -> Azurite:
    """Start Azurite in memory on free ports and wait until it accepts connections."""
    binary = REPO_ROOT / "node_modules" / ".bin" / "azurite"
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run `npm ci` in {REPO_ROOT}")
    port = port or free_port()
    queue_port, blob_port = free_port(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="azurite-"))
    log_path = workdir / "azurite.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - a fixed local binary
            [
                str(binary),
                *("--tableHost", "127.0.0.1", "--tablePort", str(port)),
                *("--queueHost", "127.0.0.1", "--queuePort", str(queue_port)),
                *("--blobHost", "127.0.0.1", "--blobPort", str(blob_port)),
                *("--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck"),
            ],
            cwd=workdir,
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 30
    waiting = [port, queue_port]
    while time.monotonic() < deadline and waiting:
        if process.poll() is not None:
            raise RuntimeError(
                f"Azurite exited early: {log_path.read_text(errors='replace')[-500:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.2):
                waiting.pop(0)
        except OSError:
            time.sleep(0.1)
    if not waiting:
        return Azurite(process, port, queue_port, workdir)
    process.kill()
    process.wait()
    raise RuntimeError("Azurite did not start within 30 s")
