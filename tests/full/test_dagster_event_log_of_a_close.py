"""A close's events in callbill's Dagster instance are read back by Dagster's own event log storage."""

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from callbill.close import dagster_instance
from orchestration.speedups.dagster_events import KeptOpenSqliteEventLogStorage


def test_a_close_is_read_back_by_dagsters_own_event_log_in_a_moved_dagster_home(closed_may):
    """closed_may is a copy of another folder's warehouse and Dagster home: the event log follows
    DAGSTER_HOME, so the copy's runs are its own."""
    home = closed_may / "dagster_home"
    with dagster_instance() as instance:
        assert type(instance.event_log_storage) is KeptOpenSqliteEventLogStorage
        (run,) = instance.get_runs()
        written = [e.dagster_event.event_type_value for e in instance.all_logs(run.run_id) if e.is_dagster_event]
    stock = SqliteEventLogStorage(str(home / "history" / "runs"))
    read = [e.dagster_event.event_type_value for e in stock.get_logs_for_run(run.run_id) if e.is_dagster_event]
    assert read == written
    # 77: the 71 dbt models and seeds (12 of them models that were macros and SQL files, #26.2),
    # publish_invoices and the four published tables it writes (#25.7), the readers' snapshot; 90: the
    # 83 dbt tests (every_billed_item_is_on_one_line a check since #25.7), 4 GX suites, 2 usage-feed
    # checks and published_calls_unchanged.
    assert (read.count("ASSET_MATERIALIZATION"), read.count("ASSET_CHECK_EVALUATION")) == (77, 90)
    # The planned events, written as one batch, are in the run and in the cross-run index.
    assert (read.count("ASSET_MATERIALIZATION_PLANNED"), read.count("ASSET_CHECK_EVALUATION_PLANNED")) == (77, 90)
    planned = stock.get_event_records(
        dg.EventRecordsFilter(
            dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, asset_key=dg.AssetKey("publish_invoices")
        )
    )
    assert [r.run_id for r in planned] == [run.run_id]
    published = stock.fetch_materializations(dg.AssetKey("publish_invoices"), limit=1).records
    assert [(r.run_id, r.partition_key) for r in published] == [(run.run_id, "2026-05")]
