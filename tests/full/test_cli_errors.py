"""Every CLI failure is one line on stderr that names what failed and what to do; no traceback for a
user error unless --debug asks for it."""

import subprocess
import sys
from pathlib import Path

import duckdb
from helpers import FIXTURES

CALLBILL = str(Path(sys.executable).parent / "callbill")


def callbill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CALLBILL, *args], capture_output=True, text=True, timeout=300)


def test_user_errors_are_one_line_naming_the_problem(warehouse, tmp_path, monkeypatch):
    from orchestration.defs.partitions import invoice_months

    monkeypatch.setenv("CALLBILL_SPARK_DIR", str(tmp_path / "spark"))
    months = (
        "invoice month must be YYYY-MM from 2026-01 (CALLBILL_FIRST_INVOICE_MONTH) to "
        f"{invoice_months.get_last_partition_key()}"
    )
    not_duckdb = tmp_path / "accounts.csv"
    not_duckdb.write_text("account_id\nACC-1\n")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    missing = tmp_path / "typo" / "callbill.duckdb"
    cases = {
        ("spark", "build", "2026-05"): (
            f"callbill: no landed tables for Spark in {tmp_path / 'spark' / 'sources'}: "
            "run `callbill spark land IN_DIR` first\n"
        ),
        ("spark", "build", "2026-13"): f"callbill: {months}, got '2026-13'\n",
        ("close", "2026-13"): f"callbill: {months}, got '2026-13'\n",
        # outside the partitions, or not quite the format: before, Dagster's own errors (and a crash)
        ("close", "2026-5"): f"callbill: {months}, got '2026-5'\n",
        ("close", "2025-12..2026-01"): f"callbill: {months}, got '2025-12'\n",
        ("close", "2026-05.."): "callbill: a range of invoice months is YYYY-MM..YYYY-MM, got '2026-05..'\n",
        ("autopay", "1999-01"): f"callbill: {months}, got '1999-01'\n",
        # a file that is no DuckDB database: DuckDB would land into memory and lose it all
        ("--warehouse", str(not_duckdb), "land", str(FIXTURES / "landing_small")): (
            f"callbill: {not_duckdb} is not a DuckDB warehouse file; --warehouse names the DuckDB file callbill "
            "writes\n"
        ),
        # a mistyped path creates no empty warehouse, and a close of an empty one says what to do
        ("--warehouse", str(missing), "statement", "ACC-1", "2026-05", "--out", str(tmp_path / "s.pdf")): (
            f"callbill: no warehouse at {missing}: run `callbill land IN_DIR` first (or check --warehouse)\n"
        ),
        ("--warehouse", str(empty), "close", "2026-05"): (
            f"callbill: nothing landed in {empty}: run `callbill land IN_DIR` first\n"
        ),
        ("close", "2026-05..2026-02"): "callbill: invoice month range ends before it starts: 2026-05..2026-02\n",
        ("land", str(tmp_path / "nowhere")): f"callbill: landing folder {tmp_path / 'nowhere'} does not exist\n",
        ("land", str(FIXTURES / "landing_small" / "accounts" / "a.csv")): (
            f"callbill: {FIXTURES / 'landing_small' / 'accounts' / 'a.csv'} is a file: land takes the landing "
            "folder, the one with the entity folders (accounts, partners, switches, switch_tenants, "
            "subscription_items, account_changes, cdrs, switch_cdrs, payments, adjustments)\n"
        ),
        ("land", str(FIXTURES / "landing_small" / "accounts")): (
            f"callbill: {FIXTURES / 'landing_small' / 'accounts'} is the accounts folder itself: land takes its "
            "parent, the landing folder\n"
        ),
        # autopay charges published invoices: an empty file would look like a real run
        ("autopay", "2026-09"): "callbill: 2026-09 is not published: close it first (`callbill close 2026-09`)\n",
        ("statement", "ACC-1", "2026-05", "--out", str(tmp_path / "s.pdf")): (
            "callbill: no published invoice for account ACC-1 dated 2026-05-01\n"
        ),
    }
    assert callbill("land", str(FIXTURES / "landing_small")).returncode == 0
    for args, stderr in cases.items():
        result = callbill(*args)
        assert (result.returncode, result.stderr) == (1, stderr), args
    assert not missing.parent.exists()


def test_a_warehouse_in_use_is_one_line_and_debug_shows_the_traceback(warehouse):
    assert callbill("land", str(FIXTURES / "landing_small")).returncode == 0
    holder = duckdb.connect(str(warehouse))  # another process's read-write session
    try:
        busy = callbill("land", str(FIXTURES / "landing_small"))
        debug = callbill("--debug", "land", str(FIXTURES / "landing_small"))
    finally:
        holder.close()
    assert busy.returncode == 1
    assert busy.stderr == (
        f"callbill: the warehouse {warehouse} is in use by another process (a close, a landing or an open "
        "read-write session); run this again when it has finished\n"
    )
    assert "Traceback" not in busy.stderr
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr and "Conflicting lock" in debug.stderr
