"""`callbill close` validates its GX suites in a worker process: same results as in process, a clear
error when GX fails there, and the close's own process takes over when the worker is gone."""

import os
import signal
from dataclasses import replace

import pandas as pd
import pytest

from callbill.quality import gx_worker
from callbill.quality.suites import SUITES_DIR, load_suite, validate

UNBALANCED = pd.DataFrame(
    {
        "invoice_id": ["INV-202605-A", "INV-202605-B"],
        "total_cents": [10000, 5001],
        "line_sum_cents": [10000, 5000],
        "subtotal_plus_tax_cents": [10000, 5001],
        "subtotal_before_adjustments_cents": [10000, 5001],
        "usf_cents": [100, 100],
        "usf_cap_cents": [100, 100],
    }
)


@pytest.fixture(scope="module")
def suite():
    return load_suite(SUITES_DIR / "invoices_balance.json")


def test_the_worker_finds_what_the_close_would_find_itself(tmp_path, suite):
    with gx_worker.running(tmp_path / "gx.log") as worker:
        assert worker.pid != os.getpid()
        failures = gx_worker.validate(suite, UNBALANCED)
        assert failures == validate(suite, UNBALANCED)
        assert [(f["check"], f["failing_rows"]) for f in failures] == [("invoice total equals the sum of its lines", 1)]
        assert failures[0]["first_failing_rows"][0]["invoice_id"] == "INV-202605-B"

        broken = replace(suite, name="broken_suite", expectations=[{"type": "expect_no_such_thing", "kwargs": {}}])
        with pytest.raises(gx_worker.GxWorkerError, match="Great Expectations failed validating suite broken_suite"):
            gx_worker.validate(broken, UNBALANCED)
        # The worker answers the next request after a failed one.
        assert gx_worker.validate(suite, UNBALANCED.iloc[:1]) == []


def test_a_check_validates_in_process_when_the_worker_is_gone(tmp_path, suite):
    told = []
    with gx_worker.running(tmp_path / "gx.log") as worker:
        os.kill(worker.pid, signal.SIGKILL)
        failures = gx_worker.validate(suite, UNBALANCED, on_fallback=told.append)
        assert [f["failing_rows"] for f in failures] == [1]
        assert len(told) == 1 and f"the Great Expectations worker (pid {worker.pid}) is gone" in told[0]
        # Once gone, the worker is not asked again.
        assert gx_worker.validate(suite, UNBALANCED, on_fallback=told.append) == failures
        assert len(told) == 1


def test_the_next_close_of_the_process_reuses_the_worker_and_a_dead_one_is_replaced(tmp_path, suite):
    """GX is imported once per process that closes (~3 s of CPU a close saved); each close has its log."""
    with gx_worker.running(tmp_path / "close_2026-04.gx.log") as first:
        assert gx_worker.validate(suite, UNBALANCED.iloc[:1]) == []
    with gx_worker.running(tmp_path / "close_2026-05.gx.log") as second:
        assert second.pid == first.pid and second.alive()
        assert [f["failing_rows"] for f in gx_worker.validate(suite, UNBALANCED)] == [1]
    assert (tmp_path / "close_2026-05.gx.log").exists()
    os.kill(first.pid, signal.SIGKILL)
    first._process.wait()
    with gx_worker.running(tmp_path / "close_2026-06.gx.log") as third:
        assert third.pid != first.pid and third.alive()
        assert [f["failing_rows"] for f in gx_worker.validate(suite, UNBALANCED)] == [1]
