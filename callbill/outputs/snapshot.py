"""The readers' snapshot: a copy of what finance and dashboards read, swapped in whole.

DuckDB lets one process write a file, and while it does no other process may open it, not even
read-only. Readers (dashboards, finance sessions) open the snapshot instead: the close writes it to
a temporary file after publication and renames it into place, so a reader sees the months published
before the close or after it, never half of one, and never blocks the close.

The temporary file starts as a copy of the snapshot before it, so what has not changed is not
written again: the published invoices and lines are only ever added to (R-INV-1), so only the
months not yet in the snapshot are copied in; the other tables are copied whole, or, after a close
whose own step wrote the snapshot, only the audit.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb

from callbill.warehouse import warehouse_path

# Everything but the per-call tables, which stay in the warehouse (tens of millions of rows).
SNAPSHOT_SCHEMAS = ("published", "marts", "reference", "audit")
PER_CALL_TABLES = {("published", "rated_calls"), ("marts", "fct_rated_calls")}
# Published months never change: a month already in the snapshot is kept, the new ones are added.
ADDED_TO_BY_MONTH = {("published", "invoices"), ("published", "invoice_lines")}


def snapshot_path(warehouse: Path | None = None) -> Path:
    """CALLBILL_SNAPSHOT, else <warehouse>.snapshot.duckdb next to the warehouse."""
    explicit = os.environ.get("CALLBILL_SNAPSHOT")
    if explicit:
        return Path(explicit).expanduser().resolve()
    target = warehouse or warehouse_path()
    return target.with_name(f"{target.stem}.snapshot.duckdb")


def write_snapshot(
    con: duckdb.DuckDBPyConnection, path: Path | None = None, schemas: Iterable[str] = SNAPSHOT_SCHEMAS
) -> dict[str, int]:
    """Write the readers' tables of `schemas` into a copy of the snapshot (the rest kept as they
    were; every schema when there is no snapshot yet) and rename it over the snapshot; returns rows
    per table written."""
    final = path or snapshot_path()
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    refreshed = set(schemas)
    if final.exists():
        shutil.copyfile(final, partial)
    else:
        refreshed = set(SNAPSHOT_SCHEMAS)
    tables = {
        (schema, table): columns
        for schema, table, columns in con.execute(
            "select table_schema, table_name, list(column_name || ' ' || data_type order by ordinal_position) "
            "from information_schema.columns join information_schema.tables using (table_catalog, table_schema, "
            "table_name) where table_catalog = current_database() and table_schema in ? "
            "and table_type = 'BASE TABLE' group by all order by 1, 2",
            [list(refreshed)],
        ).fetchall()
        if (schema, table) not in PER_CALL_TABLES
    }
    rows = {}
    con.execute(f"attach '{partial}' as snapshot")
    try:
        kept = {
            (schema, table): columns
            for schema, table, columns in con.execute(
                "select table_schema, table_name, list(column_name || ' ' || data_type order by ordinal_position) "
                "from information_schema.columns where table_catalog = 'snapshot' and table_schema in ? "
                "group by all",
                [list(refreshed)],
            ).fetchall()
        }
        for schema in refreshed:
            con.execute(f"create schema if not exists snapshot.{schema}")
        for schema, table in kept.keys() - tables.keys():
            con.execute(f'drop table snapshot.{schema}."{table}"')
        for (schema, table), columns in tables.items():
            source, copy = f'{schema}."{table}"', f'snapshot.{schema}."{table}"'
            if (schema, table) in ADDED_TO_BY_MONTH and kept.get((schema, table)) == columns:
                con.execute(
                    f"insert into {copy} select * from {source} "
                    f"where invoice_date not in (select distinct invoice_date from {copy})"
                )
            else:
                con.execute(f"create or replace table {copy} as select * from {source}")
            rows[f"{schema}.{table}"] = con.execute(f"select count(*) from {copy}").fetchone()[0]
            if rows[f"{schema}.{table}"] != con.execute(f"select count(*) from {source}").fetchone()[0]:
                # Not what publication leaves behind (a month changed in place): copied whole.
                con.execute(f"create or replace table {copy} as select * from {source}")
    finally:
        con.execute("detach snapshot")
    os.replace(partial, final)  # atomic: readers open the old file or the new one
    return rows
