"""The Dagster webserver as the billing team reaches it: started as its own process group, asked
over GraphQL (what the UI's pages send), stopped by its process group. test_ui.py looks at it in
chromium; test_spark.py launches a Spark close through it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from helpers import query

LOCATION = "orchestration.definitions"  # the code location the UI loads (-m)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


def wait_until_answering(url: str, process: subprocess.Popen, timeout_s: float, log_path: Path | None = None) -> None:
    """Until url answers; fails if the server's process ends first (with its log) or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            assert process.poll() is None, log_path.read_text() if log_path else f"{process.args[0]} ended"
            assert time.monotonic() < deadline, f"{process.args[0]} did not answer within {timeout_s} s"
            time.sleep(0.5)


@contextmanager
def serving(command: list[str], env: dict[str, str], health_url: str, log_path: Path) -> Iterator[None]:
    """Start a server in its own process group, wait until health_url answers, stop the group by PID."""
    with log_path.open("w") as log:
        # start_new_session: its children (a code server) are stopped with it
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_answering(health_url, process, 120, log_path)
            yield
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def dagster_dev_serving(home: Path, log_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`make ui`: dagster dev, its webserver and its daemon (schedules, sensors, run launcher), with
    home as DAGSTER_HOME and env over this process's environment."""
    subprocess.run([sys.executable, "-m", "orchestration.speedups.dagster_events", str(home)], check=True)
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DAGSTER_HOME": str(home),
        **(env or {}),
    }
    command = [str(Path(sys.executable).parent / "dagster"), "dev", "-m", LOCATION]
    url = f"http://127.0.0.1:{port}"
    with serving([*command, "-h", "127.0.0.1", "-p", str(port)], env, f"{url}/server_info", log_path):
        yield url


def launch_close(url: str, invoice_month: str) -> str:
    """What the Launchpad sends when "Launch run" is pressed for one month of the close: its run id."""
    launched = graphql(
        url,
        "mutation Launch($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) { "
        "__typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } "
        "... on RunConfigValidationInvalid { errors { message } } } }",
        {
            "params": {
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": "__repository__",
                    "jobName": "month_end_close",
                },
                "runConfigData": "{}",
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": invoice_month}]},
            }
        },
    )["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def wait_for_run(url: str, run_id: str, timeout_s: float = 600) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        run = graphql(
            url,
            f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status }} }} }}',
        )["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']} after {timeout_s} s"
        time.sleep(2)


def check_evaluations(url: str, run_id: str) -> dict:
    """Each asset check of the run (its outcome), each failed step's error, and the run's log messages."""
    logs = graphql(
        url,
        f'{{ logsForRun(runId: "{run_id}", limit: 5000) {{ ... on EventConnection {{ events {{ __typename '
        "... on AssetCheckEvaluationEvent { evaluation { checkName success } } "
        "... on ExecutionStepFailureEvent { stepKey error { message } } "
        "... on MessageEvent { message } } } } }",
    )["logsForRun"]["events"]
    outcome = {e["evaluation"]["checkName"]: e["evaluation"]["success"] for e in logs if "evaluation" in e}
    errors = {e["stepKey"]: e["error"]["message"] for e in logs if e["__typename"] == "ExecutionStepFailureEvent"}
    return {"checks": outcome, "step_errors": errors, "messages": [e.get("message") or "" for e in logs]}


def wait_for_the_close_to_be_audited(warehouse: Path, timeout_s: float = 180) -> dict:
    """The daemon's run-status sensors write close_finished, then the readers' snapshot."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            finished = query(warehouse, "select details from audit.billing_events where event_type = 'close_finished'")
        except duckdb.IOException:  # the sensor holds the file while it writes
            finished = []
        if finished:
            return json.loads(finished[0][0])
        assert time.monotonic() < deadline, f"no close_finished within {timeout_s} s"
        time.sleep(2)
