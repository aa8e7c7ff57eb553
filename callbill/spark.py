"""Spark, the scale-out engine: the same dbt project built by dbt-spark.

Landing stays one implementation: `callbill land` checks every file into the DuckDB warehouse
(quarantine, duplicates, card data). `export_sources` writes the checked tables that the dbt
project reads (its sources in schemas raw and audit) as Parquet; Spark registers them as tables
over those files (macro register_sources, run as the build starts) and builds every model, seed and
data test on them. The published tables are Spark's own: a Spark close writes them
(callbill/spark_warehouse.py, macros/spark_published.sql).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from callbill.months import dbt_vars_for_invoice_months, invoice_month_environment
from callbill.project import REPO_ROOT
from callbill.warehouse import connect, warehouse_path

DEFAULT_SPARK_DIR = REPO_ROOT / "warehouse" / "spark"
# Written on Spark by a Spark close, never exported from the DuckDB warehouse.
SPARK_OWNED_SCHEMAS = frozenset({"published"})


class SparkError(RuntimeError):
    """A Spark step that cannot run or failed, with what to do about it."""


def spark_dir() -> Path:
    """Where Spark keeps its tables, metastore and the exported sources (env CALLBILL_SPARK_DIR)."""
    return Path(os.environ.get("CALLBILL_SPARK_DIR", DEFAULT_SPARK_DIR)).resolve()


def dbt_source_tables() -> list[tuple[str, str]]:
    """(schema, table) of every dbt source that Spark reads from the landing, from the project's manifest."""
    manifest = REPO_ROOT / "target" / "manifest.json"
    if not manifest.exists():
        raise SparkError(f"no dbt manifest at {manifest}: run `make install` (it parses the project)")
    sources = json.loads(manifest.read_text())["sources"].values()
    return sorted(
        {(source["schema"], source["identifier"]) for source in sources if source["schema"] not in SPARK_OWNED_SCHEMAS}
    )


def spark_readable(name: str, data_type: str) -> str:
    """A column as Spark reads it from Parquet: timestamps as UTC instants, JSON (the audit log's
    details) as text."""
    if data_type == "TIMESTAMP":
        return f'cast("{name}" as timestamptz) as "{name}"'
    if data_type == "JSON":
        return f'cast("{name}" as varchar) as "{name}"'
    return f'"{name}"'


# A landing batch: the rows landed on one UTC day (every landed row carries its _landed_at).
BATCH_COLUMN = "landed_on"
BATCHES_WRITTEN = "_batches.json"


def export_sources(
    out_dir: Path, warehouse: Path | None = None, only: set[tuple[str, str]] | None = None
) -> dict[str, int]:
    """Write each source table of the warehouse (or only these) as Parquet to out_dir/<schema>/<table>/;
    rows per table.

    A table of landed rows is written partitioned by landing batch (landed_on=YYYY-MM-DD/), and
    only the batches that are new or grew since the last export are written; the others, say the
    rest (reference tables, the audit log), whole. Each folder is written beside its place and
    renamed into it: a batch is never there half written. Timestamps are written as UTC instants
    so that Spark reads them as its TIMESTAMP type."""
    path = warehouse or warehouse_path()
    if not path.exists():
        raise SparkError(f"no warehouse at {path}: run `callbill land` first")
    counts: dict[str, int] = {}
    with connect(path) as con:
        con.execute("set TimeZone = 'UTC'")
        for schema, table in dbt_source_tables():
            if only is not None and (schema, table) not in only:
                continue
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            if not columns:
                raise SparkError(f"the warehouse has no table {schema}.{table}: run `callbill land` first")
            select_list = ", ".join(spark_readable(name, data_type) for name, data_type in columns)
            target = out_dir / schema / table
            rows = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
            # An empty table is one empty file: Spark reads a table's columns from its files.
            if rows and "_landed_at" in {name for name, _ in columns}:
                export_by_batch(con, f"{schema}.{table}", select_list, target)
            else:
                staging = target.parent / f".{table}.writing"
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir(parents=True)
                con.execute(
                    f"copy (select {select_list} from {schema}.{table}) to '{staging / 'part-0.parquet'}' "
                    "(format parquet)"
                )
                replace_folder(staging, target)
            counts[f"{schema}.{table}"] = rows
    return counts


def export_by_batch(con: duckdb.DuckDBPyConnection, table: str, select_list: str, target: Path) -> list[str]:
    """The table's landing batches that are new or grew since the last export, each in its own
    folder; the batches written, by day."""
    written_file = target / BATCHES_WRITTEN
    written = json.loads(written_file.read_text()) if written_file.exists() else None
    if written is None:
        shutil.rmtree(target, ignore_errors=True)  # a whole-table export of an older callbill
        written = {}
    batch = "cast(_landed_at as date)"
    landed = {
        day.isoformat(): rows
        for day, rows in con.execute(f"select {batch}, count(*) from {table} group by 1").fetchall()
    }
    changed = sorted(day for day, rows in landed.items() if written.get(day) != rows)
    target.mkdir(parents=True, exist_ok=True)
    if changed:
        staging = target / ".batches.writing"
        shutil.rmtree(staging, ignore_errors=True)
        days = ", ".join(f"date '{day}'" for day in changed)
        con.execute(
            f"copy (select {select_list}, {batch} as {BATCH_COLUMN} from {table} where {batch} in ({days})) "
            f"to '{staging}' (format parquet, partition_by ({BATCH_COLUMN}))"
        )
        for day in changed:
            replace_folder(staging / f"{BATCH_COLUMN}={day}", target / f"{BATCH_COLUMN}={day}")
        shutil.rmtree(staging)
    temporary = target / f".{BATCHES_WRITTEN}.writing"
    temporary.write_text(json.dumps(landed, sort_keys=True))
    os.replace(temporary, written_file)
    return changed


def replace_folder(new: Path, place: Path) -> None:
    """Put the folder new at place, instead of what was there."""
    old = place.parent / f".{place.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if place.exists():
        os.replace(place, old)
    os.replace(new, place)
    shutil.rmtree(old, ignore_errors=True)


def dbt_target_path() -> Path:
    """dbt's target folder for builds on Spark: in the Spark folder, so that its partial parse is kept
    for that folder's sources (their paths are dbt vars; another folder's build would make dbt parse
    the whole project again) and its manifest stays apart from the DuckDB project's."""
    return spark_dir() / "target"


def dbt_on_spark(
    *args: str, log_file: Path | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run dbt against the spark target; its manifest and logs stay apart from the DuckDB project's."""
    try:
        import dbt.adapters.spark  # noqa: F401
    except ImportError:
        raise SparkError("dbt-spark is not installed in this environment: run `make spark-install`") from None
    directory = spark_dir()
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CALLBILL_SPARK_DIR": str(directory),
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(dbt_target_path()),
        "DBT_LOG_PATH": str(directory / "logs"),
        **(extra_env or {}),
    }
    command = [str(Path(sys.executable).parent / "dbt"), *args, "--target", "spark", "--profiles-dir", "profiles"]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("a") as log:
            log.write(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}\n")
    return result


def build(first_month: str, last_month: str | None = None, select: str | None = None) -> subprocess.CompletedProcess:
    """dbt build (seeds, models, data tests; or the nodes `select` names, in dbt's syntax) on Spark
    for the invoice months first..last (YYYY-MM).

    The run starts by registering the exported sources as Spark tables (on-run-start hook)."""
    months = dbt_vars_for_invoice_months(first_month, last_month or first_month)
    result = dbt_on_spark(
        "build",
        "--vars",
        json.dumps(sources_vars()),
        # A part of the project: only the tests whose every parent it builds.
        *(["--select", select, "--indirect-selection", "cautious"] if select else []),
        "--exclude-resource-type",
        "unit_test",
        log_file=spark_dir() / "logs" / "callbill-spark.log",
        # The months as the close passes them (macros/calendar.sql), so none is inherited by mistake.
        extra_env=invoice_month_environment(months),
    )
    if result.returncode != 0:
        raise SparkError(f"dbt build on Spark failed: {last_error(result.stdout + result.stderr)}")
    return result


def sources_vars() -> dict[str, object]:
    """The dbt vars that register the landed tables as Spark tables when a build starts."""
    sources = spark_dir() / "sources"
    if not (sources / "raw" / "cdrs").exists():
        raise SparkError(f"no landed tables for Spark in {sources}: run `callbill spark land IN_DIR` first")
    tables = dbt_source_tables()
    return {
        "spark_sources": {
            "root": str(sources),
            "tables": [f"{schema}.{table}" for schema, table in tables],
            "partitioned": [
                f"{schema}.{table}" for schema, table in tables if (sources / schema / table / BATCHES_WRITTEN).exists()
            ],
        },
    }


def last_error(output: str) -> str:
    """The line of dbt's output that says what failed."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for marker in ("Error in", "Error:", "Failure in", "ERROR"):
        found = [line for line in lines if marker in line]
        if found:
            return found[0][:400]
    return lines[-1][:400] if lines else "no output"
