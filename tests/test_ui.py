"""The Dagster UI a billing team runs the close in: a real dagster-webserver, asked over GraphQL and
looked at with Debian's headless chromium (`make test-ui` installs it)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import land_small_with, run
from PIL import Image

pytestmark = pytest.mark.ui
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
def webserver(warehouse, tmp_path):
    land_small_with(tmp_path)
    run("close", "2026-05")
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    log = (tmp_path / "webserver.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-m", "orchestration.definitions"]
        + ["-h", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its code server is a child: stop the whole group by the server's PID
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=5)
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "webserver.log").read_text()
                assert time.monotonic() < deadline, "dagster-webserver did not answer within 120 s"
                time.sleep(1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_the_ui_serves_the_close_its_partitions_checks_and_schedules(webserver, tmp_path):
    repository = graphql(
        webserver,
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { "
        "schedules { name cronSchedule } sensors { name } jobs { name } } } } }",
    )["repositoriesOrError"]["nodes"][0]
    assert {s["name"]: s["cronSchedule"] for s in repository["schedules"]} == {
        "month_end_close_on_the_1st": "0 6 1 * *",
        "autopay_run_on_the_10th": "0 6 10 * *",
        "commission_payout_on_the_15th": "0 6 15 * *",
    }
    assert {s["name"] for s in repository["sensors"]} == {"new_landing_files", "close_succeeded", "close_failed"}
    assert {"month_end_close", "autopay_run", "commission_payout", "land_new_files"} <= {
        j["name"] for j in repository["jobs"]
    }

    nodes = graphql(
        webserver,
        "{ assetNodes { assetKey { path } groupName partitionKeys "
        "assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }",
    )["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    groups = {n["groupName"] for n in nodes}
    assert {"landing", "staging", "rating", "invoicing", "publication", "receivables", "commissions"} <= groups
    assert by_key["publish_invoices"]["groupName"] == "publication"
    assert by_key["marts/fct_commissions"]["groupName"] == "commissions"
    assert by_key["autopay_charge_file"]["groupName"] == "receivables"
    assert {"2024-01", "2026-05"} <= set(by_key["publish_invoices"]["partitionKeys"])
    checks = {c["name"]: c["blocking"] for c in by_key["marts/fct_invoices"]["assetChecksOrError"]["checks"]}
    assert checks["gx_invoices_balance"] is True
    assert checks["gx_invoice_change_review"] is False
    assert "invoice_total_equals_sum_of_lines_fct_invoices_" in checks

    runs = graphql(
        webserver,
        '{ runsOrError(filter: {pipelineName: "month_end_close"}) '
        "{ ... on Runs { results { status tags { key value } } } } }",
    )["runsOrError"]["results"]
    assert [r["status"] for r in runs] == ["SUCCESS"]
    assert {"key": "dagster/partition", "value": "2026-05"} in runs[0]["tags"]

    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    screenshot = tmp_path / "asset_graph.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{webserver}/asset-groups", wait_until="networkidle", timeout=120_000)
            page.get_by_text("publication").first.wait_for(timeout=60_000)
            skip = page.get_by_role("button", name="Skip")  # the first-visit newsletter prompt
            try:
                skip.wait_for(timeout=15_000)
                skip.click()
                skip.wait_for(state="detached", timeout=15_000)
            except PlaywrightTimeout:
                pass  # no prompt on this version
            page.wait_for_timeout(2_000)
            page.screenshot(path=str(screenshot))
            text = page.inner_text("body")
        finally:
            browser.close()
    assert "Global asset lineage" in text
    assert {"publication", "receivables", "commissions", "invoicing"} <= set(text.split())
    image = Image.open(screenshot).convert("RGB")
    assert image.size == (1600, 1000)
    assert len(image.getcolors(maxcolors=1 << 20)) > 50  # a drawn graph, not a blank page
