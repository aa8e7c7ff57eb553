"""Smoke test of the benchmark at a tiny size: it runs end to end and writes its figures."""

import json
import os
import subprocess
import sys

import duckdb
from helpers import REPO_ROOT


def test_the_benchmark_runs_at_a_tiny_size_and_writes_its_results(tmp_path):
    env = {
        **os.environ,
        "CALLBILL_BENCH_CACHE": str(tmp_path / "cache"),
        "CALLBILL_BENCH_RESULTS": str(tmp_path / "results"),
        "CALLBILL_BENCH_DIR": str(tmp_path / "work"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--cdrs", "20k", "--accounts", "10", "--pandas", "yes", "--next-month"]
        + ["--platform", "asterisk"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (results_file,) = (tmp_path / "results").glob("20k-*.json")
    figures = json.loads(results_file.read_text())
    assert set(figures["measured"]) == {
        "floor",
        "land",
        "close",
        "land extra day",
        "re-close",
        "pandas rating",
        "land next month",
        "close next month",
        "land asterisk",
        "close asterisk",
    }
    assert 0 < figures["rows"]["invoices"] <= 10
    assert figures["rows"]["cdrs_landed"] > 10_000
    assert figures["rows"]["rated_calls"] > 0
    ratios = figures["ratios"]
    assert {"land / floor", "(land + close) / floor", "(land + close) next month / floor"} <= set(ratios)
    assert ratios["(land + close) / floor"] > ratios["land / floor"] > 0
    # Both closes are split by Dagster step; the re-close is a run of its own, not the close again.
    assert {"callbill_dbt_models", "publish_invoices"} <= set(figures["close_steps"])
    assert {"callbill_dbt_models", "publish_invoices"} <= set(figures["reclose_steps"])
    assert figures["reclose_steps"] != figures["close_steps"]
    assert "(land + close) / floor" in result.stdout
    # The next month: every call of its file landed and billed on May's invoices, with April's late day.
    next_month = figures["next_month_rows"]
    next_file = tmp_path / "cache" / "cdrs20000-accounts10-seed42" / "next_month" / "landing" / "cdrs"
    with duckdb.connect() as con:
        (in_file,) = con.execute(f"select count(*) from read_csv('{next_file}/*.csv', all_varchar = true)").fetchone()
        (may_starts,) = con.execute(
            f"select count(*) from read_csv('{next_file}/*.csv') where start_time_utc >= '2026-05-01'"
        ).fetchone()
    assert in_file > 10_000 and may_starts == 0
    assert next_month["cdrs_in_file"] == next_month["cdrs_landed"] == in_file
    assert next_month["rated_calls"] > figures["rows"]["rated_calls"] // 2
    assert 0 < next_month["invoices"] <= 10
    assert {"callbill_dbt_models", "publish_invoices"} <= set(figures["next_month_steps"])
    # --platform asterisk: the same month as pbx1's own files, landed and closed on a warehouse of its own,
    # bills what the canonical landing bills, to the cent.
    switch = figures["platform"]
    assert switch["name"] == "asterisk"
    assert switch["rows"]["invoices"] == switch["canonical_invoices"] > 0
    assert switch["rows"]["invoices_total"] == switch["canonical_invoices_total"] > 0
    assert switch["rows"]["records_landed"] > 10_000 and switch["rows"]["rated_calls"] > 0
    assert {"callbill_dbt_models", "publish_invoices"} <= set(switch["close_steps"])
    assert switch["close_models"]["int_switch_calls"] >= 0 and "fct_rated_calls" in figures["close_models"]
    assert "(land + close) asterisk / canonical" in figures["ratios"]
    switch_landing = tmp_path / "cache" / "cdrs20000-accounts10-seed42-asterisk" / "landing"
    assert (switch_landing / "switch_cdrs" / "pbx1" / "Master.csv").is_file() and not (switch_landing / "cdrs").exists()
    assert "(land + close) asterisk / canonical" in result.stdout and "the same as the canonical" in result.stdout


def test_the_benchmark_refuses_a_platform_with_a_replicated_landing(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--cdrs", "100M", "--platform", "asterisk"],
        cwd=REPO_ROOT,
        env={**os.environ, "CALLBILL_BENCH_CACHE": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "--platform generates the switch's files" in result.stderr
    assert not (tmp_path / "cache").exists()


def test_a_replicated_landing_repeats_the_month_under_new_call_ids(tmp_path, monkeypatch):
    import duckdb

    monkeypatch.syspath_prepend(str(REPO_ROOT))  # bench/ is a folder of the repo, not an installed package
    import bench.__main__ as bench

    monkeypatch.setattr(bench, "CACHE", tmp_path / "cache")
    landing, accounts = bench.replicated_landing(cdrs=60_000, base_cdrs=20_000, seed=3)
    base = tmp_path / "cache" / "cdrs20000-accounts10-seed3" / "landing"
    assert accounts == 10
    assert sorted(p.name for p in (landing / "cdrs").iterdir()) == [
        "cdrs_copy000.csv",
        "cdrs_copy001.csv",
        "cdrs_copy002.csv",
        "cdrs_resend.csv",
    ]
    assert (landing / "accounts").exists() and (landing / "subscription_items").exists()
    with duckdb.connect() as con:
        base_calls, base_resent = (
            con.execute(f"select count(*) from read_csv('{base}/cdrs/{name}', all_varchar = true)").fetchone()[0]
            for name in ("cdrs_2026-03.csv", "cdrs_resend.csv")
        )
        copies = con.execute(
            f"select count(*), count(distinct call_id), count(distinct split_part(call_id, '-', 2)) "
            f"from read_csv('{landing}/cdrs/cdrs_copy*.csv', all_varchar = true)"
        ).fetchone()
        resent_in_first_copy = con.execute(
            f"select count(*) from read_csv('{landing}/cdrs/cdrs_resend.csv', all_varchar = true) "
            f"where call_id in (select call_id from read_csv('{landing}/cdrs/cdrs_copy000.csv', all_varchar = true))"
        ).fetchone()[0]
    assert copies == (3 * base_calls, 3 * base_calls, 3)
    assert base_resent > 0 and resent_in_first_copy == base_resent
