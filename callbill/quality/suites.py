"""Great Expectations suites of expectations/ and their validation, without Dagster or dbt.

A suite is `expectations/<name>.json` (GX 1.x suite: name, expectations, meta) validating the rows
of the dbt model named in `meta.model` (models/quality/, built by the close's dbt step with the
drafts). This module is all the GX worker process imports (callbill/quality/gx_worker.py), so it
stays free of Dagster, dbt and the warehouse.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
FIRST_FAILING_ROWS = 10


@dataclass(frozen=True)
class Suite:
    name: str
    asset: str
    description: str
    model: str  # the dbt model whose rows the suite validates
    expectations: list[dict[str, Any]]
    blocking: bool = True


def load_suite(path: Path) -> Suite:
    spec = json.loads(path.read_text())
    meta = spec["meta"]
    return Suite(
        name=spec["name"],
        asset=meta["asset"],
        description=meta["description"],
        model=meta["model"],
        expectations=spec["expectations"],
        blocking=meta.get("blocking", True),
    )


def load_suites(directory: Path = SUITES_DIR) -> list[Suite]:
    return [load_suite(p) for p in sorted(directory.glob("*.json"))]


def validate(suite: Suite, rows: Any) -> list[dict[str, Any]]:
    """Run the suite on the rows (a pandas DataFrame, or a Spark DataFrame validated on Spark by GX's
    Spark datasource); one dict per failed expectation, with its first failing rows."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx  # ~4 s: imported only when a check runs
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    on_spark = not isinstance(rows, pd.DataFrame)
    source = context.data_sources.add_spark("warehouse") if on_spark else context.data_sources.add_pandas("warehouse")
    # A Spark DataFrame has no row numbers: its failing rows are named by their first column (the
    # quality models' key: account or invoice).
    key = rows.columns[0]
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if on_spark:
        result_format["unexpected_index_column_names"] = [key]
    batch = source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("months_closed")
    gx_suite = gx.ExpectationSuite(
        name=suite.name,
        expectations=[
            ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {})).to_domain_obj()
            for e in suite.expectations
        ],
    )
    definition = gx.ValidationDefinition(name=suite.name, data=batch, suite=context.suites.add(gx_suite))
    result = context.validation_definitions.add(definition).run(
        batch_parameters={"dataframe": rows}, result_format=result_format
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
                "first_failing_rows": first_rows(rows, key, list(index)[:FIRST_FAILING_ROWS], on_spark),
            }
        )
    return failures


def first_rows(rows: Any, key: str, index: list[Any], on_spark: bool) -> list[dict[str, str]]:
    """The failing rows as text: by row number in pandas, by key on Spark."""
    if not on_spark:
        return rows.iloc[index].astype(str).to_dict("records")
    keys = [entry[key] for entry in index]
    found = rows.where(rows[key].isin(keys)).limit(len(keys)).toPandas() if keys else pd.DataFrame()
    return found.astype(str).to_dict("records")
