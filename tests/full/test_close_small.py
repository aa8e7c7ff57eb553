"""The month-end close on a hand-made landing folder: exact amounts, gates, refusals, audit.

Expected amounts are worked out here from BILLING_RULES.md with Python's Decimal, not read back
from the models.
"""

import json
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from billing_oracle import expected_invoice_totals, expected_residuals, expected_usf
from click.testing import CliRunner
from helpers import ACCOUNT_HEADER, CDR_HEADER, FIXTURES, REPO_ROOT, land_small_with, query

from callbill.cli import main

USF_2026_Q2 = Decimal("0.370")
SAFE_HARBOR = Decimal("0.649")


def cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture
def landed_small(warehouse: Path) -> Path:
    result = CliRunner().invoke(main, ["land", str(FIXTURES / "landing_small")])
    assert result.exit_code == 0, result.output
    return warehouse


UNKNOWN_PLAN_ACCOUNT = (
    "ACC-9,Delta,US,NY,10001,platinum,,2025-01-01,2025-01-01,0,12,,0,false,d@x.example,d@x.example,,"
    "2025-01-01T00:00:00Z"
)


def close(month: str, *flags: str):
    return CliRunner().invoke(main, ["close", month, *flags])


def test_close_publishes_invoices_to_the_cent(closed_may, warehouse):
    landed_small = warehouse

    # ACC-2, California, standard plan: signed 2026-02-10 with 2 free months, so billing starts
    # 2026-04-10 (R-START-1); the May invoice carries 30 - 10 = 20 days of April (R-PRORATE-2).
    desks, seats, number = 2 * Decimal("24.95"), 2 * Decimal("39.95"), Decimal("4.95")
    prorated_desks, prorated_seats = cents(desks * 20 / 30), cents(seats * 20 / 30)
    prorated_number = cents(number * 20 / 30)
    # C6 (5 April) is before billing start: not rated (R-START-3). C7: 60 s to London at 0.025.
    international = cents(Decimal("1") * Decimal("0.025"))
    # R-USF-1 as amended 2026-12-06: the prorated seats are not in the base (a seat's month is not).
    usf_base = desks + number + prorated_desks + prorated_number + international
    recurring_base = desks + seats + number + prorated_desks + prorated_seats + prorated_number
    usf = cents(USF_2026_Q2 * SAFE_HARBOR * usf_base)
    rrf = cents(Decimal("0.03") * recurring_base)
    slrrf = cents(Decimal("0.0125") * recurring_base)
    subtotal = recurring_base + international + usf + rrf + slrrf
    tax = cents(Decimal("0.0725") * subtotal)
    assert (prorated_desks, prorated_seats, prorated_number, international, usf, tax) == (
        Decimal("33.27"),
        Decimal("53.27"),
        Decimal("3.30"),
        Decimal("0.03"),
        Decimal("21.96"),
        Decimal("18.57"),
    )

    # ACC-3, Oregon (no sales tax), unlimited, exemption certificate: USF/RRF/SLRRF still apply (R-TAX-2).
    acc3_desk = Decimal("24.95")
    acc3_total = (
        acc3_desk
        + cents(USF_2026_Q2 * SAFE_HARBOR * acc3_desk)
        + cents(Decimal("0.03") * acc3_desk)
        + cents(Decimal("0.005") * acc3_desk)
    )

    published = dict(
        query(landed_small, "select invoice_id, total from published.invoices where invoice_date = '2026-05-01'")
    )
    assert len(published) == 3
    assert published["INV-202605-ACC-2"] == subtotal + tax == Decimal("274.70")
    assert published["INV-202605-ACC-3"] == acc3_total == Decimal("31.81")
    assert query(
        landed_small,
        "select due_date, autopay_date from published.invoices where invoice_id = ?",
        ["INV-202605-ACC-1"],
    )[0] == (__import__("datetime").date(2026, 5, 16), __import__("datetime").date(2026, 5, 10))


def test_rated_calls_follow_increments_and_deck(closed_may, warehouse):
    landed_small = warehouse
    calls = {
        row[0]: row[1:]
        for row in query(
            landed_small,
            "select call_id, call_type, billable_seconds, rate_per_minute, total_cost from marts.fct_rated_calls",
        )
    }
    # R-RATE-3: Brazil mobile 31 s -> 30 s minimum then 6 s steps = 36 s at 0.11/min.
    assert calls["C4"] == ("international", 36, Decimal("0.110000"), Decimal("0.06600000"))
    # R-RATE-1: +1 416 is Toronto, international for a US account; R-RATE-2: 125 s -> 180 s.
    assert calls["C2"] == ("international", 180, Decimal("0.012000"), Decimal("0.03600000"))
    # R-RATE-4: UK mobile deck row effective from 2026-04-01 (0.085) replaces 0.09.
    assert calls["C5"][0] == "international" and calls["C5"][2] == Decimal("0.085000")
    assert calls["C3"][0] == "toll_free_inbound"
    assert "C6" not in calls  # before ACC-2's billing start (R-START-3)


def test_closing_a_published_month_again_changes_nothing(closed_may, warehouse):
    landed_small = warehouse
    before = query(landed_small, "select * from published.invoices order by invoice_id")
    result = close("2026-05")
    assert result.exit_code == 0, result.output
    assert query(landed_small, "select * from published.invoices order by invoice_id") == before
    assert query(landed_small, "select count(*) from published.invoice_lines")[0][0] == 29
    events = [
        r[0]
        for r in query(
            landed_small,
            "select event_type from audit.billing_events where event_type like 'publication%' order by event_id",
        )
    ]
    assert events == ["publication", "publication_reproduced"]


def test_a_month_published_with_no_invoices_closes_again(landed_small):
    # No account of the fixture was in service in March 2024: the month publishes empty, and its
    # re-close reproduces it instead of writing the month's publication record twice. A provider
    # whose first invoice month is 2024-03 sets it (#25.7); the setting is read when the
    # definitions load, so the closes run in a process of their own.
    import os
    import subprocess
    import sys

    callbill = [str(Path(sys.executable).parent / "callbill"), "close", "2024-03"]
    env = {**os.environ, "CALLBILL_FIRST_INVOICE_MONTH": "2024-03"}
    first = subprocess.run(callbill, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    again = subprocess.run(callbill, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already published, reproduced unchanged" in again.stdout
    assert query(landed_small, "select invoices, total::varchar from published.invoice_months") == [(0, "0.00")]
    status = CliRunner().invoke(main, ["status"]).output
    assert re.search(r"2024-03 +0 +0.00 +0 +0.00  20\d\d-\d\d-\d\d \d\d:\d\d", status), status


def test_a_published_months_calls_deleted_from_the_mart_fail_the_re_close_naming_it(closed_may, warehouse):
    """R-INV-2: a published month's calls are kept where the rating wrote them (publication by
    reference), so rows deleted there are published calls gone: the re-close fails naming the month,
    and the month's usage lines stay the published ones (a re-close does not sum its calls again)."""
    usage_lines = (
        "select invoice_line_id, line_type, quantity, unit_price, amount from {table} "
        "where invoice_date = date '2026-05-01' and line_type like '%minutes' order by invoice_line_id"
    )
    from callbill.warehouse import connect

    published = query(warehouse, usage_lines.format(table="published.invoice_lines"))
    assert {line[1] for line in published} == {"international_minutes", "toll_free_minutes", "included_minutes"}
    (cost,) = query(warehouse, "select sum(total_cost) from published.rated_calls")[0]
    with connect(warehouse) as con:
        con.execute("delete from marts.fct_rated_calls where invoice_date = date '2026-05-01'")
    result = close("2026-05")
    assert result.exit_code == 1
    assert (
        "published_calls_unchanged: 2026-05: the published rated calls changed since publication "
        f"(7 call(s) costing {cost:,.2f} when published; 0 costing 0.00 now)"
    ) in result.stderr
    assert query(warehouse, usage_lines.format(table="marts.fct_invoice_lines")) == published


def test_a_call_already_published_stops_publication_and_nothing_is_written(closed_may, warehouse):
    """No index guards a call against being published twice (one over every call costs more than
    the check): publication itself refuses a month one of whose calls is already published in
    another month, and rolls back."""
    from callbill.warehouse import connect
    from orchestration.defs.publish import PublicationError, publish_month

    with connect(warehouse) as con:
        # May as if never published, but one of its calls also on April's invoice, published.
        call_id = con.execute("select min(call_id) from published.rated_calls").fetchone()[0]
        for table in ("invoice_lines", "invoices", "invoice_months"):
            con.execute(f"delete from published.{table}")
        con.execute(
            "insert into marts.fct_rated_calls select * replace (date '2026-04-01' as invoice_date) "
            "from marts.fct_rated_calls where call_id = ?",
            [call_id],
        )
        con.execute(
            "insert into published.invoice_months (invoice_date, published_at, invoices, total) "
            "values (date '2026-04-01', now(), 0, 0)"
        )
        with pytest.raises(PublicationError, match=f"already published .*{call_id}"):
            publish_month(con, "2026-05")
    assert query(warehouse, "select count(*) from published.invoices") == [(0,)]
    assert query(warehouse, "select invoice_date::varchar, count(*) from published.rated_calls group by 1") == [
        ("2026-04-01", 1)
    ]


def test_a_call_written_twice_to_raw_blocks_the_close(landed_small):
    """Landing refuses a repeated call id (R-RATE-7); a row written to raw.cdrs some other way is
    caught by the month's uniqueness test before anything is published."""
    from callbill.warehouse import connect

    with connect(landed_small) as con:
        con.execute("insert into raw.cdrs select * from raw.cdrs where call_id = 'C1'")
    result = close("2026-05")
    assert result.exit_code == 1
    assert "close 2026-05 failed, nothing published: each_call_once_in_the_months_built" in result.stderr
    assert query(landed_small, "select count(*) from published.invoices")[0][0] == 0


def test_month_without_usf_factor_fails_naming_the_quarter(landed_small):
    result = close("2026-08")
    assert result.exit_code == 1
    assert "No USF contribution factor for 2026-Q3 (invoice month 2026-08)" in result.stderr
    assert query(landed_small, "select count(*) from published.invoices")[0][0] == 0


def test_an_unknown_plan_fails_the_close_publishes_nothing_and_is_listed_until_a_passing_close(warehouse, tmp_path):
    land_small_with(tmp_path, {"accounts/late_signup.csv": f"{ACCOUNT_HEADER}\n{UNKNOWN_PLAN_ACCOUNT}"})

    result = close("2026-05")

    assert result.exit_code == 1
    assert "close 2026-05 failed, nothing published: account_plan_is_known" in result.stderr
    # the failing row, so the team sees which plan to add or correct without reading the test's SQL
    assert "account_plan_is_known (1 failing row(s), e.g. {'from_field': 'platinum'})" in result.stderr
    assert query(warehouse, "select count(*) from published.invoices")[0][0] == 0
    assert query(warehouse, "select count(*) from published.invoice_lines")[0][0] == 0
    failures = query(
        warehouse,
        "select invoice_month, details->>'check', details->>'source' from audit.billing_events "
        "where event_type = 'check_failed'",
    )
    assert (date(2026, 5, 1), "account_plan_is_known", "dbt") in failures

    failing = CliRunner().invoke(main, ["status"])
    assert failing.exit_code == 0
    assert "2026-05  account_plan_is_known (dbt" in failing.output

    # The plan is corrected by a newer version of the account row; the next close passes and publishes.
    fixed = UNKNOWN_PLAN_ACCOUNT.replace("platinum", "basic").replace("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")
    land_small_with(tmp_path, {"accounts/late_signup_fixed.csv": f"{ACCOUNT_HEADER}\n{fixed}"})
    assert close("2026-05").exit_code == 0
    passing = CliRunner().invoke(main, ["status"]).output
    assert "open check failures: none" in passing
    assert "2026-05        4" in passing


def test_published_tables_have_the_columns_of_their_marts(closed_may, warehouse):
    landed_small = warehouse
    pairs = {"invoices": "fct_invoices", "invoice_lines": "fct_invoice_lines", "rated_calls": "fct_rated_calls"}
    for published, mart in pairs.items():
        columns = query(
            landed_small,
            "select table_schema, column_name, data_type from information_schema.columns "
            "where (table_schema, table_name) in (('published', ?), ('marts', ?)) order by ordinal_position",
            [published, mart],
        )
        published_cols = {(c, t) for s, c, t in columns if s == "published"}
        mart_cols = {(c, t) for s, c, t in columns if s == "marts"}
        # Every published column exists in the mart with the same type (marts may carry more).
        assert published_cols <= mart_cols, (published, published_cols - mart_cols)


# published.invoices as callbill created it before it carried the account (issue #25.8, #25.11).
INVOICE_COLUMNS_BEFORE = (
    "invoice_id, account_id, invoice_date, due_date, autopay_date, subtotal, tax_total, total, status, published_at"
)
PUBLISHED_INVOICES_BEFORE = """
create table published.invoices (
    invoice_id varchar not null primary key, account_id varchar not null, invoice_date date not null,
    due_date date not null, autopay_date date, subtotal decimal(18, 2) not null,
    tax_total decimal(18, 2) not null, total decimal(18, 2) not null, status varchar not null,
    published_at timestamp not null
)
"""


def published_invoice_columns(warehouse: Path) -> list[str]:
    return [
        c
        for (c,) in query(
            warehouse,
            "select column_name from information_schema.columns "
            "where table_schema = 'published' and table_name = 'invoices' order by ordinal_position",
        )
    ]


NEW_INVOICE_COLUMNS = ["account_name", "tax_exempt_certificate_id"]


def test_published_invoices_carry_the_account_name_and_exemption_certificate(closed_may, warehouse):
    # Finance reads the name and auditors the certificate (R-TAX-2) from the published invoice; the
    # columns readers had keep their places.
    assert published_invoice_columns(warehouse) == [*INVOICE_COLUMNS_BEFORE.split(", "), *NEW_INVOICE_COLUMNS]
    assert query(
        warehouse,
        "select invoice_id, account_name, tax_exempt_certificate_id, tax_total from published.invoices order by 1",
    ) == [
        ("INV-202605-ACC-1", "Acme", None, Decimal("7.63")),
        ("INV-202605-ACC-2", "Beta", None, Decimal("18.57")),
        ("INV-202605-ACC-3", "Gamma", "TX-EX-1", Decimal("0.00")),  # exempt: no tax line
    ]


def test_published_invoices_of_an_older_warehouse_get_the_new_columns_on_the_next_close(closed_may, warehouse):
    import duckdb

    with duckdb.connect(str(warehouse)) as con:  # not callbill's connect(), which would add them
        con.execute(f"create table main.before as select {INVOICE_COLUMNS_BEFORE} from published.invoices")
        con.execute("drop table published.invoices")
        con.execute(PUBLISHED_INVOICES_BEFORE)
        con.execute("insert into published.invoices select * from main.before")
        con.execute("drop table main.before")
    before = query(warehouse, "select * from published.invoices order by invoice_id")

    # May is closed again (reproduced: the new columns are not compared) and June published.
    result = close("2026-05..2026-06", "--accept-usage-gap", "no May calls in this fixture")
    assert result.exit_code == 0, result.output + result.stderr
    assert published_invoice_columns(warehouse) == [*INVOICE_COLUMNS_BEFORE.split(", "), *NEW_INVOICE_COLUMNS]
    rows = query(warehouse, "select * from published.invoices order by invoice_date, invoice_id")
    may, june = rows[:3], rows[3:]
    assert [r[:10] for r in may] == before  # published in May, never changed (R-INV-2)
    assert [r[10:] for r in may] == [(None, None)] * 3  # not published with them
    assert [(r[0], *r[10:]) for r in june] == [
        ("INV-202606-ACC-1", "Acme", None),
        ("INV-202606-ACC-2", "Beta", None),
        ("INV-202606-ACC-3", "Gamma", "TX-EX-1"),
    ]


def test_a_call_to_a_destination_without_a_rate_blocks_the_close(warehouse, tmp_path):
    land_small_with(
        tmp_path,
        {
            "cdrs/unknown_destination.csv": f"{CDR_HEADER}\n"
            "C990,ACC-1,outbound,+15125550100,+99912345678,2026-04-21T10:00:00Z,,60"
        },
    )
    result = close("2026-05")
    assert result.exit_code == 1
    assert "every_call_has_a_rate" in result.stderr
    assert query(warehouse, "select call_type, total_cost from marts.fct_rated_calls where call_id = 'C990'") == [
        ("unrated", Decimal("0E-8"))
    ]
    assert query(warehouse, "select count(*) from published.invoices")[0][0] == 0


def test_recipient_and_partner_problems_are_reported_but_the_account_is_billed(warehouse, tmp_path):
    """#25.10: a row that breaks the landing contract (six invoice emails) is quarantined with its
    reason; a warned check names the account and what it found in the close's output, status, the
    audit and the Close status page, and the account is billed."""
    six = ";".join(f"ap{i}@x.example" for i in range(6))
    gamma = "ACC-3,Gamma,US,OR,97201,unlimited,P-404,2025-06-01,2025-06-01,0,12,TX-EX-1,0,false"
    land_small_with(
        tmp_path,
        {
            "accounts/recipients.csv": f"{ACCOUNT_HEADER}\n"
            # and a partner that never landed: no commission until it does, a warning too
            f"{gamma},ap@x.example;accounts-payable,ap@x.example,,2026-01-01T00:00:00Z\n"
            f"{gamma},{six},ap@x.example,,2026-01-02T00:00:00Z"
        },
    )
    assert query(
        warehouse, "select line_number, reason from raw.quarantine where file_path like '%recipients.csv'"
    ) == [(3, "invoice_emails: 6 addresses, at most 5")]

    result = close("2026-05")

    assert result.exit_code == 0, result.stderr
    lines = result.output.splitlines()
    warned = next(i for i, line in enumerate(lines) if line.startswith("checks warned"))
    assert lines[warned] == "checks warned      2 (account_partner_is_known, invoice_recipients_are_valid)"
    found = "\n".join(lines[warned + 1 : warned + 5])
    assert "  invoice_recipients_are_valid: 1 row(s)\n" in found
    assert "'account_id': 'ACC-3'" in found and "'problem': 'an invoice email is not an address'" in found
    assert "  account_partner_is_known: 1 row(s)\n" in found and "'partner_id': 'P-404'" in found
    assert query(warehouse, "select count(*) from published.invoices where account_id = 'ACC-3'")[0][0] == 1
    audit = query(
        warehouse,
        "select details->>'check', details->'first_failing_rows'->0->>'account_id' from audit.billing_events "
        "where event_type = 'check_warned' order by 1",
    )
    assert audit == [("account_partner_is_known", "ACC-3"), ("invoice_recipients_are_valid", "ACC-3")]
    status = CliRunner().invoke(main, ["status"]).output
    # By check name, whichever of dbt's two threads recorded its warning first.
    first = "\nwarnings of each month's latest close\n  2026-05  account_partner_is_known: 1 row(s) (dbt, "
    assert status.index("\n  2026-05  invoice_recipients_are_valid: 1 row(s) (dbt, ") > status.index(first)
    assert "'problem': 'an invoice email is not an address'" in status
    from streamlit.testing.v1 import AppTest

    page = AppTest.from_file(str(REPO_ROOT / "callbill" / "dashboards" / "app.py"), default_timeout=60)
    page.query_params["page"] = "Close status"
    page.run()
    warnings = page.table[-1].value
    assert sorted(warnings.index) == ["account_partner_is_known", "invoice_recipients_are_valid"]
    assert all("account_id = ACC-3" in row for row in warnings["first_failing_row"])


def test_a_failing_gx_expectation_blocks_publication_with_its_rows_and_audit(warehouse, tmp_path):
    land_small_with(
        tmp_path,
        {"cdrs/spoofed.csv": f"{CDR_HEADER}\nC950,ACC-3,outbound,+13125559999,+13125551234,2026-04-21T10:00:00Z,,60"},
    )

    result = close("2026-05")

    assert result.exit_code == 1
    assert "close 2026-05 failed, nothing published: gx_revenue_assurance" in result.stderr
    assert "outbound calls from numbers that belong to no account: 1 failing row(s)" in result.stderr
    assert "'example_unknown_number': '+13125559999'" in result.stderr
    assert query(warehouse, "select count(*) from published.invoices")[0][0] == 0
    audit = query(
        warehouse,
        "select details->>'suite', details->>'check', details->>'failing_rows' from audit.billing_events "
        "where event_type = 'check_failed'",
    )
    assert audit == [("revenue_assurance", "outbound calls from numbers that belong to no account", "1")]
    (finished,) = query(warehouse, "select details from audit.billing_events where event_type = 'close_finished'")
    assert json.loads(finished[0])["failed_checks"] == ["gx_revenue_assurance"]
    # #25.3: the readers' snapshot is refreshed after the failed close and its Close status page says so.
    from streamlit.testing.v1 import AppTest

    page = AppTest.from_file(str(REPO_ROOT / "callbill" / "dashboards" / "app.py"), default_timeout=60)
    page.query_params["page"] = "Close status"
    page.run()
    assert not page.exception
    (said,) = [e.value for e in page.error]
    assert said.startswith("The close of 2026-05 (") and said.endswith(" UTC) failed: nothing published.")
    failing = page.table[-1].value
    assert list(failing.index) == ["outbound calls from numbers that belong to no account"]
    assert list(failing["failing_rows"]) == ["1"]
    assert "example_unknown_number = +13125559999, " in failing["first_failing_row"].iloc[0]


def test_a_re_close_does_not_judge_published_calls_again(closed_may, warehouse, tmp_path):
    """May's calls were checked (revenue assurance) when May was published and never change
    (R-INV-2). ACC-1's number +15125550100, which made them, is ported to a new number
    afterwards: re-closing May reproduces it instead of failing on calls from a number that is no
    longer the account's."""
    items = tmp_path / "ported" / "subscription_items"
    items.mkdir(parents=True)
    (items / "ported.csv").write_text(
        "item_id,account_id,product_code,quantity,phone_number,extension,low_usage,start_date,end_date,updated_at\n"
        "IT-2,ACC-1,DID_LOCAL,1,+15125550111,,false,2025-01-01,,2026-06-03T00:00:00Z\n"
    )
    assert CliRunner().invoke(main, ["land", str(tmp_path / "ported")]).exit_code == 0
    before = query(warehouse, "select * from published.invoices order by invoice_id")

    result = close("2026-05")

    assert result.exit_code == 0, result.stderr
    assert "reproduced unchanged" in result.output
    assert query(warehouse, "select count(*) from audit.billing_events where event_type = 'check_failed'") == [(0,)]
    assert query(warehouse, "select * from published.invoices order by invoice_id") == before


def test_a_low_usage_phone_started_last_month_is_discounted_for_both_months(warehouse, tmp_path):
    # R-LOWUSE-1 with R-PRORATE-3: 19 desk phones and one declared low-usage phone from 11 April,
    # honoured (allowance 1): May's invoice bills April's 19 days of it at the low-usage price too.
    account = (
        "ACC-L,Lima,US,TX,78701,basic,,2025-01-01,2025-01-01,0,12,,1,false,l@x.example,l@x.example,,"
        "2025-01-01T00:00:00Z"
    )
    items = (
        "item_id,account_id,product_code,quantity,phone_number,extension,low_usage,start_date,end_date,updated_at\n"
        "IT-L1,ACC-L,PHONE_DESK,19,,301,false,2025-01-01,,2025-01-01T00:00:00Z\n"
        "IT-L2,ACC-L,PHONE_DESK,1,,320,true,2026-04-11,,2026-04-11T00:00:00Z"
    )
    land_small_with(
        tmp_path, {"accounts/lima.csv": f"{ACCOUNT_HEADER}\n{account}", "subscription_items/lima.csv": items}
    )

    result = close("2026-05")

    assert result.exit_code == 0, result.stderr  # every item on one line per charge (R-INV-3)
    lines = query(
        warehouse,
        "select line_type, description, amount::varchar from published.invoice_lines "
        "where invoice_id = 'INV-202605-ACC-L' and line_type in ('prorated_charges', 'low_usage_discount') "
        "order by line_type, amount",
    )
    assert lines == [
        ("low_usage_discount", "Low-usage discount: Desk phone × 1, May 2026", "-12.00"),
        ("low_usage_discount", "Low-usage discount: Desk phone × 1, 19 days of April 2026", "-7.60"),
        ("prorated_charges", "Desk phone × 1, 19 days of April 2026", "15.80"),
    ]


def test_prorated_rental_and_seat_are_out_of_the_usf_base_and_a_prorated_rental_earns_no_commission(
    warehouse, tmp_path
):
    """R-USF-1 and R-COMM-5 as amended 2026-12-06: a prorated line counts as its product's full month.
    ACC-M (Texas, partner P-001 at 15 %) has 2 desk phones all year, and from 11 April one more desk
    phone, a local number, a rental phone and 2 contact-center seats: May's invoice carries
    30 - 11 = 19 days of April for each (R-PRORATE-3) beside their first full month."""
    account = (
        "ACC-M,Mike,US,TX,78701,basic,P-001,2025-01-01,2025-01-01,0,12,,0,false,m@x.example,m@x.example,,"
        "2025-01-01T00:00:00Z"
    )
    items = (
        "item_id,account_id,product_code,quantity,phone_number,extension,low_usage,start_date,end_date,updated_at\n"
        "IT-M1,ACC-M,PHONE_DESK,2,,401,false,2025-01-01,,2025-01-01T00:00:00Z\n"
        "IT-M2,ACC-M,PHONE_DESK,1,,402,false,2026-04-11,,2026-04-11T00:00:00Z\n"
        "IT-M3,ACC-M,DID_LOCAL,1,+15125550177,,false,2026-04-11,,2026-04-11T00:00:00Z\n"
        "IT-M4,ACC-M,RENTAL_PHONE,1,,,false,2026-04-11,,2026-04-11T00:00:00Z\n"
        "IT-M5,ACC-M,CC_SEAT,2,,,false,2026-04-11,,2026-04-11T00:00:00Z"
    )
    land_small_with(
        tmp_path, {"accounts/mike.csv": f"{ACCOUNT_HEADER}\n{account}", "subscription_items/mike.csv": items}
    )

    result = close("2026-05")

    assert result.exit_code == 0, result.stderr
    prorated = {
        code: cents(Decimal(price) * quantity * 19 / 30)
        for code, price, quantity in (
            ("PHONE_DESK", "24.95", 1),
            ("DID_LOCAL", "4.95", 1),
            ("RENTAL_PHONE", "6.95", 1),
            ("CC_SEAT", "39.95", 2),
        )
    }
    assert prorated == {
        "PHONE_DESK": Decimal("15.80"),
        "DID_LOCAL": Decimal("3.14"),  # 3.135 exactly, half up
        "RENTAL_PHONE": Decimal("4.40"),
        "CC_SEAT": Decimal("50.60"),
    }
    desks, number, rental, seats = 3 * Decimal("24.95"), Decimal("4.95"), Decimal("6.95"), 2 * Decimal("39.95")
    lines = query(
        warehouse,
        "select line_type, product_code, amount from published.invoice_lines where invoice_id = 'INV-202605-ACC-M' "
        "and line_type not in ('usf', 'rrf', 'slrrf', 'tax')",
    )
    assert sorted(lines) == sorted(
        [
            ("service_fee", "PHONE_DESK", desks),
            ("phone_numbers", "DID_LOCAL", number),
            ("rental_equipment", "RENTAL_PHONE", rental),
            ("contact_center", "CC_SEAT", seats),
            *(("prorated_charges", code, amount) for code, amount in prorated.items()),
        ]
    )

    # The invoice's USF line: the prorated desk phone and number are in the base, as their full months
    # are; the prorated rental phone and seats are not (nor are their full months).
    usf_base = desks + number + prorated["PHONE_DESK"] + prorated["DID_LOCAL"]
    usf = cents(USF_2026_Q2 * SAFE_HARBOR * usf_base)
    assert (usf_base, usf) == (Decimal("98.74"), Decimal("23.71"))  # to the letter of the old rule: 153.74, 36.92
    assert query(
        warehouse,
        "select quantity, amount from published.invoice_lines "
        "where invoice_id = 'INV-202605-ACC-M' and line_type = 'usf'",
    ) == [(usf_base, usf)]

    # The Python oracle reads the amended rules the same way, for every invoice of the month.
    landing = tmp_path / "landing"
    oracle_usf = expected_usf(landing, date(2026, 5, 1))
    assert oracle_usf["INV-202605-ACC-M"] == (usf_base, usf)
    assert dict(query(warehouse, "select invoice_id, total from published.invoices")) == expected_invoice_totals(
        landing, date(2026, 5, 1)
    )

    # The USF liability report (Form 499-Q) has the same base: the sum of the invoices' bases.
    quarter_base = sum((base for base, _ in oracle_usf.values()), Decimal(0))
    quarter_billed = sum((amount for _, amount in oracle_usf.values()), Decimal(0))
    assert query(
        warehouse,
        "select usf_base, usf_billed, usf_liability, invoices from marts.rpt_usf_liability where quarter = '2026-Q2'",
    ) == [(quarter_base, quarter_billed, cents(USF_2026_Q2 * SAFE_HARBOR * quarter_base), 4)]

    # R-COMM-5: the prorated seats earn (a seat's month does), the rental phone's month and its
    # prorated days do not.
    basis = desks + number + seats + prorated["PHONE_DESK"] + prorated["DID_LOCAL"] + prorated["CC_SEAT"]
    residual = cents(Decimal("0.15") * basis)
    assert (basis, residual) == (Decimal("229.24"), Decimal("34.39"))  # with the prorated rental: 233.64, 35.05
    residuals = query(
        warehouse,
        "select invoice_id, partner_id, basis_amount, amount from marts.fct_commissions "
        "where commission_type = 'residual' order by invoice_id",
    )
    assert residuals == [
        ("INV-202605-ACC-2", "P-001", *expected_residuals(landing, date(2026, 5, 1))["INV-202605-ACC-2"][1:]),
        ("INV-202605-ACC-M", "P-001", basis, residual),
    ]
    assert expected_residuals(landing, date(2026, 5, 1))["INV-202605-ACC-M"] == ("P-001", basis, residual)
