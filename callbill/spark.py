"""Spark, the scale-out engine: the same dbt project built by dbt-spark.

Landing stays one implementation: `callbill land` checks every file into the DuckDB warehouse
(quarantine, duplicates, card data). `export_sources` writes the checked tables that the dbt
project reads (its sources: schemas raw and published) as Parquet; Spark registers them as tables
over those files (macro register_sources, run as the build starts) and builds every model, seed and data test on them.
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
from callbill.warehouse import warehouse_path

DEFAULT_SPARK_DIR = REPO_ROOT / "warehouse" / "spark"


class SparkError(RuntimeError):
    """A Spark step that cannot run or failed, with what to do about it."""


def spark_dir() -> Path:
    """Where Spark keeps its tables, metastore and the exported sources (env CALLBILL_SPARK_DIR)."""
    return Path(os.environ.get("CALLBILL_SPARK_DIR", DEFAULT_SPARK_DIR)).resolve()


def dbt_source_tables() -> list[tuple[str, str]]:
    """(schema, table) of every dbt source, from the DuckDB project's manifest."""
    manifest = REPO_ROOT / "target" / "manifest.json"
    if not manifest.exists():
        raise SparkError(f"no dbt manifest at {manifest}: run `make install` (it parses the project)")
    sources = json.loads(manifest.read_text())["sources"].values()
    return sorted({(source["schema"], source["identifier"]) for source in sources})


def spark_readable(name: str, data_type: str) -> str:
    """A column as Spark reads it from Parquet: timestamps as UTC instants, JSON (the audit log's
    details) as text."""
    if data_type == "TIMESTAMP":
        return f'cast("{name}" as timestamptz) as "{name}"'
    if data_type == "JSON":
        return f'cast("{name}" as varchar) as "{name}"'
    return f'"{name}"'


def export_sources(out_dir: Path, warehouse: Path | None = None) -> dict[str, int]:
    """Write each source table of the warehouse as Parquet to out_dir/<schema>/<table>/; rows per table.

    Timestamps are written as UTC instants so that Spark reads them as its TIMESTAMP type."""
    path = warehouse or warehouse_path()
    if not path.exists():
        raise SparkError(f"no warehouse at {path}: run `callbill land` first")
    counts: dict[str, int] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for schema, table in dbt_source_tables():
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            if not columns:
                raise SparkError(f"the warehouse has no table {schema}.{table}: run `callbill land` first")
            select_list = ", ".join(spark_readable(name, data_type) for name, data_type in columns)
            target = out_dir / schema / table
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            con.execute(
                f"copy (select {select_list} from {schema}.{table}) to '{target / 'part-0.parquet'}' (format parquet)"
            )
            counts[f"{schema}.{table}"] = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
    return counts


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
        "DBT_TARGET_PATH": str(REPO_ROOT / "target" / "spark"),
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


def build(first_month: str, last_month: str | None = None) -> subprocess.CompletedProcess:
    """dbt build (seeds, models, data tests) on Spark for the invoice months first..last (YYYY-MM).

    The run starts by registering the exported sources as Spark tables (on-run-start hook)."""
    months = dbt_vars_for_invoice_months(first_month, last_month or first_month)
    sources = spark_dir() / "sources"
    if not (sources / "raw" / "cdrs").exists():
        raise SparkError(f"no landed tables for Spark in {sources}: run `callbill spark land IN_DIR` first")
    dbt_vars = {
        "spark_sources": {
            "root": str(sources),
            "tables": [f"{schema}.{table}" for schema, table in dbt_source_tables()],
        },
    }
    result = dbt_on_spark(
        "build",
        "--vars",
        json.dumps(dbt_vars),
        "--exclude-resource-type",
        "unit_test",
        log_file=spark_dir() / "logs" / "callbill-spark.log",
        # The months as the close passes them (macros/calendar.sql), so none is inherited by mistake.
        extra_env=invoice_month_environment(months),
    )
    if result.returncode != 0:
        raise SparkError(f"dbt build on Spark failed: {last_error(result.stdout + result.stderr)}")
    return result


def last_error(output: str) -> str:
    """The line of dbt's output that says what failed."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for marker in ("Error in", "Error:", "Failure in", "ERROR"):
        found = [line for line in lines if marker in line]
        if found:
            return found[0][:400]
    return lines[-1][:400] if lines else "no output"
