"""Snapshot of what the Dagster UI shows: jobs, schedule, checks, groups; landing through Dagster."""

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.definitions import defs
from orchestration.defs.landing import landed_files

FIXTURES = Path(__file__).parent / "fixtures"


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


def test_landing_asset_lands_the_folder(warehouse):
    result = dg.materialize(
        [landed_files],
        run_config={"ops": {"landed_files": {"config": {"landing_dir": str(FIXTURES / "landing_small")}}}},
    )
    assert result.success
    cdrs = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(["landing", "cdrs"])]
    assert cdrs[0].materialization.metadata["rows_accepted"].value == 8
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.subscription_items").fetchone()[0] == 8
