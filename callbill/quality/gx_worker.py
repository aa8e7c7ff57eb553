"""Great Expectations validations in a process of their own during `callbill close` (issue #8).

Importing GX costs ~4 s of Python (scipy, pydantic models). In the close's own process that work
competed for the interpreter lock with Dagster and dbt; a 1 M-call re-close ran ~2.5 s faster with
no GX in it at all. `callbill close` therefore starts this worker before anything else: it imports
GX on the machine's other core while the close loads its definitions and builds, then validates
each suite's rows it is sent (pickled over its stdin and stdout, one request at a time). A process
that closes again keeps its worker. Should the worker be gone, a check validates in the close's own
process and says so in the run's log.

    python -m callbill.quality.gx_worker      # what GxWorker starts; not meant to be run by hand
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd

from callbill.quality import suites

REPO_ROOT = Path(__file__).resolve().parents[2]


class WorkerGone(Exception):
    """The worker process ended or broke the protocol: validate in process instead."""


class GxWorkerError(Exception):
    """Great Expectations raised while validating in the worker (its traceback is the message)."""


class GxWorker:
    """One worker process and its pipes; requests are answered in order, one at a time."""

    def __init__(self, log_path: Path):
        self._log_lock = threading.Lock()
        self._log: IO[bytes] | None = None
        self.log_to(log_path)
        pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "callbill.quality.gx_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": pythonpath, "GX_ANALYTICS_ENABLED": "False"},
        )
        self._lock = threading.Lock()
        threading.Thread(target=self._copy_log, name="callbill-gx-log", daemon=True).start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def log_to(self, log_path: Path) -> None:
        """What the worker prints goes to this close's log from now on."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_lock:
            if self._log is not None:
                self._log.close()
            self._log = log_path.open("ab")

    def _copy_log(self) -> None:
        for line in self._process.stderr:
            with self._log_lock:
                if self._log is not None and not self._log.closed:
                    self._log.write(line)
                    self._log.flush()

    def validate(self, suite: suites.Suite, rows: pd.DataFrame) -> list[dict[str, Any]]:
        with self._lock:
            try:
                pickle.dump((suite, rows), self._process.stdin)
                self._process.stdin.flush()
                status, value = pickle.load(self._process.stdout)
            except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
                raise WorkerGone(f"exit code {self._process.poll()}: {type(exc).__name__}: {exc}") from exc
        if status == "error":
            raise GxWorkerError(f"Great Expectations failed validating suite {suite.name}:\n{value}")
        return value

    def stop(self) -> None:
        """The worker holds nothing to save: it is ended at once rather than left to unload GX."""
        self._process.kill()
        self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        with self._log_lock:
            if self._log is not None:
                self._log.close()


_worker: GxWorker | None = None


@contextmanager
def running(log_path: Path) -> Iterator[GxWorker]:
    """The worker for the checks run inside the block (by `validate`). It outlives the block: a process
    that closes again (the test suite, a notebook) reuses it and imports GX once; it ends with the
    process."""
    global _worker
    if _worker is not None and _worker.alive():
        _worker.log_to(log_path)
    else:
        _worker = GxWorker(log_path)
        atexit.register(_worker.stop)
    yield _worker


def validate(
    suite: suites.Suite, rows: pd.DataFrame, on_fallback: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """Validate in the worker if one is running, else (or if it is gone) in this process."""
    global _worker
    worker = _worker
    if worker is not None:
        try:
            return worker.validate(suite, rows)
        except WorkerGone as gone:
            _worker = None
            if on_fallback is not None:
                on_fallback(f"the Great Expectations worker (pid {worker.pid}) is gone ({gone}); validating here")
    return suites.validate(suite, rows)


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """Answer (suite, rows) requests with ("ok", failures) or ("error", traceback) until EOF."""
    import great_expectations  # noqa: F401 - now, while the close is busy with other things

    while True:
        try:
            suite, rows = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = ("ok", suites.validate(suite, rows))
        except Exception as exc:  # noqa: BLE001 - reported to the close, which fails the check
            reply = ("error", "".join(traceback.format_exception(exc)))
        pickle.dump(reply, replies)
        replies.flush()


if __name__ == "__main__":
    # Replies go over the original stdout only; anything printed goes to stderr (the worker's log).
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, replies)
