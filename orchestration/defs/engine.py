"""Which engine the close runs on: a resource, so the UI's Launchpad can choose it per run."""

import os

import dagster as dg
from pydantic import Field

ENGINES = ("duckdb", "spark")


class CallbillEngine(dg.ConfigurableResource):
    """duckdb: the warehouse file (the default). spark: the dbt builds, checks, publication and
    ledgers run on Spark through the spark target of profiles/profiles.yml (docs/spark.md); the
    DuckDB file keeps the landing's records and the audit log."""

    name: str = Field(
        default="duckdb",
        description="duckdb or spark; the default is CALLBILL_ENGINE where the definitions load, else duckdb.",
    )

    @property
    def on_spark(self) -> bool:
        if self.name not in ENGINES:
            raise dg.Failure(description=f"unknown engine {self.name!r}: the engine is one of {', '.join(ENGINES)}")
        return self.name == "spark"


def engine_from_environment() -> CallbillEngine:
    return CallbillEngine(name=os.environ.get("CALLBILL_ENGINE", "duckdb"))
