"""The readers' snapshot: a copy of what finance and dashboards read, swapped in whole.

DuckDB lets one process write a file, and while it does no other process may open it, not even
read-only. Readers (dashboards, finance sessions) open the snapshot instead: the close writes it to
a temporary file after publication and renames it into place, so a reader sees the months published
before the close or after it, never half of one, and never blocks the close.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from callbill.warehouse import warehouse_path

# Everything but the per-call tables, which stay in the warehouse (tens of millions of rows).
SNAPSHOT_SCHEMAS = ("published", "marts", "reference", "audit")
PER_CALL_TABLES = {("published", "rated_calls"), ("marts", "fct_rated_calls")}


def snapshot_path(warehouse: Path | None = None) -> Path:
    """CALLBILL_SNAPSHOT, else <warehouse>.snapshot.duckdb next to the warehouse."""
    explicit = os.environ.get("CALLBILL_SNAPSHOT")
    if explicit:
        return Path(explicit).expanduser().resolve()
    target = warehouse or warehouse_path()
    return target.with_name(f"{target.stem}.snapshot.duckdb")


def write_snapshot(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> dict[str, int]:
    """Copy the readers' tables into a new file and rename it over the snapshot; returns rows per table."""
    final = path or snapshot_path()
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_catalog = current_database() and table_schema in {SNAPSHOT_SCHEMAS} "
        "and table_type = 'BASE TABLE' order by 1, 2"
    ).fetchall()
    rows = {}
    con.execute(f"attach '{partial}' as snapshot")
    try:
        for schema in SNAPSHOT_SCHEMAS:
            con.execute(f"create schema snapshot.{schema}")
        for schema, table in tables:
            if (schema, table) in PER_CALL_TABLES:
                continue
            con.execute(f'create table snapshot.{schema}."{table}" as select * from {schema}."{table}"')
            rows[f"{schema}.{table}"] = con.execute(f'select count(*) from snapshot.{schema}."{table}"').fetchone()[0]
    finally:
        con.execute("detach snapshot")
    os.replace(partial, final)  # atomic: readers open the old file or the new one
    return rows
