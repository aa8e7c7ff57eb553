"""Snapshot of what the Dagster UI shows: jobs, schedule, checks, groups; landing through Dagster."""

import os

import dagster as dg
import duckdb
from helpers import FIXTURES

from orchestration.definitions import defs
from orchestration.defs.engine import CallbillEngine
from orchestration.defs.landing import landed_files


def test_close_job_schedule_and_blocking_gx_checks():
    job = defs.resolve_job_def("month_end_close")
    assert (
        job.partitions_def.get_partition_key_range_for_time_window(
            job.partitions_def.time_window_for_partition_key("2026-05")
        ).start
        == "2026-05"
    )
    schedule = defs.resolve_schedule_def("month_end_close_on_the_1st")
    assert schedule.cron_schedule == "0 6 1 * *"
    assert schedule.job_name == "month_end_close"

    graph = defs.resolve_asset_graph()
    gx_checks = {k.name: k.asset_key.to_user_string() for k in graph.asset_check_keys if k.name.startswith("gx_")}
    assert gx_checks == {
        "gx_invoices_balance": "marts/fct_invoices",
        "gx_account_invoice_coverage": "marts/fct_invoices",
        "gx_revenue_assurance": "marts/fct_rated_calls",
        "gx_invoice_change_review": "marts/fct_invoices",
    }
    blocking = {key.name for key in graph.asset_check_keys if graph.get_check_spec(key).blocking}
    assert {"gx_invoices_balance", "gx_account_invoice_coverage", "gx_revenue_assurance"} <= blocking
    assert "gx_invoice_change_review" not in blocking
    dbt_checks = {k.name for k in graph.asset_check_keys}
    assert {"account_plan_is_known", "every_call_has_a_rate", "every_billed_call_has_its_line"} <= dbt_checks


def test_assets_are_grouped_by_layer_and_publication_waits_for_the_marts():
    graph = defs.resolve_asset_graph()
    group = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert group["landing/cdrs"] == "landing"
    assert group["staging/stg_landing__cdrs"] == "staging"
    assert group["intermediate/int_calls_rated"] == "rating"
    assert group["marts/fct_invoices"] == "invoicing"
    assert group["reference/rate_deck"] == "reference"
    assert group["publish_invoices"] == "publication"
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey("publish_invoices")).parent_keys}
    assert parents == {"marts/fct_invoices", "marts/fct_invoice_lines", "marts/fct_rated_calls"}
    sources = {k.to_user_string() for k in graph.get(dg.AssetKey(["staging", "stg_landing__cdrs"])).parent_keys}
    assert sources == {"landing/cdrs"}


def test_the_published_tables_are_assets_of_the_publication_step_upstream_of_the_ledger():
    """#25.7: drafts -> publish_invoices -> published.* -> ledger models, no stubs in 'default'."""
    graph = defs.resolve_asset_graph()
    published = {"published/invoices", "published/invoice_lines", "published/rated_calls", "published/invoice_months"}
    for key in published:
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert node.is_executable and node.group_name == "publication", key
        assert {k.to_user_string() for k in node.parent_keys} == {"publish_invoices"}, key
        assert "never" in node.description.lower() and "R-INV-2" in node.description, key
    assert "published/invoices" in {k.to_user_string() for k in graph.get(dg.AssetKey("publish_invoices")).child_keys}
    assert not [k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).group_name == "default"]
    assert graph.get(dg.AssetKey(["audit", "billing_events"])).group_name == "audit"
    # The payout ledger: recorded by the payout run, read by rpt_payouts_due (an external asset).
    payouts = graph.get(dg.AssetKey(["published", "commission_payouts"]))
    assert (payouts.group_name, payouts.is_executable) == ("commissions", False)
    assert {k.to_user_string() for k in payouts.parent_keys} == {"commission_payout_files"}
    assert (
        dg.AssetKey(["published", "commission_payouts"])
        in graph.get(dg.AssetKey(["marts", "rpt_payouts_due"])).parent_keys
    )
    # Every ledger model comes after publication; no draft reads published.* in Dagster's graph (a cycle).
    ledger = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name in ("receivables", "commissions")}
    ledger |= {k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "reports"}
    for key in ledger:
        assert dg.AssetKey("publish_invoices") in graph.get_ancestor_asset_keys(key), key
    parents = {
        k.to_user_string() for k in graph.get(dg.AssetKey(["intermediate", "int_published_invoices_owed"])).parent_keys
    }
    assert {"published/invoices", "published/invoice_lines"} <= parents
    for key in graph.get_ancestor_asset_keys(dg.AssetKey("publish_invoices")):
        assert key.path[0] != "published", key
    # The close without publication leaves out the step and the tables it writes, as one.
    job = defs.resolve_job_def("month_end_close")
    assert {dg.AssetKey.from_user_string(k) for k in published} <= job.asset_layer.executable_asset_keys


def test_landing_asset_lands_the_folder(warehouse, tmp_path, monkeypatch):
    """With the spark engine, what landed is handed to Spark as Parquet too, a folder per batch."""
    monkeypatch.setenv("CALLBILL_SPARK_DIR", str(tmp_path / "spark"))
    result = dg.materialize(
        [landed_files],
        run_config={"ops": {"landed_files": {"config": {"landing_dir": str(FIXTURES / "landing_small")}}}},
        resources={"engine": CallbillEngine(name="spark")},
    )
    assert result.success
    cdrs_for_spark = tmp_path / "spark" / "sources" / "raw" / "cdrs"
    (batch,) = [path.name for path in cdrs_for_spark.iterdir() if path.name.startswith("landed_on=")]
    files = f"{cdrs_for_spark}/{batch}/*.parquet"
    assert duckdb.sql(f"select count(*) from read_parquet('{files}')").fetchall() == [(8,)]
    cdrs = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(["landing", "cdrs"])]
    assert cdrs[0].materialization.metadata["rows_accepted"].value == 8
    # The switches' raw tables are landing assets too, not stubs in 'default'.
    landed = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert {"landing/asterisk_cdrs", "landing/freeswitch_cdrs", "landing/accounts"} <= landed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.subscription_items").fetchone()[0] == 8


def test_a_cli_landing_is_recorded_in_the_dagster_instance_the_ui_reads(warehouse):
    """#25.7: after `callbill land`, the landing assets are materialized in DAGSTER_HOME, with the
    metadata a Dagster landing run gives them, so a launch of the close warns of nothing."""
    from click.testing import CliRunner

    from callbill.cli import main
    from callbill.close import dagster_instance
    from callbill.landing.land import LANDED_TABLES

    result = CliRunner().invoke(main, ["land", str(FIXTURES / "landing_small")])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        accounts = con.execute("select count(*) from raw.accounts").fetchone()[0]
    with dagster_instance() as instance:
        latest = instance.get_latest_materialization_event(dg.AssetKey(["landing", "accounts"]))
        assert latest is not None and latest.run_id == ""  # runless: reported by the command line
        metadata = {k: v.value for k, v in latest.asset_materialization.metadata.items()}
        assert metadata == {"files_landed": 1, "rows_accepted": accounts, "rows_quarantined": 0}
        # Every landing asset is known, a table without files (created empty) too.
        recorded = {t: instance.get_latest_materialization_event(dg.AssetKey(["landing", t])) for t in LANDED_TABLES}
        assert all(recorded.values()), [t for t, event in recorded.items() if event is None]
        assert recorded["adjustments"].asset_materialization.metadata["files_landed"].value == 0
        assert recorded["asterisk_cdrs"].asset_materialization.metadata["rows_accepted"].value == 0

        # Landing the same folder again lands nothing, and records nothing new.
        assert CliRunner().invoke(main, ["land", str(FIXTURES / "landing_small")]).exit_code == 0
        again = instance.get_latest_materialization_event(dg.AssetKey(["landing", "accounts"]))
        assert again.timestamp == latest.timestamp


def test_old_dbt_build_folders_go_and_the_newest_or_still_written_stay(tmp_path):
    """Each dbt build leaves a target folder (~4 MB); target/ keeps the newest 20 and any written in
    the last 6 hours, and never touches other files."""
    import os
    import time

    from orchestration.speedups.dbt_in_process import remove_old_build_folders

    def folders(ages_in_hours: dict[str, float]) -> None:
        now = time.time()
        for name, hours in ages_in_hours.items():
            (tmp_path / name).mkdir()
            (tmp_path / name / "run_results.json").write_text("{}")
            os.utime(tmp_path / name, (now - hours * 3600, now - hours * 3600))

    monthly = {f"callbill_dbt_models-{n:07x}-abcdef{n % 10}": 24.0 * (n + 1) for n in range(25)}
    folders({**monthly, "compiled": 1000.0})
    (tmp_path / "partial_parse.msgpack").write_bytes(b"")
    removed = remove_old_build_folders(tmp_path)
    assert sorted(p.name for p in removed) == sorted(list(monthly)[20:])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*list(monthly)[:20], "compiled", "partial_parse.msgpack"]
    )

    # A busy afternoon (a test suite, a backfill): 24 builds within 6 hours all stay.
    for folder in tmp_path.iterdir():
        if folder.is_dir():
            for file in folder.iterdir():
                file.unlink()
            folder.rmdir()
    busy = {f"callbill_ledger_models-{n:07x}-1234567": 0.2 * n for n in range(24)}
    folders({**busy, "callbill_dbt_models-aaaaaaa-bbbbbbb": 7.0})
    assert [p.name for p in remove_old_build_folders(tmp_path)] == ["callbill_dbt_models-aaaaaaa-bbbbbbb"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*busy, "partial_parse.msgpack"])


def test_a_build_folder_removed_by_another_close_meanwhile_is_skipped(tmp_path, monkeypatch):
    """Two closes share target/ (the UI's run, a CLI close): a folder the other one removes between
    the listing and its stat is skipped, and the step that cleans up does not fail on it."""
    from pathlib import Path

    from orchestration.speedups.dbt_in_process import remove_old_build_folders

    for n in range(22):
        (tmp_path / f"callbill_dbt_models-{n:07x}-1234567").mkdir()
        os.utime(tmp_path / f"callbill_dbt_models-{n:07x}-1234567", (n * 3600.0, n * 3600.0))
    # Listed and seen as a folder, then removed by the other close before it is looked at again.
    gone = tmp_path / "callbill_dbt_models-8b92ea0-d0180dd"
    listing, is_dir = Path.iterdir, Path.is_dir
    monkeypatch.setattr(Path, "iterdir", lambda self: [*listing(self), gone] if self == tmp_path else listing(self))
    monkeypatch.setattr(Path, "is_dir", lambda self: self == gone or is_dir(self))
    removed = remove_old_build_folders(tmp_path)
    assert sorted(p.name for p in removed) == [f"callbill_dbt_models-{n:07x}-1234567" for n in (0, 1)]


def test_dbt_debug_events_are_dropped_only_while_nobody_reads_them():
    """The in-process build's callback ignores debug events and its loggers are above debug: dbt
    drops those events before making messages of them; a callback or logger that reads them gets them."""
    from dbt.adapters.events.types import SQLQuery
    from dbt.events.types import LogModelResult
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager

    from orchestration.speedups.dbt_in_process import skip_debug_events_nobody_reads

    skip_debug_events_nobody_reads()
    seen: list[str] = []

    def ignoring(message) -> None:
        seen.append(f"ignoring got {message.info.name}")

    ignoring.ignores_debug_events = True
    manager = EventManager()
    manager.add_callback(ignoring)
    query = SQLQuery(conn_name="model.callbill.fct_invoices", sql="select 1", node_info={})
    result = LogModelResult(description="sql table model marts.fct_invoices", status="OK", index=1, total=2,
                            execution_time=0.5, node_info={})  # fmt: skip
    manager.fire_event(query)
    manager.fire_event(result, level=EventLevel.INFO)  # dbt gives a result's level as it fires it
    assert seen == ["ignoring got LogModelResult"]

    manager.add_callback(lambda message: seen.append(f"reading got {message.info.name}"))
    manager.fire_event(query)
    assert seen[1:] == ["ignoring got SQLQuery", "reading got SQLQuery"]

    manager.callbacks = [ignoring]
    manager.loggers = [type("DebugLogger", (), {"level": EventLevel.DEBUG, "filter": lambda self, m: False})()]
    manager.fire_event(query, level=EventLevel.DEBUG)
    manager.fire_event(query, level=EventLevel.INFO)
    assert seen[3:] == ["ignoring got SQLQuery", "ignoring got SQLQuery"]


def test_the_jinja_contexts_a_dbt_node_makes_are_emptied_when_it_ends_and_no_others():
    """A context refers to itself: emptied as its node ends, reference counting frees it; one made
    outside a node (the build's own) keeps its members."""
    from types import SimpleNamespace

    from dbt.context.base import BaseContext
    from dbt.task.base import BaseRunner

    from orchestration.speedups.dbt_in_process import free_node_contexts_when_the_node_ends

    free_node_contexts_when_the_node_ends()
    during_the_node: list[dict] = []

    class OneNode(BaseRunner):
        def __init__(self) -> None:
            self.skip = False
            self.node = SimpleNamespace(is_ephemeral_model=True, update_event_status=lambda **status: None)

        def safe_run(self, manifest):
            context = BaseContext(cli_vars={}).to_dict()
            during_the_node.append(context)
            assert context["context"] is context and "env_var" in context  # whole while the node runs
            return SimpleNamespace(status="success")

        def compile(self, manifest):
            raise AssertionError("not reached: safe_run is the node's work here")

    outside = BaseContext(cli_vars={}).to_dict()
    assert OneNode().run_with_hooks(manifest=None).status == "success"
    assert during_the_node == [{}]
    assert outside["context"] is outside and "env_var" in outside


def test_a_dbt_debug_event_is_parsed_when_first_read_into_the_same_message():
    from dbt.adapters.events.types import SQLQuery
    from dbt_common.events.base_types import msg_from_base_event

    from orchestration.speedups.dbt_in_process import parse_debug_events_when_read

    parse_debug_events_when_read()
    event = SQLQuery(conn_name="model.callbill.fct_invoices", sql="select 1", node_info={})
    assert "pb_msg" not in event.__dict__  # not parsed while nobody read it
    assert event.message() == "On model.callbill.fct_invoices: select 1"
    assert "pb_msg" in event.__dict__
    message = msg_from_base_event(SQLQuery(conn_name="model.callbill.fct_invoices", sql="select 2", node_info={}))
    assert (message.info.name, message.info.level, message.data.sql) == ("SQLQuery", "debug", "select 2")
    written = SQLQuery(conn_name="c", sql="select 3", node_info={})
    written.sql = "select 4"
    assert written.sql == "select 4" and written.conn_name == "c"


def test_a_failed_dbt_node_is_reported_by_its_own_error_not_dbts_trace():
    from orchestration.defs.dbt import error_reason

    # run_results.json's message of a model whose materialization failed to compile (dbt 1.11)
    compilation = (
        "Compilation Error in model stg_landing__accounts (models/staging/landing/stg_landing__accounts.sql)\n"
        "  'dbt.artifacts.resources.v1.config.ContractConfig object' has no attribute 'get'\n  \n"
        "  > in macro materialization_view_duckdb (macros/lean_materializations.sql)\n"
        "  > called by model stg_landing__accounts (models/staging/landing/stg_landing__accounts.sql)"
    )
    assert error_reason(compilation) == (
        "'dbt.artifacts.resources.v1.config.ContractConfig object' has no attribute 'get' "
        "(in macro materialization_view_duckdb (macros/lean_materializations.sql))"
    )
    database = (
        "Runtime Error in model int_calls_rated (models/intermediate/rating/int_calls_rated.sql)\n"
        '  Binder Error: Referenced column "rate" not found in FROM clause!\n'
        "  LINE 12:     rate * minutes"
    )
    assert error_reason(database) == 'Binder Error: Referenced column "rate" not found in FROM clause!'
    # no heading to leave out: every line is the error's
    assert error_reason("the warehouse is locked\n  by another close") == "the warehouse is locked by another close"


def test_nodes_failing_with_one_error_are_named_together_before_it_then_each_failed_test():
    from orchestration.defs.dbt import describe_build_failures

    reason = "'ContractConfig object' has no attribute 'get' (in macro materialization_view_duckdb)"
    failures = [
        {"check": "stg_landing__accounts", "kind": "model", "status": "error", "message": reason},
        {"check": "int_calls_rated", "kind": "model", "status": "error", "message": "Binder Error: no rate"},
        {
            "check": "every_call_has_a_rate",
            "kind": "test",
            "status": "fail",
            "message": "Got 2 results",
            "failing_rows": 2,
            "first_failing_rows": [{"call_id": "c-1"}],
        },
        {"check": "stg_landing__cdrs", "kind": "model", "status": "error", "message": reason},
    ]
    assert describe_build_failures(failures) == (
        f"stg_landing__accounts, stg_landing__cdrs: {reason}; int_calls_rated: Binder Error: no rate; "
        "every_call_has_a_rate (2 failing row(s), e.g. {'call_id': 'c-1'})"
    )
