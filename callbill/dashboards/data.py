"""Read-only queries for the dashboards. Every figure is a query on a mart (models/marts/reports and
the receivables and commissions marts), so a SQL user and the dashboard agree to the cent."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from callbill.outputs.snapshot import snapshot_path


class NoSnapshot(Exception):
    """No close has published anything yet."""


def open_snapshot(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    target = path or snapshot_path()
    if not target.exists():
        raise NoSnapshot(f"no readers' snapshot at {target}: run `callbill close YYYY-MM` first")
    return duckdb.connect(str(target), read_only=True)


def frame(sql: str, params: dict | list | None = None, path: Path | None = None) -> pd.DataFrame:
    """One short-lived read-only connection per query: a snapshot swapped in by a close is picked up."""
    with open_snapshot(path) as con:
        return con.execute(sql, params or {}).df()


def scalar(sql: str, params: dict | list | None = None, path: Path | None = None) -> object:
    with open_snapshot(path) as con:
        return con.execute(sql, params or {}).fetchone()[0]


def row(sql: str, params: dict | list | None = None, path: Path | None = None) -> tuple:
    """One row as DuckDB returns it: money stays Decimal (a DataFrame would make it float)."""
    with open_snapshot(path) as con:
        return con.execute(sql, params or {}).fetchone()
