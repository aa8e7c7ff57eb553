"""Landing as a Dagster asset: the raw tables that the dbt sources read."""

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from callbill.landing.contract import ENTITIES
from callbill.landing.land import land_folder


class LandingConfig(dg.Config):
    landing_dir: str = os.environ.get("CALLBILL_LANDING", "landing")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=["landing", entity],
            group_name="landing",
            owners=["team:billing"],
            description=f"raw.{entity}: landed {entity} files, typed; bad rows in raw.quarantine.",
        )
        for entity in ENTITIES
    ],
    can_subset=False,
)
def landed_files(context: dg.AssetExecutionContext, config: LandingConfig) -> Iterator[dg.MaterializeResult]:
    report = land_folder(Path(config.landing_dir).expanduser().resolve())
    for failed in report.failed:
        context.log.error(f"{failed.path}: {failed.message}")
    for entity in ENTITIES:
        files = [f for f in report.files if f.entity == entity and f.status == "landed"]
        yield dg.MaterializeResult(
            asset_key=["landing", entity],
            metadata={
                "files_landed": len(files),
                "rows_accepted": sum(f.accepted for f in files),
                "rows_quarantined": sum(f.quarantined for f in files),
            },
        )
    if report.failed:
        raise dg.Failure(description=f"{len(report.failed)} file(s) could not be landed")
