"""Landing as a Dagster asset: the raw tables that the dbt sources read.

`callbill land` records the same materializations in the instance (callbill/landing/dagster_record.py).
"""

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from callbill.landing.contract import ENTITIES
from callbill.landing.dagster_record import LANDING_GROUP, landing_asset_key
from callbill.landing.land import LANDED_TABLES, land_folder
from orchestration.defs.engine import CallbillEngine


class LandingConfig(dg.Config):
    landing_dir: str = os.environ.get("CALLBILL_LANDING", "landing")


def landed_table_description(table: str) -> str:
    if table in ENTITIES:
        return (
            f"raw.{table}: the {table}/ files of the landing folder, typed, one row per accepted row with its file "
            "and line; rows that break the landing contract go to raw.quarantine with the reason. Landed by "
            "`callbill land` or the land_new_files job; a file lands once (sha256)."
        )
    platform = table.removesuffix("_cdrs")
    return (
        f"raw.{table}: the records of every registered {platform} switch's files in "
        f"switch_cdrs/<switch_id>/, as the switch wrote them (R-CDR-1, R-CDR-6); records written again by a "
        "rotated or appended file land once. Landed by `callbill land` or the land_new_files job."
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=landing_asset_key(table),
            group_name=LANDING_GROUP,
            owners=["team:billing"],
            description=landed_table_description(table),
        )
        for table in LANDED_TABLES
    ],
    can_subset=False,
)
def landed_files(
    context: dg.AssetExecutionContext, config: LandingConfig, engine: CallbillEngine
) -> Iterator[dg.MaterializeResult]:
    report = land_folder(Path(config.landing_dir).expanduser().resolve())
    for failed in report.failed:
        context.log.error(f"{failed.path}: {failed.message}")
    if engine.on_spark:
        # What was landed, as the Parquet that a close on Spark registers (callbill/spark.py).
        from callbill.spark import export_sources, spark_dir

        exported = export_sources(spark_dir() / "sources")
        context.log.info(f"handed {len(exported)} landed tables to Spark in {spark_dir() / 'sources'}")
    for table, metadata in report.landed_tables().items():
        yield dg.MaterializeResult(asset_key=landing_asset_key(table), metadata=metadata)
    if report.failed:
        raise dg.Failure(description=f"{len(report.failed)} file(s) could not be landed")
