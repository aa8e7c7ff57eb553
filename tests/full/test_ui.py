"""The Dagster UI a billing team runs the close in: a real dagster-webserver, asked over GraphQL and
looked at with Debian's headless chromium (`make test-ui` installs it)."""

import os
import re
import shutil
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import CDR_HEADER, FIXTURES, land_small_with, query
from helpers import run as callbill
from PIL import Image
from webserver import (
    LOCATION,
    check_evaluations,
    dagster_dev_serving,
    free_port,
    graphql,
    serving,
    wait_for_run,
    wait_for_the_close_to_be_audited,
)

pytestmark = pytest.mark.ui
CHROMIUM = "/usr/bin/chromium"


@contextmanager
def chromium_page(width: int, height: int) -> Iterator[Any]:
    """A page of Debian's headless chromium (no browser download), closed with its browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def skip_the_first_visit_prompt(page: Any) -> None:
    """Dagster's UI asks a first visitor to sign up for its newsletter; some versions do not."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=15_000)
        skip.click()
        skip.wait_for(state="detached", timeout=15_000)
    except PlaywrightTimeout:
        pass


@pytest.fixture
def webserver(closed_may, tmp_path):
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    command = [str(Path(sys.executable).parent / "dagster-webserver"), "-m", "orchestration.definitions"]
    url = f"http://127.0.0.1:{port}"
    with serving([*command, "-h", "127.0.0.1", "-p", str(port)], env, f"{url}/server_info", tmp_path / "web.log"):
        yield url


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
    assert {
        "landing",
        "staging",
        "rating",
        "invoicing",
        "publication",
        "receivables",
        "commissions",
        "reports",
    } <= groups
    assert by_key["publish_invoices"]["groupName"] == "publication"
    assert by_key["marts/fct_commissions"]["groupName"] == "commissions"
    assert by_key["autopay_charge_file"]["groupName"] == "receivables"
    assert by_key["publish_invoices"]["partitionKeys"][0] == "2026-01"  # CALLBILL_FIRST_INVOICE_MONTH
    assert "2026-05" in by_key["publish_invoices"]["partitionKeys"]
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
    invoice_month = "2026-05: invoices dated 1 May 2026 — May's recurring charges, April's usage"
    assert {"key": "callbill/invoice_month", "value": invoice_month} in runs[0]["tags"]

    screenshot = tmp_path / "asset_graph.png"
    with chromium_page(1600, 1000) as page:
        page.goto(f"{webserver}/asset-groups", wait_until="networkidle", timeout=120_000)
        page.get_by_text("publication").first.wait_for(timeout=60_000)
        skip_the_first_visit_prompt(page)
        page.wait_for_timeout(2_000)
        page.screenshot(path=str(screenshot))
        text = page.inner_text("body")
    assert "Global asset lineage" in text
    assert {"publication", "receivables", "commissions", "invoicing"} <= set(text.split())
    image = Image.open(screenshot).convert("RGB")
    assert image.size == (1600, 1000)
    assert len(image.getcolors(maxcolors=1 << 20)) > 50  # a drawn graph, not a blank page


def test_the_ui_knows_the_cli_landing_the_published_tables_and_what_a_partition_means(webserver, tmp_path):
    """#25.7 in the UI: the landing assets are materialized after `callbill land` (no launch warns of
    them), the published tables are assets of the publication group, a picked partition says what it
    means."""
    nodes = graphql(
        webserver,
        "{ assetNodes { assetKey { path } groupName description isMaterializable jobNames "
        "dependencyKeys { path } assetMaterializations(limit: 1) { runId "
        "metadataEntries { label ... on IntMetadataEntry { intValue } } } } }",
    )["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    landing = {key: node for key, node in by_key.items() if node["groupName"] == "landing"}
    assert len(landing) == 11
    assert all(node["assetMaterializations"] for node in landing.values()), landing
    (accounts,) = landing["landing/accounts"]["assetMaterializations"]
    assert accounts["runId"] == ""  # reported by `callbill land`, not a run
    rows = {e["label"]: e.get("intValue") for e in accounts["metadataEntries"]}["rows_accepted"]
    assert rows == query(Path(os.environ["CALLBILL_WAREHOUSE"]), "select count(*) from raw.accounts")[0][0]
    # What the Launchpad's "Materialize" warns of: upstream assets outside the job never materialized.
    in_job = {key for key, node in by_key.items() if "month_end_close" in node["jobNames"]}
    upstream = {"/".join(d["path"]) for key in in_job for d in by_key[key]["dependencyKeys"]} - in_job
    never = [key for key in upstream if by_key[key]["isMaterializable"] and not by_key[key]["assetMaterializations"]]
    assert upstream and not never, never
    published = ["published/invoices", "published/invoice_lines", "published/rated_calls", "published/invoice_months"]
    for key in published:
        node = by_key[key]
        assert (node["groupName"], node["isMaterializable"]) == ("publication", True), key
        assert node["description"].startswith(key.replace("/", ".") + ": ") and "R-INV-2" in node["description"]
        assert node["assetMaterializations"], key
    assert "default" not in {node["groupName"] for node in nodes}

    with chromium_page(1600, 1000) as page:
        page.goto(f"{webserver}/assets/landing/accounts", wait_until="networkidle", timeout=120_000)
        page.get_by_text("Latest materialization").first.wait_for(timeout=60_000)
        skip_the_first_visit_prompt(page)
        page.get_by_text("rows_accepted").first.wait_for(timeout=60_000)
        accounts_page = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "landing_accounts.png"))

        page.goto(f"{webserver}/locations/{LOCATION}/asset-groups/publication/list", timeout=120_000)
        page.get_by_text("published / invoices").first.wait_for(timeout=60_000)
        publication_page = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "publication_group.png"))

        pick_the_month_in_the_launchpad(page, webserver, "2026-05")
        launchpad = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "launchpad_2026_05.png"))
    assert "Never materialized" not in accounts_page
    assert "callbill land" in accounts_page  # the description of a landing asset
    for table in ("invoices", "invoice_lines", "rated_calls", "invoice_months"):
        assert f"published / {table}" in publication_page
    assert "2026-05: invoices dated 1 May 2026 — May's recurring charges, April's usage" in launchpad


def pick_the_month_in_the_launchpad(page: Any, url: str, invoice_month: str, first_visit: bool = False) -> None:
    """Open the close's Launchpad and pick the invoice month, until the UI shows what it means."""
    page.goto(f"{url}/locations/{LOCATION}/jobs/month_end_close/playground", timeout=120_000)
    if first_visit:
        skip_the_first_visit_prompt(page)
    partition = page.get_by_placeholder("Partition")
    partition.click(timeout=60_000)
    partition.fill(invoice_month)
    page.wait_for_timeout(1_000)
    page.keyboard.press("Enter")
    page.get_by_text("callbill/invoice_month").first.wait_for(timeout=60_000)


def launch_in_the_launchpad(url: str, invoice_month: str, screenshots: Path) -> str:
    """What the billing team does in chromium: open the close's Launchpad, pick the month, press
    "Launch run"; the UI then shows the run's page, whose address names the run."""
    with chromium_page(1600, 1000) as page:
        pick_the_month_in_the_launchpad(page, url, invoice_month, first_visit=True)
        page.screenshot(path=str(screenshots / f"launchpad_{invoice_month}.png"))
        page.get_by_role("button", name="Launch run").click(timeout=60_000)
        page.wait_for_url(re.compile(r".*/runs/[0-9a-f-]{36}.*"), timeout=120_000)
        return re.search(r"/runs/([0-9a-f-]{36})", page.url).group(1)


def close_from_the_ui(url: str, invoice_month: str, screenshots: Path) -> tuple[str, dict, dict]:
    """Launch month_end_close for the month from the Launchpad and wait for its end: the run id, its
    status and its checks' outcomes."""
    run_id = launch_in_the_launchpad(url, invoice_month, screenshots)
    run = wait_for_run(url, run_id)
    return run_id, run, check_evaluations(url, run_id)


@pytest.fixture
def dagster_dev(warehouse, tmp_path):
    """The UI on a warehouse with the small fixture landed."""
    callbill("land", str(FIXTURES / "landing_small"))
    with dagster_dev_serving(tmp_path / "dagster_home", tmp_path / "dev.log") as url:
        yield url, warehouse


SPOOFED_CALL = "C950,ACC-3,outbound,+13125559999,+13125551234,2026-04-21T10:00:00Z,,60"


@pytest.fixture
def dagster_dev_with_a_spoofed_call(warehouse, tmp_path):
    """The UI on the small fixture plus an April call from a number no account owns, which the
    blocking revenue-assurance suite fails, so nothing may publish (R-INV-1)."""
    land_small_with(tmp_path, {"cdrs/spoofed.csv": f"{CDR_HEADER}\n{SPOOFED_CALL}"})
    with dagster_dev_serving(tmp_path / "dagster_home", tmp_path / "dev.log") as url:
        yield url, warehouse


def test_a_close_launched_from_the_ui_publishes_with_the_spark_extra_installed(dagster_dev, tmp_path):
    """Issue #25.1: the run worker the UI's launch starts is a spawned process; with pyspark
    installed, importing Great Expectations there ended it (SystemExit: 0) and no check passed."""
    import importlib.util

    assert importlib.util.find_spec("pyspark") is not None, "make test-ui installs the Spark extra first"
    url, warehouse = dagster_dev
    _, run, evaluations = close_from_the_ui(url, "2026-05", tmp_path)
    assert run["status"] == "SUCCESS", evaluations
    assert evaluations["checks"]["gx_invoices_balance"] is True
    assert evaluations["checks"]["gx_revenue_assurance"] is True
    assert not evaluations["step_errors"]
    published = query(
        warehouse, "select count(*), sum(total) from published.invoices where invoice_date = date '2026-05-01'"
    )
    drafts = query(warehouse, "select count(*), sum(total) from marts.fct_invoices where invoice_date = '2026-05-01'")
    assert published == drafts and published[0][0] > 0


def test_a_failed_close_launched_from_the_ui_names_its_check_and_first_row_on_the_run_page_and_close_status(
    dagster_dev_with_a_spoofed_call, tmp_path
):
    """#25 acceptance: the billing team launches May from the UI; revenue assurance fails; the run's
    page and the Close status dashboard, in chromium, name the check and its first failing row."""
    url, warehouse = dagster_dev_with_a_spoofed_call
    run_id, run, evaluations = close_from_the_ui(url, "2026-05", tmp_path)
    assert run["status"] == "FAILURE", evaluations
    assert evaluations["checks"]["gx_revenue_assurance"] is False
    assert evaluations["checks"]["gx_invoices_balance"] is True
    assert query(warehouse, "select count(*) from published.invoices")[0][0] == 0
    audited = wait_for_the_close_to_be_audited(warehouse)
    assert (audited["published"], audited["failed_checks"]) == (False, ["gx_revenue_assurance"])

    check = "outbound calls from numbers that belong to no account"
    with chromium_page(1600, 1000) as page:
        page.goto(f"{url}/runs/{run_id}", wait_until="networkidle", timeout=120_000)
        skip_the_first_visit_prompt(page)
        page.get_by_text(f"gx_revenue_assurance failed: {check}").first.wait_for(timeout=60_000)
        run_page = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "failed_run.png"))
    assert "+13125559999" in run_page

    env = {**os.environ, "CALLBILL_WAREHOUSE": str(warehouse)}
    env.pop("CALLBILL_SNAPSHOT", None)
    port = free_port()
    command = [str(Path(sys.executable).parent / "callbill"), "dashboards", "--port", str(port)]
    dashboards = f"http://127.0.0.1:{port}"
    with serving(command, env, f"{dashboards}/_stcore/health", tmp_path / "dashboards.log"):
        with chromium_page(1400, 1100) as page:
            page.goto(f"{dashboards}/?page={urllib.parse.quote('Close status')}", timeout=60_000)
            page.get_by_text("failed: nothing published.").first.wait_for(timeout=60_000)
            page.get_by_text(check).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1_000)
            page.screenshot(path=str(tmp_path / "close_status_failed.png"), full_page=True)
            close_status = page.inner_text("body")
    assert "The close of 2026-05 (" in close_status
    assert "example_unknown_number = +13125559999" in close_status


@pytest.fixture
def dashboards(generated_template, warehouse, tmp_path):
    shutil.copytree(generated_template / "warehouse", warehouse.parent)
    port = free_port()
    env = {**os.environ, "CALLBILL_WAREHOUSE": str(warehouse)}
    env.pop("CALLBILL_SNAPSHOT", None)
    command = [str(Path(sys.executable).parent / "callbill"), "dashboards", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with serving(command, env, f"{url}/_stcore/health", tmp_path / "dashboards.log"):
        yield url, warehouse


def test_every_dashboard_page_renders_its_charts_and_figures_in_chromium(dashboards, tmp_path):
    url, warehouse = dashboards
    with duckdb.connect(str(warehouse), read_only=True) as con:
        billed = con.execute("select sum(amount) from marts.rpt_revenue_monthly").fetchone()[0]
        usf = con.execute("select usf_billed from marts.rpt_usf_liability order by quarter desc limit 1").fetchone()[0]
        open_total = con.execute("select sum(open_amount) from marts.fct_receivables").fetchone()[0]
        commissions = con.execute("select sum(amount) from marts.fct_commissions").fetchone()[0]
    known_figure = {
        "Revenue": f"USD {billed:,.2f}",
        "USF liability": f"USD {usf:,.2f}",
        "Receivables": f"USD {open_total:,.2f}",
        "Commissions": f"USD {commissions:,.2f}",
        "Close status": "2026-04",
    }
    shots = Path(os.environ.get("CALLBILL_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with chromium_page(1400, 1100) as page:
        for name, figure in known_figure.items():
            page.goto(f"{url}/?page={urllib.parse.quote(name)}", timeout=60_000)
            page.get_by_text(figure).first.wait_for(timeout=60_000)
            if name != "Close status":
                page.locator(
                    "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
                ).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1_000)
            path = shots / f"dashboard_{name.lower().replace(' ', '_')}.png"
            page.screenshot(path=str(path), full_page=True)
            assert figure in page.inner_text("body"), name
            assert len(Image.open(path).convert("RGB").getcolors(maxcolors=1 << 20)) > 50, name
