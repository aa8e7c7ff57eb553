"""Faults a billing system meets: a close killed at any point leaves no partial month and the next
close gives what an uninterrupted one gives; readers during a close see whole months only (through
the readers' snapshot) and never make it fail."""

import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from helpers import FIXTURES, REPO_ROOT, run

CALLBILL = str(Path(sys.executable).parent / "callbill")
# Published rows without the moments they were written (published_at differs between two runs).
PUBLISHED = {
    "invoices": "invoice_id, account_id, invoice_date, due_date, autopay_date, subtotal, tax_total, total, status",
    "invoice_lines": "*",
    "rated_calls": "*",
}


def published_digest(warehouse: Path, with_times: bool = False) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the ordered rows of each published table."""
    digests = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, columns in PUBLISHED.items():
            cols = "*" if with_times else columns
            digests[table] = con.execute(
                f"select count(*), md5(coalesce(string_agg(row_text, '|' order by row_text), '')) "
                f"from (select cast(t as varchar) as row_text from (select {cols} from published.{table}) as t)"
            ).fetchone()
    return digests


def environment(warehouse: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CALLBILL_WAREHOUSE": str(warehouse), **extra}


def kill_close_at(warehouse: Path, step_line: str, after_seconds: float, **extra: str) -> list[str]:
    """Start `callbill close 2026-05`, SIGKILL its whole process group once stderr shows step_line."""
    process = subprocess.Popen(
        [CALLBILL, "close", "2026-05"],
        env=environment(warehouse, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # dbt runs as a child: the kill takes it too, like a crash would
    )
    seen = []
    try:
        for line in process.stderr:
            seen.append(line.rstrip())
            if line.strip() == step_line:
                time.sleep(after_seconds)
                break
        assert process.poll() is None, f"the close ended before {step_line!r}: {seen}"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return seen


@pytest.fixture
def uninterrupted(closed_may_template):
    """The small fixture closed for May once, without interruption (the session's template)."""
    return published_digest(closed_may_template / "warehouse" / "callbill.duckdb")


def test_a_close_killed_anywhere_publishes_nothing_and_the_next_close_matches(warehouse, uninterrupted):
    """The killed closes are processes of their own; the closes after them run in this one."""
    run("land", str(FIXTURES / "landing_small"))
    kill_points = [
        ("… callbill_dbt_models", 2.0, {}),  # during the dbt build (its start alone takes longer)
        # during the checks (each check held open: they now take a tenth of a second)
        ("… marts__fct_invoices_gx_account_invoice_coverage", 1.0, {"CALLBILL_CHECK_PAUSE_SECONDS": "60"}),
        ("… publish_invoices", 2.0, {"CALLBILL_PUBLICATION_PAUSE_SECONDS": "60"}),  # inside the transaction
    ]
    for step_line, after, extra in kill_points:
        kill_close_at(warehouse, step_line, after, **extra)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            partial = con.execute(
                "select (select count(*) from published.invoices), (select count(*) from published.invoice_lines), "
                "(select count(*) from published.rated_calls), (select count(*) from published.invoice_months)"
            ).fetchone()
        assert partial == (0, 0, 0, 0), step_line

    run("close", "2026-05")
    assert published_digest(warehouse) == uninterrupted
    assert uninterrupted["invoices"][0] == 3 and uninterrupted["rated_calls"][0] == 7

    # Re-closing the published month changes no byte of what was published (R-INV-2).
    before = published_digest(warehouse, with_times=True)
    assert "already published, reproduced unchanged" in run("close", "2026-05").output
    assert published_digest(warehouse, with_times=True) == before


def test_readers_of_the_snapshot_see_whole_months_and_never_block_a_close(closed_may, warehouse):
    snapshot = warehouse.with_name("callbill.snapshot.duckdb")
    assert snapshot.exists()  # written by the close of May

    # The small fixture has no May calls: June closes with the usage gap accepted (issue #25.2).
    process = subprocess.Popen(
        [CALLBILL, "close", "2026-06", "--accept-usage-gap", "no May calls in this fixture"],
        env=environment(warehouse),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen, reads = set(), 0
    while True:
        done = process.poll() is not None
        with duckdb.connect(str(snapshot), read_only=True) as reader:
            months = reader.execute(
                """
                select strftime(m.invoice_date, '%Y-%m'), m.invoices, count(i.invoice_id), m.total, sum(i.total)
                from published.invoice_months m
                left join published.invoices i on i.invoice_date = m.invoice_date
                group by all order by 1
                """
            ).fetchall()
        reads += 1
        for month, invoices, counted, total, summed in months:
            assert (invoices, total) == (counted, summed), month  # a whole month or none of it
        seen.add(tuple(m[0] for m in months))
        if done:
            break
        time.sleep(0.2)
    assert process.returncode == 0, process.stderr.read()
    assert reads > 20
    assert seen == {("2026-05",), ("2026-05", "2026-06")}


def documented_queries(page: Path) -> list[tuple[str, str]]:
    """(the heading it is under, statement) of every SQL block of a docs page, in order."""
    heading, block, found = "", None, []
    for line in page.read_text().splitlines():
        if block is None and line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif block is None and line.strip() == "```sql":
            block = []
        elif block is not None and line.strip() == "```":
            statements = re.sub(r"--[^\n]*", "", "\n".join(block)).split(";")
            found += [(heading, sql.strip()) for sql in statements if sql.strip()]
            block = None
        elif block is not None:
            block.append(line)
    return found


def test_the_finance_queries_run_where_the_warehouse_page_says(closed_may, warehouse):
    """Issue 25.8: docs/warehouse.md runs its finance queries on the readers' snapshot and the call
    detail on the warehouse file (the per-call tables are not in the snapshot). Each runs there."""
    queries = documented_queries(REPO_ROOT / "docs" / "warehouse.md")
    assert len(queries) >= 8
    snapshot = warehouse.with_name("callbill.snapshot.duckdb")
    for heading, sql in queries:
        where = warehouse if heading == "Call detail" else snapshot
        with duckdb.connect(str(where), read_only=True) as con:
            con.execute(sql).fetchall()  # a table that is not there fails here

    (call_detail,) = [sql for heading, sql in queries if heading == "Call detail"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        calls = con.execute(call_detail.replace("INV-202605-ACC-00001", "INV-202605-ACC-1")).fetchall()
    # ACC-1's international calls of April, as published: Toronto, a Brazilian mobile, London.
    assert [(c[2], c[6]) for c in calls] == [
        ("+14165551234", Decimal("0.036")),
        ("+5511987654321", Decimal("0.066")),
        ("+447700900123", Decimal("0.085")),
    ]
    (named,) = [sql for heading, sql in queries if "account_name" in sql]
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert [r[:2] for r in con.execute(named).fetchall()] == [
            ("INV-202605-ACC-1", "Acme"),
            ("INV-202605-ACC-2", "Beta"),
            ("INV-202605-ACC-3", "Gamma"),
        ]
