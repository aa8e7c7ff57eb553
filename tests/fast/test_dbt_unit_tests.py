"""The dbt unit tests (each named after the rule it checks: R-RATE-1..5, R-LATE-1, R-PRORATE-2, R-LOWUSE-1,
R-USF-1 and its amendment, R-TAX-1/2, R-START-1 and R-CANCEL-1, R-CAL-1, R-PAY-2, R-PAY-3, R-CAL-5's dunning,
R-COMM-2/3/5 and R-COMM-5's amendment) run here once; a close skips them, since they test the SQL, not the month's
data."""

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import REPO_ROOT


def test_every_dbt_unit_test_passes_on_an_empty_build(warehouse, tmp_path):
    """`dbt build --empty`: every model built with no rows (unit tests read their inputs' column types
    from the warehouse), the seeds loaded, the unit tests run on their own rows."""
    from callbill.landing.land import ensure_raw_tables
    from callbill.warehouse import connect

    with connect() as con:
        ensure_raw_tables(con)  # the sources, as the close's first step makes them
    dbt = Path(sys.executable).parent / "dbt"
    target = tmp_path / "dbt_target"
    result = subprocess.run(
        [str(dbt), "build", "--empty", "--profiles-dir", "profiles", "--target-path", str(target)],
        cwd=REPO_ROOT,
        env={**os.environ, "CALLBILL_WAREHOUSE": str(warehouse)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    unit_tests = {
        r["unique_id"].split(".")[-1]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")
    }
    assert len(unit_tests) == 22
    assert set(unit_tests.values()) == {"pass"}
    assert {r["status"] for r in results} == {"success", "pass"}
