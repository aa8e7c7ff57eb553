"""The Dagster instance's event log: Dagster's own SQLite storage, with its connections kept open.

Dagster's SqliteEventLogStorage opens a SQLite engine, connects, and disposes of it again for
every read and write. A close records ~280 events (planned, started, output, check result, ...),
each in the run's database and the index, and that took ~3 s of every close (issue #8). This
subclass keeps an engine for the index and for the most recent runs' databases instead. The files,
their schema and their layout under DAGSTER_HOME are Dagster's, so the UI and older runs read them
as before. callbill's dagster.yaml names this class (`write_instance_config`, called by the CLI
and by `make ui`); a dagster.yaml someone wrote themselves is left alone.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# The index and the runs being written or watched; an older run's engine is closed when evicted.
OPEN_DATABASES = 8


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose connections outlive one read or write."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        # Before Dagster's __init__, which indexes a new folder through _connect. The engines are
        # used under Dagster's own _db_lock, like every read and write of this storage.
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        # During store_event_batch: its thread's open transaction on each database it wrote.
        self._batch: dict[str, Connection] | None = None
        self._batch_thread: int | None = None
        # Tables of the index known to exist: Dagster asks before every asset and check event.
        self._tables_present: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> Any:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> KeptOpenSqliteEventLogStorage:
        # Dagster's own place under DAGSTER_HOME unless configured: the folder can move with its warehouse.
        base_dir = config_value.get("base_dir") or os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")
        return cls(base_dir=base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        """The shard's engine, the most recently used last (called with _db_lock held)."""
        engine = self._engines.pop(shard, None)
        if engine is None:
            # One connection per database kept, used by one thread at a time (_db_lock); creating
            # a database's tables opens a second one for a moment.
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=2,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
        self._engines[shard] = engine
        while len(self._engines) > OPEN_DATABASES:
            _, evicted = self._engines.popitem(last=False)
            evicted.dispose()
        return engine

    def _initialized_engine(self, shard: str) -> Engine:
        engine = self._engine(shard)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        if self._batch is not None and self._batch_thread == threading.get_ident():
            # Inside store_event_batch, which holds _db_lock: the batch's transaction on this database.
            if shard not in self._batch:
                conn = self._initialized_engine(shard).connect()
                conn.begin()
                self._batch[shard] = conn
            yield self._batch[shard]
            return
        with self._db_lock:
            with self._initialized_engine(shard).connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Dagster opens a new connection to the index for each of these questions (~5 ms, two per
        asset or check event); a table, once there, stays until the storage is wiped."""
        if table_name not in self._tables_present and super().has_table(table_name):
            self._tables_present.add(table_name)
        return table_name in self._tables_present

    def store_event_batch(self, events: Sequence[Any]) -> None:
        """Dagster's own storage writes a batch event by event, one transaction each. A run's planned
        events (one per asset and check, ~110 per close) come as one batch when DAGSTER_EVENT_BATCH_SIZE
        is set (the CLI sets it): here they are written with Dagster's own code, in one transaction
        per database."""
        with self._db_lock:
            self._batch, self._batch_thread = {}, threading.get_ident()
            try:
                for event in events:
                    self.store_event(event)
                for conn in self._batch.values():
                    conn.commit()
            finally:
                for conn in self._batch.values():
                    conn.close()  # rolls back what was not committed
                self._batch, self._batch_thread = None, None

    def _close_engines(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        # Run databases are deleted from disk: no connection may outlive its file.
        self._close_engines()
        self._tables_present.clear()
        super().wipe()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()


# What callbill wrote before the event log storage was named, and the mark of what it writes since:
# both are upgraded in place (the module moved once); any other file is kept.
PREVIOUS_INSTANCE_CONFIG = "telemetry:\n  enabled: false\n"
WRITTEN_BY_CALLBILL = "# Written by callbill"


def instance_config() -> str:
    return (
        f"{WRITTEN_BY_CALLBILL} (orchestration/speedups/dagster_events.py).\n"
        "# Nothing leaves the machine at run time: no telemetry.\n"
        "telemetry:\n"
        "  enabled: false\n"
        "# Dagster's SQLite event log, in its usual place, with its connections kept open.\n"
        "event_log_storage:\n"
        "  module: orchestration.speedups.dagster_events\n"
        f"  class: {KeptOpenSqliteEventLogStorage.__name__}\n"
        "  config: {}\n"
    )


def write_instance_config(home: Path) -> Path:
    """DAGSTER_HOME/dagster.yaml for callbill's instance, unless someone wrote their own."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if (
        not config.exists()
        or config.read_text() == PREVIOUS_INSTANCE_CONFIG
        or (config.read_text().startswith(WRITTEN_BY_CALLBILL))
    ):
        config.write_text(instance_config())
    return config


if __name__ == "__main__":
    # `make ui`: the same instance as the CLI's.
    write_instance_config(Path(sys.argv[1]))
