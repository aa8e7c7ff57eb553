"""The readers' snapshot: a copy of what finance and dashboards read, swapped in whole.

DuckDB lets one process write a file, and while it does no other process may open it, not even
read-only. Readers (dashboards, finance sessions) open the snapshot instead: the close writes it to
a temporary file after publication and renames it into place, so a reader sees the months published
before the close or after it, never half of one, and never blocks the close.

The temporary file starts as a copy of the snapshot before it, so what has not changed is not
written again. A table by invoice month (published invoices and lines, draft lines, revenue) is
compared month by month, by a hash over its rows, and only the months that differ are written: a
close adds or rebuilds a few months, the published ones never change (R-INV-2). Other tables are
copied whole. After a close whose own step wrote the snapshot, only the audit is written again.
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
MONTH = "invoice_date"  # a table with it is compared and written month by month


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
        name: columns
        for name, columns in table_columns(con, "current_database()", refreshed).items()
        if name not in PER_CALL_TABLES
    }
    rows = {}
    con.execute(f"attach '{partial}' as snapshot")
    try:
        kept = table_columns(con, "'snapshot'", refreshed)
        for schema in refreshed:
            con.execute(f"create schema if not exists snapshot.{schema}")
        for schema, table in kept.keys() - tables.keys():
            con.execute(f'drop table snapshot.{schema}."{table}"')
        for (schema, table), columns in tables.items():
            source, copy = f'{schema}."{table}"', f'snapshot.{schema}."{table}"'
            if kept.get((schema, table)) == columns and any(c.startswith(f"{MONTH} ") for c in columns):
                write_changed_months(con, source, copy)
            else:
                con.execute(f"create or replace table {copy} as select * from {source}")
            rows[f"{schema}.{table}"] = con.execute(f"select count(*) from {copy}").fetchone()[0]
    finally:
        con.execute("detach snapshot")
        con.execute("drop table if exists changed_months")
    os.replace(partial, final)  # atomic: readers open the old file or the new one
    return rows


def table_columns(con: duckdb.DuckDBPyConnection, catalog: str, schemas: set[str]) -> dict[tuple[str, str], list[str]]:
    """(schema, table) -> its columns with their types, in order, of each base table of catalog (SQL)."""
    found = con.execute(
        "select table_schema, table_name, list(column_name || ' ' || data_type order by ordinal_position) "
        "from information_schema.columns join information_schema.tables using (table_catalog, table_schema, "
        f"table_name) where table_catalog = {catalog} and table_schema in ? and table_type = 'BASE TABLE' "
        "group by all",
        [sorted(schemas)],
    ).fetchall()
    return {(schema, table): columns for schema, table, columns in found}


def write_changed_months(con: duckdb.DuckDBPyConnection, source: str, copy: str) -> None:
    """Replace in copy the invoice months whose rows differ from source's: by count and a sum of
    whole-row hashes (a sum, unlike a xor, does not cancel out a repeated row)."""
    by_month = f"select {MONTH}, count(*) as row_count, sum(hash(t)::hugeint) as row_hash from {{}} as t group by 1"
    con.execute(
        f"""
        create or replace temp table changed_months as
        select coalesce(now.{MONTH}, before.{MONTH}) as {MONTH}
        from ({by_month.format(source)}) as now
        full join ({by_month.format(copy)}) as before on now.{MONTH} is not distinct from before.{MONTH}
        where now.row_count is distinct from before.row_count or now.row_hash is distinct from before.row_hash
        """
    )
    changed = f"exists (select 1 from changed_months as m where m.{MONTH} is not distinct from t.{MONTH})"
    con.execute(f"delete from {copy} as t where {changed}")
    con.execute(f"insert into {copy} select * from {source} as t where {changed}")
