"""`callbill land` recorded in the Dagster instance, so the UI knows what the command line landed.

The landing assets (orchestration/defs/landing.py, keys ["landing", <raw table>]) are materialized
by a Dagster landing run; a landing from the command line reports the same materializations,
with the same metadata (LandingReport.landed_tables), as runless events in the instance the CLI's
closes use (DAGSTER_HOME, callbill.dagster_home). Without them the UI would take landed
tables for never materialized and warn before every launch of the close.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from callbill.landing.land import LandingReport

LANDING_GROUP = "landing"


def landing_asset_key(table: str) -> dg.AssetKey:
    """The asset of raw.<table>: the key dagster-dbt gives the dbt source landing.<table>."""
    return dg.AssetKey([LANDING_GROUP, table])


def record_landing(report: LandingReport, in_dir: Path) -> list[str]:
    """A runless materialization of each landing asset whose table received files, and of any not
    materialized before (landing creates every raw table, empty until its files come). Returns the
    tables recorded."""
    from callbill.dagster_home import dagster_instance

    recorded = []
    with dagster_instance() as instance:
        for table, metadata in report.landed_tables().items():
            key = landing_asset_key(table)
            if metadata["files_landed"] or instance.get_latest_materialization_event(key) is None:
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(
                        asset_key=key,
                        description=f"callbill land {in_dir}",
                        metadata=metadata,
                    )
                )
                recorded.append(table)
    return recorded
