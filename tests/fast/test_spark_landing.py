"""Landing for Spark: the landed rows as Parquet, a folder per landing batch (the rows landed on one
UTC day), and an export writes only the batches that are new or grew (callbill/spark.py)."""

from pathlib import Path

import duckdb

from callbill.spark import BATCHES_WRITTEN, export_by_batch


def landed(con: duckdb.DuckDBPyConnection, *rows: tuple[str, str]) -> None:
    con.executemany("insert into cdrs values (?, cast(? as timestamp))", list(rows))


def read_back(folder: Path) -> list[tuple[str, str]]:
    return duckdb.sql(
        "select call_id, cast(landed_on as varchar) "
        f"from read_parquet('{folder}/*/*.parquet', hive_partitioning = true) order by call_id"
    ).fetchall()


def test_an_export_writes_the_new_and_grown_batches_only(tmp_path):
    con = duckdb.connect()
    con.execute("create table cdrs (call_id varchar, _landed_at timestamp)")
    landed(con, ("C1", "2026-05-01 23:59:59"), ("C2", "2026-05-01 08:00:00"), ("C3", "2026-05-02 00:00:00"))
    target = tmp_path / "raw" / "cdrs"

    assert export_by_batch(con, "cdrs", "call_id, _landed_at", target) == ["2026-05-01", "2026-05-02"]
    assert read_back(target) == [("C1", "2026-05-01"), ("C2", "2026-05-01"), ("C3", "2026-05-02")]
    first_day = next((target / "landed_on=2026-05-01").glob("*.parquet"))
    first_day_written = first_day.stat().st_mtime_ns

    landed(con, ("C4", "2026-05-02 10:00:00"), ("C5", "2026-05-03 00:00:01"))
    assert export_by_batch(con, "cdrs", "call_id, _landed_at", target) == ["2026-05-02", "2026-05-03"]
    assert first_day.stat().st_mtime_ns == first_day_written  # 1 May's batch was not written again
    assert read_back(target) == [
        ("C1", "2026-05-01"), ("C2", "2026-05-01"), ("C3", "2026-05-02"), ("C4", "2026-05-02"), ("C5", "2026-05-03"),
    ]  # fmt: skip
    assert (target / BATCHES_WRITTEN).read_text() == '{"2026-05-01": 2, "2026-05-02": 2, "2026-05-03": 1}'
    # Nothing new: nothing written; no folder is left half written beside the batches.
    assert export_by_batch(con, "cdrs", "call_id, _landed_at", target) == []
    assert sorted(path.name for path in target.iterdir()) == [
        BATCHES_WRITTEN, "landed_on=2026-05-01", "landed_on=2026-05-02", "landed_on=2026-05-03",
    ]  # fmt: skip


def test_a_whole_table_export_of_an_older_callbill_is_replaced_by_batches(tmp_path):
    con = duckdb.connect()
    con.execute("create table cdrs (call_id varchar, _landed_at timestamp)")
    landed(con, ("C1", "2026-05-01 10:00:00"))
    target = tmp_path / "cdrs"
    target.mkdir()
    (target / "part-0.parquet").write_bytes(b"old layout")

    export_by_batch(con, "cdrs", "call_id, _landed_at", target)

    assert not (target / "part-0.parquet").exists()
    assert read_back(target) == [("C1", "2026-05-01")]
