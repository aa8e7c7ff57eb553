"""Shared fixtures: a temporary warehouse and Dagster home per test, the dbt manifest parsed once."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT, warehouse_at

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

# The files that take longest (they close most), longest first. `make test` hands each of its two
# workers the next file as it finishes one (in this order: --no-loadscope-reorder), so both finish
# together instead of one running a long file alone at the end. Files not listed follow.
LONGEST_FIRST = [
    "full/test_spark.py",
    "full/test_close_small.py",
    "full/test_adjustments.py",
    "full/test_bench.py",
    "full/test_crash_and_readers.py",
    "full/test_published_calls.py",
    "full/test_switch_cdrs.py",
    "full/test_usage_feeds.py",
    "full/test_receivables.py",
    "full/test_unbilled_calls.py",
    "full/test_cli_errors.py",
    "full/test_draft_reclose.py",
    "full/test_statement.py",
    "full/test_sensors.py",
    "full/test_close_generated.py",
    "full/test_nanp_rating.py",
    "full/test_late_calls.py",
    "fast/test_dbt_unit_tests.py",
    "full/test_dashboards.py",
    "fast/test_gx_worker.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    tests = Path(__file__).parent
    items.sort(key=lambda item: rank.get(item.path.relative_to(tests).as_posix(), len(rank)))


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """`make test` parses first; a bare `pytest` run parses here, whole, as make does."""
    manifest = REPO_ROOT / "target" / "manifest.json"
    if not manifest.exists():
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt), "parse", "--profiles-dir", "profiles", "--quiet", "--no-partial-parse"],
            cwd=REPO_ROOT,
            check=True,
        )
    return manifest


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "warehouse" / "callbill.duckdb"
    monkeypatch.setenv("CALLBILL_WAREHOUSE", str(path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    return path


@pytest.fixture(scope="session")
def closed_may_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small fixture landed and closed for 2026-05 once per session, by the real CLI."""
    from helpers import FIXTURES, run

    root = tmp_path_factory.mktemp("closed_may")
    with warehouse_at(root):
        run("land", str(FIXTURES / "landing_small"))
        run("close", "2026-05")
    return root


@pytest.fixture
def closed_may(warehouse: Path, tmp_path: Path, closed_may_template: Path) -> Path:
    """A copy of the template: this test's warehouse and Dagster home, with May 2026 published."""
    shutil.copytree(closed_may_template / "warehouse", warehouse.parent)
    shutil.copytree(closed_may_template / "dagster_home", tmp_path / "dagster_home", dirs_exist_ok=True)
    return tmp_path


@pytest.fixture(scope="session")
def generated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 accounts, calls and payments for Jan-Mar 2026, closed for 2026-02..2026-04 in one run."""
    from helpers import run

    from callbill.generate import generate_landing

    root = tmp_path_factory.mktemp("generated")
    with warehouse_at(root):
        generate_landing(root / "landing", accounts=20, start_month="2026-01", months=3, calls_per_account_month=60)
        run("land", str(root / "landing"))
        run("close", "2026-02..2026-04")
    return root


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A standalone Spark cluster, a master and a worker JVM, that every Spark close and build of
    the module runs on (CALLBILL_SPARK_MASTER, which the spark target's spark.master reads)."""
    from callbill.spark_cluster import standalone_cluster

    with standalone_cluster(tmp_path_factory.mktemp("cluster")) as started:
        saved = os.environ.get("CALLBILL_SPARK_MASTER")
        os.environ["CALLBILL_SPARK_MASTER"] = started.master_url
        try:
            yield started
        finally:
            os.environ.pop("CALLBILL_SPARK_MASTER")
            if saved is not None:
                os.environ["CALLBILL_SPARK_MASTER"] = saved
