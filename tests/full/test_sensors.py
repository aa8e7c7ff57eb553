"""Sensors: new landing files start a landing run; every close run started in Dagster is audited."""

import json
import shutil

import dagster as dg
from helpers import ACCOUNT_HEADER, CDR_HEADER, FIXTURES, land_small_with, query

from callbill.close import dagster_instance
from callbill.dashboards.data import last_close
from callbill.outputs.snapshot import snapshot_path
from orchestration.defs.sensors import close_failed, close_succeeded, new_landing_files


def test_new_files_in_the_landing_folder_start_one_landing_run_each_time(warehouse, tmp_path, monkeypatch):
    folder = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing_small", folder)
    monkeypatch.setenv("CALLBILL_LANDING", str(folder))

    first = new_landing_files(dg.build_sensor_context())
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert request.tags["callbill/new_files"] == "4"
    assert request.run_config == {"ops": {"landed_files": {"config": {"landing_dir": str(folder)}}}}

    again = new_landing_files(dg.build_sensor_context(cursor=first.cursor))
    assert isinstance(again, dg.SkipReason)
    assert str(folder) in again.skip_message

    (folder / "cdrs" / "late.csv").write_text(
        (FIXTURES / "landing_small" / "cdrs" / "c.csv").read_text().splitlines()[0] + "\n"
        "LATE-1,ACC-1,outbound,+15125550100,+15125550199,2026-04-30T10:00:00Z,2026-04-30T10:01:00Z,60\n"
    )
    later = new_landing_files(dg.build_sensor_context(cursor=first.cursor))
    assert later.run_requests[0].tags["callbill/new_files"] == "1"
    assert later.run_requests[0].run_key != request.run_key

    from orchestration.definitions import defs

    with dagster_instance() as instance:
        result = defs.resolve_job_def("land_new_files").execute_in_process(
            run_config=later.run_requests[0].run_config, instance=instance
        )
    assert result.success
    landed = query(warehouse, "select file_path, rows_accepted from raw.landed_files order by file_path")
    in_folder = sorted((str(p), len(p.read_text().splitlines()) - 1) for p in folder.rglob("*.csv"))
    assert landed == in_folder
    assert ("cdrs", 1) in [(p.split("/")[-2], n) for p, n in landed if p.endswith("late.csv")]


def test_a_close_run_started_in_dagster_is_audited_when_it_ends(warehouse, tmp_path):
    land_small_with(tmp_path)
    from orchestration.definitions import defs

    with dagster_instance() as instance:
        result = defs.resolve_job_def("month_end_close").execute_in_process(
            partition_key="2026-05", instance=instance, tags={"dagster/user": "ui"}
        )
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        success_event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
        context = dg.build_run_status_sensor_context(
            sensor_name="close_succeeded", dagster_event=success_event, dagster_instance=instance, dagster_run=run
        )
        close_succeeded(context)

    events = query(
        warehouse,
        "select event_type, invoice_month::varchar, details from audit.billing_events "
        "where event_type in ('close_started', 'publication', 'close_finished') order by event_id",
    )
    assert [(e[0], e[1]) for e in events] == [
        ("close_started", "2026-05-01"),
        ("publication", "2026-05-01"),
        ("close_finished", "2026-05-01"),
    ]
    finished = json.loads(events[2][2])
    assert finished == {
        "months": "2026-05",
        "run_id": result.run_id,
        "started_by": "dagster",
        "success": True,
        "published": True,
        "failed_checks": [],
        "warned_checks": [],
        "errors": [],
    }
    assert last_close(snapshot_path()).outcome == "published"


def test_a_failed_close_run_started_in_dagster_names_its_failed_checks_and_refreshes_the_snapshot(warehouse, tmp_path):
    """#25.3: the run-failure sensor records which checks blocked publication, and the readers'
    snapshot, which the run never reached, shows it."""
    land_small_with(
        tmp_path,
        {"cdrs/spoofed.csv": f"{CDR_HEADER}\nC950,ACC-3,outbound,+13125559999,+13125551234,2026-04-21T10:00:00Z,,60"},
    )
    from orchestration.definitions import defs

    with dagster_instance() as instance:
        result = defs.resolve_job_def("month_end_close").execute_in_process(
            partition_key="2026-05", instance=instance, tags={"dagster/user": "ui"}, raise_on_error=False
        )
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        failure_event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        context = dg.build_run_status_sensor_context(
            sensor_name="close_failed", dagster_event=failure_event, dagster_instance=instance, dagster_run=run
        ).for_run_failure()
        close_failed(context)

    (finished,) = query(warehouse, "select details from audit.billing_events where event_type = 'close_finished'")
    details = json.loads(finished[0])
    assert (details["success"], details["published"], details["failed_checks"]) == (
        False,
        False,
        ["gx_revenue_assurance"],
    )
    close = last_close(snapshot_path())
    assert (close.months, close.outcome) == ("2026-05", "failed")
    assert list(close.failing_checks["check"]) == ["outbound calls from numbers that belong to no account"]
    assert "+13125559999" in close.failing_checks["first_failing_row"][0]

    # #25.7: the run's page (its events in the instance) names the failed check and its first
    # failing row, in the check's evaluation and in the step failure that failed the run.
    evaluations, step_failures = run_page(result.run_id)
    described = evaluations["gx_revenue_assurance"]
    assert described.startswith("outbound calls from numbers that belong to no account: 1 failing row(s), e.g. {")
    assert "'example_unknown_number': '+13125559999'" in described
    (failure,) = step_failures.values()
    assert failure.startswith("gx_revenue_assurance failed: outbound calls from numbers that belong to no account")
    assert "+13125559999" in failure


def run_page(run_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """What the Dagster UI's page of a run shows of its checks and failed steps: each check's
    evaluation description, and each failed step's error, from the instance's event log."""
    with dagster_instance() as instance:
        events = [e.dagster_event for e in instance.all_logs(run_id) if e.is_dagster_event]
    evaluations = {
        e.event_specific_data.check_name: e.event_specific_data.description
        for e in events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    }
    step_failures = {
        e.step_key: e.step_failure_data.user_failure_data.description
        if e.step_failure_data.user_failure_data
        else e.step_failure_data.error.message
        for e in events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE
    }
    return evaluations, step_failures


def test_a_failed_dbt_test_names_its_first_failing_row_on_the_runs_page(warehouse, tmp_path):
    unknown_plan = (
        "ACC-9,Delta,US,NY,10001,platinum,,2025-01-01,2025-01-01,0,12,,0,false,d@x.example,d@x.example,,"
        "2025-01-01T00:00:00Z"
    )
    land_small_with(tmp_path, {"accounts/late_signup.csv": f"{ACCOUNT_HEADER}\n{unknown_plan}"})
    from orchestration.definitions import defs

    with dagster_instance() as instance:
        result = defs.resolve_job_def("month_end_close").execute_in_process(
            partition_key="2026-05", instance=instance, tags={"dagster/user": "ui"}, raise_on_error=False
        )
    assert not result.success
    evaluations, step_failures = run_page(result.run_id)
    assert (
        evaluations["account_plan_is_known"]
        == "account_plan_is_known (1 failing row(s), e.g. {'from_field': 'platinum'})"
    )
    (failure,) = step_failures.values()
    assert "account_plan_is_known (1 failing row(s), e.g. {'from_field': 'platinum'})" in failure
