"""Great Expectations suites from expectations/ as blocking asset checks in front of publication.

A suite (callbill/quality/suites.py) is `expectations/<name>.json` plus the SQL in `meta.dataset` that
shapes the rows to validate for the months being closed. Checks read the warehouse into pandas and
validate with an ephemeral GX context (GX's SQL path fails on DuckDB): in `callbill close`, in its
GX worker process (callbill/quality/gx_worker.py); elsewhere in the step's own process.
"""

import os
import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from callbill.months import dbt_vars_for_invoice_months, project_vars
from callbill.quality import gx_worker
from callbill.quality.suites import Suite, load_suites
from callbill.warehouse import connect, record_event
from orchestration.defs.dbt import callbill_dbt_models
from orchestration.defs.partitions import invoice_months


def describe_failures(failures: list[dict[str, Any]]) -> str:
    """Each failed expectation with its count and first failing row, as the run's page shows it."""
    return "; ".join(
        f"{f['check']}: {f['failing_rows']} failing row(s)"
        + (f", e.g. {f['first_failing_rows'][0]}" if f.get("first_failing_rows") else "")
        for f in failures
    )


def build_gx_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=get_asset_key_for_model([callbill_dbt_models], suite.asset),
        name=f"gx_{suite.name}",
        description=suite.description,
        blocking=suite.blocking,
        partitions_def=invoice_months,
    )
    def _check(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        key_range = context.partition_key_range
        params = dbt_vars_for_invoice_months(key_range.start, key_range.end)
        with connect() as con:
            available = {**project_vars(), **params}
            used = {name: value for name, value in available.items() if f"${name}" in suite.dataset_sql}
            rows = con.execute(suite.dataset_sql, used).df()
        failures = gx_worker.validate(suite, rows, on_fallback=context.log.warning)
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
                "rows_checked": len(rows),
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
