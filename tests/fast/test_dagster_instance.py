"""callbill's Dagster instance: Dagster's own SQLite event log files, written with connections kept open."""

import logging
import time

import pytest
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster_shared.check import CheckError

from orchestration.speedups.dagster_events import (
    PREVIOUS_INSTANCE_CONFIG,
    KeptOpenSqliteEventLogStorage,
    instance_config,
    write_instance_config,
)


def test_the_instance_config_names_the_event_log_upgrades_callbills_old_one_and_keeps_a_users_own(tmp_path):
    assert "  class: KeptOpenSqliteEventLogStorage\n" in write_instance_config(tmp_path / "new").read_text()
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "dagster.yaml").write_text(PREVIOUS_INSTANCE_CONFIG)
    assert write_instance_config(tmp_path / "old").read_text() == instance_config()
    # written when the event log lived in orchestration/dagster_events.py
    (tmp_path / "moved").mkdir()
    before_the_move = instance_config().replace("orchestration.speedups.dagster_events", "orchestration.dagster_events")
    (tmp_path / "moved" / "dagster.yaml").write_text(before_the_move)
    assert "module: orchestration.speedups.dagster_events\n" in write_instance_config(tmp_path / "moved").read_text()
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    assert write_instance_config(tmp_path / "own").read_text() == "telemetry:\n  enabled: true\n"


def log_entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None, level=logging.INFO, user_message=message, run_id=run_id, timestamp=time.time()
    )


def test_a_batch_of_events_is_stored_whole_or_not_at_all(tmp_path):
    storage = KeptOpenSqliteEventLogStorage(str(tmp_path / "runs"))
    storage.store_event_batch([log_entry("run-a", "first"), log_entry("run-b", "second")])
    with pytest.raises(CheckError, match='Param "event" is not a EventLogEntry'):
        # Dagster refuses the second entry: the first is rolled back with it.
        storage.store_event_batch([log_entry("run-a", "third"), None])
    storage.store_event(log_entry("run-a", "fourth"))
    stock = SqliteEventLogStorage(str(tmp_path / "runs"))
    assert [e.user_message for e in stock.get_logs_for_run("run-a")] == ["first", "fourth"]
    assert [e.user_message for e in stock.get_logs_for_run("run-b")] == ["second"]
    storage.dispose()


def test_a_table_of_the_index_is_looked_up_until_it_is_there_then_remembered(tmp_path):
    storage = KeptOpenSqliteEventLogStorage(str(tmp_path / "runs"))
    assert storage.has_table("asset_check_executions")
    assert not storage.has_table("callbill_later_table")
    with storage.index_connection() as conn:
        conn.exec_driver_sql("create table callbill_later_table (id integer)")
    # Not there before, there now: a missing table is asked about again.
    assert storage.has_table("callbill_later_table")
    with storage.index_connection() as conn:
        conn.exec_driver_sql("drop table callbill_later_table")
    # Remembered once seen (Dagster never drops its tables) ...
    assert storage.has_table("callbill_later_table")
    storage.wipe()
    # ... until the storage is wiped.
    assert not storage.has_table("callbill_later_table")
    storage.dispose()
