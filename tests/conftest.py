"""Shared fixtures: a temporary warehouse and Dagster home per test, the dbt manifest parsed once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """`make test` parses first; a bare `pytest` run parses here."""
    manifest = REPO_ROOT / "target" / "manifest.json"
    if not manifest.exists():
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run([str(dbt), "parse", "--profiles-dir", "profiles", "--quiet"], cwd=REPO_ROOT, check=True)
    return manifest


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "warehouse" / "callbill.duckdb"
    monkeypatch.setenv("CALLBILL_WAREHOUSE", str(path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    return path
