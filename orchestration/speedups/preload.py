"""Heavy imports started on a thread while the close does other work (issue #8).

`callbill close` runs its job in process: Dagster spends seconds recording the run's planned
events before the first step. dbt-core and its DuckDB adapter (~2 s, imported by the first dbt
step) load meanwhile. The dbt step waits for the preload to finish, so the same module is never
imported by two threads at once. Great Expectations is not preloaded: the close validates in a
worker process of its own (callbill/quality/gx_worker.py).
"""

from __future__ import annotations

import importlib
import threading

DBT = "dbt"

MODULES = {
    # What the in-process dbt build imports (orchestration/speedups/dbt_in_process.py), and the adapter.
    DBT: (
        "dbt.cli.main",
        "dbt_common.events.functions",
        "dbt.adapters.duckdb",
        "dbt.adapters.duckdb.impl",
    ),
}

_done: dict[str, threading.Event] = {}
_thread: threading.Thread | None = None


def start() -> None:
    """Import the dbt adapter modules on a background thread."""
    global _thread
    if _thread is not None:
        return
    for name in MODULES:
        _done[name] = threading.Event()

    def load() -> None:
        for name, modules in MODULES.items():
            try:
                for module in modules:
                    importlib.import_module(module)
            except Exception:  # noqa: BLE001 - the step imports it again and reports the error itself
                pass
            finally:
                _done[name].set()

    _thread = threading.Thread(target=load, name="callbill-preload", daemon=True)
    _thread.start()


def wait(name: str) -> None:
    """Before importing `name` (DBT): wait for a preload that is under way."""
    done = _done.get(name)
    if done is not None:
        done.wait()


def finish() -> None:
    """Never leave an import running at interpreter exit."""
    if _thread is not None:
        _thread.join()
