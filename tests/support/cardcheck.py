"""Validate Adaptive Cards in tests with Microsoft's ``adaptivecards`` library.

:class:`CardValidator` starts ``node tools/validate_cards.mjs`` once, as a long-running worker,
and sends it one card per request over stdin/stdout (newline-delimited JSON), so a test session
pays Node's start-up and the library's load time once rather than per card.

Typical use, as a pytest fixture::

    @pytest.fixture(scope="session")
    def card_validator() -> Iterator[CardValidator]:
        with CardValidator() as validator:
            yield validator

    def test_welcome_card(card_validator: CardValidator) -> None:
        card_validator.assert_valid(build_welcome_card())

Requires Node.js on ``PATH`` and the repository's npm packages (``npm ci`` at the repo root).
"""

from __future__ import annotations

import itertools
import json
import queue
import shutil
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, NoReturn, Self

__all__ = ["REPO_ROOT", "CardValidator", "CardValidatorError"]

#: Repository root, found relative to this file (``tests/support/cardcheck.py``).
REPO_ROOT: Final[Path] = Path(__file__).resolve().parents[2]
#: Path of the Node worker, relative to the repository root.
WORKER_RELPATH: Final[str] = "tools/validate_cards.mjs"
#: Files whose absence means the npm packages are not installed.
_REQUIRED_NODE_FILES: Final[tuple[str, ...]] = (
    "node_modules/adaptivecards/dist/adaptivecards.js",
    "node_modules/jsdom/package.json",
)
_STDERR_TAIL_LINES: Final[int] = 200


class CardValidatorError(RuntimeError):
    """The validator could not be started or stopped working (not: the card is invalid)."""


class CardValidator:
    """A running ``tools/validate_cards.mjs`` worker that validates Adaptive Cards.

    The worker is started by the constructor and stopped by :meth:`close` (or by leaving a
    ``with`` block). :meth:`validate` is serialized with a lock, so one instance may be shared by
    a whole pytest session, including tests that call it from worker threads
    (``asyncio.to_thread``); requests are answered strictly one at a time.
    """

    def __init__(
        self,
        *,
        repo_root: Path | None = None,
        node: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Start the worker.

        Args:
            repo_root: repository root holding ``tools/`` and ``node_modules/``; defaults to the
                root found relative to this file.
            node: the Node.js executable; defaults to ``node`` found on ``PATH``.
            timeout: seconds to wait for the answer to one card before giving up.

        Raises:
            CardValidatorError: Node.js, the worker script or ``node_modules`` is missing, or the
                worker failed to start.
        """
        root = (repo_root if repo_root is not None else REPO_ROOT).resolve()
        node_path = shutil.which(node if node is not None else "node")
        if node_path is None:
            raise CardValidatorError(
                f"Node.js executable {node or 'node'!r} not found on PATH: install Node.js 20+, "
                f"then run `npm ci` in {root}"
            )
        script = root / WORKER_RELPATH
        if not script.is_file():
            raise CardValidatorError(f"card validator script not found: {script}")
        missing = [rel for rel in _REQUIRED_NODE_FILES if not (root / rel).is_file()]
        if missing:
            raise CardValidatorError(
                f"npm packages missing ({', '.join(missing)}): run `npm ci` in {root}"
            )

        self._timeout: float = timeout
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False
        self._broken: str | None = None
        self._responses: queue.Queue[str | None] = queue.Queue()
        self._stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        try:
            self._proc: subprocess.Popen[str] = subprocess.Popen(  # noqa: S603 - fixed argv
                [node_path, str(script)],
                cwd=root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
        except OSError as exc:
            raise CardValidatorError(f"cannot start {node_path} {script}: {exc}") from exc
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._stdout_thread = threading.Thread(
            target=self._pump_stdout,
            args=(self._proc.stdout,),
            name="cardcheck-stdout",
            daemon=True,
        )
        self._stderr_thread = threading.Thread(
            target=self._pump_stderr,
            args=(self._proc.stderr,),
            name="cardcheck-stderr",
            daemon=True,
        )
        self._stdout_thread.start()
        self._stderr_thread.start()

    # ------------------------------------------------------------------------------ pumps
    def _pump_stdout(self, stream: IO[str]) -> None:
        """Move worker stdout lines to the response queue; ``None`` marks end of stream."""
        try:
            for line in stream:
                self._responses.put(line)
        except (OSError, ValueError):
            pass
        finally:
            self._responses.put(None)

    def _pump_stderr(self, stream: IO[str]) -> None:
        """Keep the last lines of worker stderr for error messages (and never let it block)."""
        try:
            for line in stream:
                self._stderr_tail.append(line.rstrip("\n"))
        except (OSError, ValueError):
            pass

    # ------------------------------------------------------------------------------ API
    @property
    def stderr_tail(self) -> str:
        """The last lines the worker wrote to stderr (for diagnostics)."""
        return "\n".join(self._stderr_tail)

    def validate(self, card: dict[str, Any]) -> list[str]:
        """Validate one card.

        Args:
            card: the Adaptive Card, as the bot would send it (a JSON-compatible dict).

        Returns:
            Human-readable problems; an empty list means the card is valid.

        Raises:
            CardValidatorError: the worker is closed, died, timed out or answered nonsense.
        """
        try:
            card_json = json.dumps(card, ensure_ascii=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return [f"card is not JSON-serializable: {exc}"]

        with self._lock:
            if self._closed:
                raise CardValidatorError("CardValidator is closed")
            if self._broken is not None:
                raise CardValidatorError(f"card validator worker is unusable: {self._broken}")
            request_id = f"c{next(self._ids)}"
            line = f'{{"id": {json.dumps(request_id)}, "card": {card_json}}}\n'
            stdin = self._proc.stdin
            assert stdin is not None
            try:
                stdin.write(line)
                stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:
                self._fail(f"cannot write to worker: {exc}")
            return self._read_response(request_id)

    def assert_valid(self, card: dict[str, Any], name: str = "card") -> None:
        """Assert that ``card`` is valid, listing every problem if it is not.

        Raises:
            AssertionError: the card has problems.
        """
        problems = self.validate(card)
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems)
            raise AssertionError(f"{name} is not a valid Adaptive Card:\n{listing}")

    def close(self) -> None:
        """Stop the worker and release its pipes. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            proc = self._proc
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            self._stdout_thread.join(timeout=5)
            self._stderr_thread.join(timeout=5)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> Self:
        """Return the running validator."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the worker."""
        self.close()

    # ------------------------------------------------------------------------------ internals
    def _read_response(self, request_id: str) -> list[str]:
        """Wait for the worker's answer to ``request_id`` (caller holds the lock)."""
        deadline = time.monotonic() + self._timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(f"no answer within {self._timeout:g}s", kill=True)
            try:
                raw = self._responses.get(timeout=remaining)
            except queue.Empty:
                self._fail(f"no answer within {self._timeout:g}s", kill=True)
            if raw is None:
                self._responses.put(None)  # keep the end-of-stream marker for later calls
                code = self._proc.poll()
                self._fail(f"worker exited (code {code})")
            try:
                response = json.loads(raw)
            except json.JSONDecodeError:
                self._fail(f"worker wrote a non-JSON line: {raw[:200]!r}")
            if not isinstance(response, dict):
                self._fail(f"worker wrote an unexpected answer: {raw[:200]!r}")
            if response.get("id") != request_id:
                continue  # stale answer to an earlier request; ignore it
            problems = response.get("problems")
            if not isinstance(problems, list) or not all(isinstance(p, str) for p in problems):
                self._fail(f"worker answer has no problem list: {raw[:200]!r}")
            if response.get("ok") is not (not problems):
                self._fail(f"worker answer is inconsistent: {raw[:200]!r}")
            return list(problems)

    def _fail(self, reason: str, *, kill: bool = False) -> NoReturn:
        """Mark the worker unusable and raise (never returns)."""
        self._broken = reason
        if kill and self._proc.poll() is None:
            self._proc.kill()
        tail = self.stderr_tail
        detail = f"\nworker stderr (last lines):\n{tail}" if tail else ""
        raise CardValidatorError(f"card validator worker failed: {reason}{detail}")
