"""The Dagster instance of the command line: DAGSTER_HOME, default next to the warehouse, so the
Dagster UI shows what `callbill land` and `callbill close` did."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from callbill.warehouse import warehouse_path
from orchestration.speedups.dagster_events import write_instance_config


def dagster_instance() -> dg.DagsterInstance:
    """The persistent instance next to the warehouse, so CLI runs show in the Dagster UI."""
    home = Path(os.environ.get("DAGSTER_HOME") or warehouse_path().parent / "dagster_home")
    write_instance_config(home)
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()
