"""The finance dashboards show what the marts hold: Streamlit's AppTest runs the app on a small
generated warehouse and every metric and table is compared with a query on the marts."""

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers import REPO_ROOT
from streamlit.testing.v1 import AppTest

APP = REPO_ROOT / "callbill" / "dashboards" / "app.py"


@pytest.fixture
def generated(generated_template: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(generated_template / "warehouse", warehouse.parent)
    monkeypatch.delenv("CALLBILL_SNAPSHOT", raising=False)
    return warehouse


def marts(warehouse: Path, sql: str) -> list[tuple]:
    """The figure as a SQL user gets it: from the warehouse itself, not the snapshot."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def usd(value: Decimal) -> str:
    return f"USD {value:,.2f}"


def app_on(page: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params["page"] = page
    return app.run()


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


# The tables of each page, in the order the page shows them.
TABLES = {
    "billed_by_month": 0,
    "pass_throughs": 1,
    "mrr_movement": 2,
    "top_accounts": 3,
    "usf_quarters": 0,
    "dunning": 0,
    "published_months": 0,
}


def table(app: AppTest, name: str) -> pd.DataFrame:
    return app.dataframe[TABLES[name]].value


def chart_rows(app: AppTest, index: int) -> pd.DataFrame:
    """The rows an Altair chart of the page plots (Streamlit sends them as Arrow)."""
    import pyarrow as pa

    (dataset,) = app.get("vega_lite_chart")[index].proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()


def test_revenue_page_shows_the_revenue_marts(generated):
    app = app_on("Revenue")
    assert not app.exception
    ((billed, invoices),) = marts(
        generated, "select sum(amount), count(distinct invoice_id) from marts.rpt_revenue_monthly"
    )
    (mrr,) = marts(generated, "select sum(mrr) from marts.rpt_mrr_movement where invoice_month = '2026-04'")[0]
    published_total = marts(generated, "select sum(total) from published.invoices")[0][0]
    assert billed == published_total
    shown = metrics(app)
    assert shown["Billed total (invoice totals)"] == usd(billed)
    assert shown["MRR 2026-04"] == usd(mrr) and shown["Invoices"] == f"{invoices:,}"

    top = table(app, "top_accounts")
    expected = marts(
        generated,
        "select account_id, sum(amount) from marts.rpt_revenue_monthly where revenue_class = 'service revenue' "
        "group by 1 order by 2 desc, 1 limit 10",
    )
    assert [
        (a, Decimal(str(b)).quantize(Decimal("0.01"))) for a, b in zip(top.account_id, top.service_revenue, strict=True)
    ] == expected
    movement = table(app, "mrr_movement")
    assert set(movement.movement) <= {"opening", "new", "expansion", "contraction", "churn"}
    assert (
        int(movement.accounts.sum())
        == marts(generated, "select count(*) from marts.rpt_mrr_movement where movement <> 'unchanged'")[0][0]
    )

    # The plan filter narrows every figure to the plan, by the same SQL.
    app.multiselect[0].set_value(["basic"]).run()
    basic = marts(generated, "select sum(amount) from marts.rpt_revenue_monthly where plan_id = 'basic'")[0][0]
    assert metrics(app)["Billed total (invoice totals)"] == usd(basic)


def test_service_revenue_leaves_out_taxes_regulatory_fees_and_account_credit(generated):
    """Issue 25.4: revenue is what was sold. Taxes (R-TAX-1) and USF / RRF / SLRRF (R-USF-1, R-RRF-1,
    R-SLRRF-1) are collected and passed on; account credit applies earlier payments (R-PAY-2). Worked
    out from the published invoices, not from the report: the invoice totals less their tax totals,
    less the regulatory lines, less the credit lines."""
    ((billed, taxes),) = marts(generated, "select sum(total), sum(tax_total) from published.invoices")
    ((regulatory, credit),) = marts(
        generated,
        "select sum(amount) filter (where line_type in ('usf', 'rrf', 'slrrf')), "
        "sum(amount) filter (where line_key = 'account_credit') from published.invoice_lines",
    )
    assert taxes > 0 and regulatory > 0 and credit < 0  # the fixture has each, so each is tested
    service = billed - taxes - regulatory - credit

    app = app_on("Revenue")
    assert not app.exception
    shown = metrics(app)
    assert shown["Service revenue"] == usd(service)
    assert shown["Billed total (invoice totals)"] == usd(billed)
    assert shown["Taxes and regulatory fees passed through (not revenue)"] == usd(taxes + regulatory)
    assert shown["Account credit applied (not revenue)"] == usd(credit)

    # No chart has tax or a regulatory fee as a revenue category.
    categories = chart_rows(app, 0)
    assert "recurring" in set(categories.revenue_category) <= {"recurring", "usage", "one-time", "adjustment"}
    assert Decimal(str(categories.amount.sum())).quantize(Decimal("0.01")) == service
    passed_through = table(app, "pass_throughs")
    assert set(passed_through.line_type) == {"tax", "usf", "rrf", "slrrf"}
    by_month = table(app, "billed_by_month")
    assert list(by_month.invoice_month) == ["2026-02", "2026-03", "2026-04"]

    # The report reads the same in SQL: service revenue by class, to the cent.
    assert marts(
        generated, "select sum(amount) from marts.rpt_revenue_monthly where revenue_class = 'service revenue'"
    ) == [(service,)]


def test_usf_page_shows_the_liability_by_quarter(generated):
    app = app_on("USF liability")
    assert not app.exception
    rows = marts(
        generated, "select quarter, usf_billed, usf_liability, factor from marts.rpt_usf_liability order by quarter"
    )
    assert [r[0] for r in rows] == ["2026-Q1", "2026-Q2"]
    quarter, billed, liability, _ = rows[-1]
    assert metrics(app) == {f"USF billed {quarter}": usd(billed), f"Liability to remit {quarter}": usd(liability)}
    shown = table(app, "usf_quarters")
    assert list(shown.quarter) == ["2026-Q1", "2026-Q2"]
    assert [round(float(f), 6) for f in shown.factor] == [float(r[3]) for r in rows]
    assert app.get("download_button")[0].proto.label == "Download CSV"


def test_receivables_commissions_and_close_status_pages(generated):
    receivables = app_on("Receivables")
    assert not receivables.exception
    ((as_of, open_total, past_due),) = marts(
        generated,
        "select max(as_of_date), sum(open_amount), sum(open_amount) filter (where days_past_due > 0) "
        "from marts.fct_receivables",
    )
    assert metrics(receivables) == {f"Open as of {as_of}": usd(open_total), "Past due": usd(past_due or 0)}
    dunning = table(receivables, "dunning")
    assert list(dunning.account_id) == [r[0] for r in marts(generated, "select account_id from marts.rpt_dunning_list")]

    commissions = app_on("Commissions")
    assert not commissions.exception
    ((total, residual),) = marts(
        generated,
        "select sum(amount), sum(amount) filter (where commission_type = 'residual') from marts.fct_commissions",
    )
    ((paid,),) = marts(generated, "select coalesce(sum(amount), 0) from published.commission_payouts")
    assert metrics(commissions) == {
        "Commissions due, all dates": usd(total),
        "of which residuals": usd(residual),
        "Paid by payout runs": usd(paid),
    }

    status = app_on("Close status")
    assert not status.exception
    assert metrics(status) == {"Months published": "3", "Last month published": "2026-04"}
    months = table(status, "published_months")
    assert list(months.invoice_month) == ["2026-02", "2026-03", "2026-04"]
    assert list(months.invoices) == [
        r[0] for r in marts(generated, "select invoices from published.invoice_months order by 1")
    ]
    (said, no_failures) = [s.value for s in status.success]
    assert said.startswith("The close of 2026-02..2026-04 (") and said.endswith(" UTC) published its invoices.")
    assert no_failures == "No failing checks."


def test_stopping_the_dashboards_command_stops_its_server(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from webserver import free_port, wait_until_answering

    port = free_port()
    health = f"http://127.0.0.1:{port}/_stcore/health"
    env = {**os.environ, "CALLBILL_WAREHOUSE": str(tmp_path / "callbill.duckdb")}
    command = [str(Path(sys.executable).parent / "callbill"), "dashboards", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_until_answering(health, process, 60)
        process.send_signal(signal.SIGTERM)  # what a service manager sends: to callbill only
        assert process.wait(timeout=30) == 0  # a requested stop, not a failure
        deadline = time.monotonic() + 30
        while True:  # the server goes with it
            try:
                urllib.request.urlopen(health, timeout=2)
            except OSError:
                break
            assert time.monotonic() < deadline, "the Streamlit server outlived `callbill dashboards`"
            time.sleep(0.5)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # whatever is left of its process group
        except ProcessLookupError:
            pass
