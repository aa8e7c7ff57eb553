"""The readers' snapshot is written into a copy of the one before it (callbill/outputs/snapshot.py):
a table by invoice month gets only its months that differ, every other table is copied whole;
after a close whose own step wrote it, only the audit. Each time it must equal the warehouse."""

from pathlib import Path

import duckdb

from callbill.outputs.snapshot import write_snapshot

TABLES = ("published.invoices", "published.invoice_lines", "marts.fct_invoices", "audit.billing_events")


def warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    for schema in ("published", "marts", "reference", "audit"):
        con.execute(f"create schema {schema}")
    con.execute("create table published.invoices (invoice_id varchar, invoice_date date, total decimal(18, 2))")
    con.execute("create table published.invoice_lines (invoice_id varchar, invoice_date date, amount decimal(18, 2))")
    con.execute("create table published.rated_calls (call_id varchar, invoice_date date)")
    con.execute("create table marts.fct_invoices (invoice_id varchar, invoice_date date, status varchar)")
    con.execute("create table audit.billing_events (event_type varchar)")
    return con


def publish(con: duckdb.DuckDBPyConnection, month: str, invoices: int) -> None:
    for number in range(invoices):
        invoice = f"INV-{month}-{number}"
        con.execute("insert into published.invoices values (?, ?, ?)", [invoice, month, "10.05"])
        con.execute("insert into published.invoice_lines values (?, ?, 6.00), (?, ?, 4.05)", [invoice, month] * 2)
        con.execute("insert into published.rated_calls values (?, ?)", [f"C-{invoice}", month])
        con.execute("insert into marts.fct_invoices values (?, ?, 'published')", [invoice, month])


def contents(database: Path | duckdb.DuckDBPyConnection, tables=TABLES) -> dict[str, list[tuple]]:
    con = database if isinstance(database, duckdb.DuckDBPyConnection) else duckdb.connect(str(database), read_only=True)
    found = {table: con.execute(f"select * from {table} order by all").fetchall() for table in tables}
    if con is not database:
        con.close()
    return found


def test_each_snapshot_equals_the_warehouse_and_keeps_what_did_not_change(tmp_path):
    con, snapshot = warehouse(tmp_path / "callbill.duckdb"), tmp_path / "callbill.snapshot.duckdb"
    publish(con, "2026-04-01", 2)
    con.execute("insert into audit.billing_events values ('close_finished')")
    assert write_snapshot(con, snapshot)["published.invoice_lines"] == 4
    assert contents(snapshot) == contents(con)

    # The next close: May published, the drafts rebuilt, a mart dropped; April stays as it was.
    publish(con, "2026-05-01", 3)
    con.execute("update marts.fct_invoices set status = 'rebuilt'")
    con.execute("create table marts.rpt_gone (x int)")
    write_snapshot(con, snapshot)
    con.execute("drop table marts.rpt_gone")
    rows = write_snapshot(con, snapshot)
    assert (rows["published.invoices"], rows["published.invoice_lines"]) == (5, 10)
    assert contents(snapshot) == contents(con)
    with duckdb.connect(str(snapshot), read_only=True) as reader:
        tables = {name for (name,) in reader.execute("select table_name from duckdb_tables()").fetchall()}
    # The mart dropped is gone; the per-call tables stay in the warehouse.
    assert tables == {"invoices", "invoice_lines", "fct_invoices", "billing_events"}

    # After a close whose step wrote the snapshot, close_finished refreshes the audit alone.
    con.execute("insert into audit.billing_events values ('close_finished 2')")
    con.execute("update marts.fct_invoices set status = 'after the run'")
    assert set(write_snapshot(con, snapshot, schemas=("audit",))) == {"audit.billing_events"}
    after = contents(snapshot)
    assert after["audit.billing_events"] == [("close_finished",), ("close_finished 2",)]
    assert {status for _, _, status in after["marts.fct_invoices"]} == {"rebuilt"}


def test_a_month_changed_in_place_is_written_again_and_a_table_with_new_columns_whole(tmp_path):
    """Not what publication does, but a restore or a migration must still reach the readers."""
    con, snapshot = warehouse(tmp_path / "callbill.duckdb"), tmp_path / "callbill.snapshot.duckdb"
    publish(con, "2026-04-01", 2)
    publish(con, "2026-05-01", 1)
    repeated = "insert into published.invoice_lines values ('INV-X', '2026-04-01', 1.00)"
    con.execute(repeated)
    con.execute(repeated)
    write_snapshot(con, snapshot)

    # Both repeated rows change alike: April's count stays; a xor of row hashes would not see it.
    con.execute("update published.invoice_lines set amount = 2.00 where invoice_id = 'INV-X'")
    con.execute("delete from published.invoice_lines where amount = 4.05 and invoice_date = '2026-05-01'")
    write_snapshot(con, snapshot)
    assert contents(snapshot) == contents(con)

    con.execute("alter table published.invoices add column currency varchar default 'USD'")
    write_snapshot(con, snapshot)
    assert contents(snapshot) == contents(con)
    with duckdb.connect(str(snapshot), read_only=True) as reader:
        assert reader.execute("select distinct currency from published.invoices").fetchall() == [("USD",)]
