"""Great Expectations suites from expectations/ as blocking asset checks in front of publication.

A suite is `expectations/<name>.json` (GX 1.x suite: name, expectations, meta) plus the SQL in
`meta.dataset` that shapes the rows to validate for the months being closed. Checks read the
warehouse into pandas and validate with an ephemeral GX context (GX's SQL path fails on DuckDB).
"""

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from orchestration import preload
from orchestration.defs.dbt import callbill_dbt_models
from orchestration.defs.partitions import dbt_vars_for_invoice_months, invoice_months
from orchestration.project import REPO_ROOT
from orchestration.warehouse import connect, record_event

SUITES_DIR = REPO_ROOT / "expectations"
FIRST_FAILING_ROWS = 10


@dataclass(frozen=True)
class Suite:
    name: str
    asset: str
    description: str
    dataset_sql: str
    expectations: list[dict[str, Any]]
    blocking: bool = True


def load_suite(path: Path) -> Suite:
    spec = json.loads(path.read_text())
    meta = spec["meta"]
    return Suite(
        name=spec["name"],
        asset=meta["asset"],
        description=meta["description"],
        dataset_sql=(path.parent / meta["dataset"]).read_text(),
        expectations=spec["expectations"],
        blocking=meta.get("blocking", True),
    )


def load_suites(directory: Path = SUITES_DIR) -> list[Suite]:
    return [load_suite(p) for p in sorted(directory.glob("*.json"))]


def validate(suite: Suite, rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Run the suite on the rows; one dict per failed expectation, with its first failing rows."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    preload.wait(preload.GREAT_EXPECTATIONS)  # `callbill close` may be importing it on a thread
    import great_expectations as gx  # ~4 s: imported only when a check runs (or preloaded)
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("months_closed")
    )
    gx_suite = gx.ExpectationSuite(
        name=suite.name,
        expectations=[
            ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {})).to_domain_obj()
            for e in suite.expectations
        ],
    )
    definition = gx.ValidationDefinition(name=suite.name, data=batch, suite=context.suites.add(gx_suite))
    result = context.validation_definitions.add(definition).run(
        batch_parameters={"dataframe": rows}, result_format="COMPLETE"
    )
    failures = []
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        index = outcome.result.get("unexpected_index_list") or []
        failures.append(
            {
                "expectation": config.type,
                "check": (config.meta or {}).get("check", config.type),
                "rule": (config.meta or {}).get("rule"),
                "failing_rows": outcome.result.get("unexpected_count", len(index)),
                "first_failing_rows": rows.iloc[list(index)[:FIRST_FAILING_ROWS]].astype(str).to_dict("records"),
            }
        )
    return failures


def build_gx_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=get_asset_key_for_model([callbill_dbt_models], suite.asset),
        name=f"gx_{suite.name}",
        description=suite.description,
        blocking=suite.blocking,
        partitions_def=invoice_months,
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        key_range = context.partition_key_range
        params = dbt_vars_for_invoice_months(key_range.start, key_range.end)
        with connect() as con:
            available = {**project_vars(), **params}
            used = {name: value for name, value in available.items() if f"${name}" in suite.dataset_sql}
            rows = con.execute(suite.dataset_sql, used).df()
        failures = validate(suite, rows)
        # Fault injection for the crash tests: a check still running when the close is killed.
        time.sleep(float(os.environ.get("CALLBILL_CHECK_PAUSE_SECONDS", "0")))
        if failures:
            with connect() as con:
                for failure in failures:
                    record_event(
                        con,
                        "check_failed",
                        {
                            "source": "great_expectations",
                            "run_id": context.run.run_id,
                            "suite": suite.name,
                            "check": failure["check"],
                            "failing_rows": failure["failing_rows"],
                        },
                        params["invoice_month_start"],
                    )
        return dg.AssetCheckResult(
            passed=not failures,
            # A non-blocking suite lists rows for review (WARN); a blocking one stops publication.
            severity=dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN,
            description=(
                "; ".join(f"{f['check']}: {f['failing_rows']} failing row(s)" for f in failures) or "all passed"
            ),
            metadata={
                "rows_checked": len(rows),
                "expectations": len(suite.expectations),
                "failed_expectations": len(failures),
                "failures": dg.MetadataValue.json(failures),
            },
        )

    return _check


def project_vars() -> dict[str, Any]:
    """The dbt vars of dbt_project.yml, so the suites' SQL and the models read the same values."""
    import yaml

    return yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]


gx_checks = [build_gx_check(suite) for suite in load_suites()]
