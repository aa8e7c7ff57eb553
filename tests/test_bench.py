"""Smoke test of the benchmark at a tiny size: it runs end to end and writes its figures."""

import json
import os
import subprocess
import sys

from conftest import REPO_ROOT


def test_the_benchmark_runs_at_a_tiny_size_and_writes_its_results(tmp_path):
    env = {
        **os.environ,
        "CALLBILL_BENCH_CACHE": str(tmp_path / "cache"),
        "CALLBILL_BENCH_RESULTS": str(tmp_path / "results"),
        "CALLBILL_BENCH_DIR": str(tmp_path / "work"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--cdrs", "20k", "--accounts", "10", "--pandas", "yes"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (results_file,) = (tmp_path / "results").glob("20k-*.json")
    figures = json.loads(results_file.read_text())
    assert set(figures["measured"]) == {"floor", "land", "close", "land extra day", "re-close", "pandas rating"}
    assert 0 < figures["rows"]["invoices"] <= 10
    assert figures["rows"]["cdrs_landed"] > 10_000
    assert figures["rows"]["rated_calls"] > 0
    assert "(land + close) / floor" in figures["ratios"]
    assert "(land + close) / floor" in result.stdout
