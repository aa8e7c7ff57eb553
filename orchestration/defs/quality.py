"""Great Expectations suites from expectations/ as blocking asset checks in front of publication.

A suite (callbill/quality/suites.py) is `expectations/<name>.json` validating the rows of a dbt model
of models/quality/ (`meta.model`), which the close's dbt step builds with the drafts for the months
being closed. Checks read the model's rows into pandas and validate with an ephemeral GX context
(GX's SQL path fails on DuckDB): in `callbill close`, in its GX worker process
(callbill/quality/gx_worker.py); elsewhere in the step's own process. On Spark, GX's Spark
datasource validates the model's Spark table in the step's process, where the Spark session is.
"""

import functools
import json
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from callbill.months import dbt_vars_for_invoice_months
from callbill.project import callbill_project
from callbill.quality import gx_worker
from callbill.quality.suites import Suite, load_suites
from callbill.quality.suites import validate as validate_suite
from callbill.warehouse import connect, record_event
from orchestration.defs.dbt import callbill_dbt_models
from orchestration.defs.engine import CallbillEngine
from orchestration.defs.partitions import invoice_months


@functools.cache
def dbt_models() -> Mapping[str, Mapping[str, Any]]:
    """The project's models by name, from dbt's manifest (the one the dbt assets are built from)."""
    manifest = json.loads(callbill_project.manifest_path.read_text())
    return {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}


def model_relation(model: str) -> str:
    """Where dbt builds a model in the warehouse, `schema.name`, as its manifest says."""
    node = dbt_models()[model]
    return f'{node["schema"]}."{node["alias"]}"'


def describe_failures(failures: list[dict[str, Any]]) -> str:
    """Each failed expectation with its count and first failing row, as the run's page shows it."""
    return "; ".join(
        f"{f['check']}: {f['failing_rows']} failing row(s)"
        + (f", e.g. {f['first_failing_rows'][0]}" if f.get("first_failing_rows") else "")
        for f in failures
    )


def build_gx_check(suite: Suite) -> dg.AssetChecksDefinition:
    relation = model_relation(suite.model)

    @dg.asset_check(
        asset=get_asset_key_for_model([callbill_dbt_models], suite.asset),
        name=f"gx_{suite.name}",
        description=suite.description,
        blocking=suite.blocking,
        partitions_def=invoice_months,
        # the model that shapes the suite's rows: built by the same dbt step, for the same months
        additional_deps=[get_asset_key_for_model([callbill_dbt_models], suite.model)],
    )
    def _check(context: dg.AssetCheckExecutionContext, engine: CallbillEngine) -> Iterator[dg.AssetCheckResult]:
        key_range = context.partition_key_range
        params = dbt_vars_for_invoice_months(key_range.start, key_range.end)
        if engine.on_spark:
            from callbill.spark_warehouse import session

            node = dbt_models()[suite.model]
            rows = session().table(f"{node['schema']}.{node['alias']}")
            failures = validate_suite(suite, rows)
            rows_checked = rows.count()
        else:
            with connect() as con:
                rows = con.execute(f"select * from {relation}").df()
            failures = gx_worker.validate(suite, rows, on_fallback=context.log.warning)
            rows_checked = len(rows)
        # Fault injection for the crash tests: a check still running when the close is killed.
        time.sleep(float(os.environ.get("CALLBILL_CHECK_PAUSE_SECONDS", "0")))
        if failures:
            with connect() as con:
                for failure in failures:
                    record_event(
                        con,
                        # a non-blocking suite's rows are for review: not a failure of the close
                        "check_failed" if suite.blocking else "check_warned",
                        {
                            "source": "great_expectations",
                            "run_id": context.run.run_id,
                            "suite": suite.name,
                            "check": failure["check"],
                            "failing_rows": failure["failing_rows"],
                            "first_failing_rows": failure["first_failing_rows"][:3],
                        },
                        params["invoice_month_start"],
                    )
        yield dg.AssetCheckResult(
            passed=not failures,
            # A non-blocking suite lists rows for review (WARN); a blocking one stops publication.
            severity=dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN,
            description=describe_failures(failures) or "all passed",
            metadata={
                "rows_checked": rows_checked,
                "expectations": len(suite.expectations),
                "failed_expectations": len(failures),
                "failures": dg.MetadataValue.json(failures),
            },
        )
        if failures and suite.blocking:
            # The step fails with the check and its first failing row, which the run's page shows,
            # rather than Dagster's "1 blocking asset check failed".
            raise dg.Failure(description=f"gx_{suite.name} failed: {describe_failures(failures)}")

    return _check


gx_checks = [build_gx_check(suite) for suite in load_suites()]
