from datetime import date

import pytest

from callbill.months import (
    DEFAULT_FIRST_INVOICE_MONTH,
    dbt_vars_for_invoice_months,
    describe_invoice_month,
    first_invoice_month,
    last_invoice_month,
    parse_invoice_month,
)
from orchestration.defs.partitions import INVOICE_MONTH_TAG, invoice_months


def test_one_partition_maps_to_its_invoice_date():
    assert dbt_vars_for_invoice_months("2026-05", "2026-05") == {
        "invoice_month_start": "2026-05-01",
        "invoice_month_end": "2026-05-01",
    }


def test_backfill_range_maps_to_first_and_last_invoice_dates(monkeypatch):
    monkeypatch.setenv("CALLBILL_FIRST_INVOICE_MONTH", "2025-01")
    assert dbt_vars_for_invoice_months("2025-11", "2026-02") == {
        "invoice_month_start": "2025-11-01",
        "invoice_month_end": "2026-02-01",
    }


def test_reversed_range_is_refused():
    with pytest.raises(ValueError, match="ends before it starts: 2026-03..2026-01"):
        dbt_vars_for_invoice_months("2026-03", "2026-01")


@pytest.mark.parametrize("bad", ["2026-5-01", "May 2026", "2026-13", "", "2026-5", "2025-12", "2099-01"])
def test_bad_month_is_refused_with_the_expected_format(bad):
    with pytest.raises(ValueError, match="invoice month must be YYYY-MM"):
        parse_invoice_month(bad)


def test_partition_keys_are_invoice_months():
    keys = invoice_months.get_partition_keys_in_range(
        invoice_months.get_partition_key_range_for_time_window(invoice_months.time_window_for_partition_key("2026-04"))
    )
    assert keys == ["2026-04"]
    assert parse_invoice_month(invoice_months.get_first_partition_key()) == date(2026, 1, 1)


def test_close_accepts_a_month_or_a_backfill_range():
    from callbill.months import parse_invoice_month_range

    assert parse_invoice_month_range("2026-05") == ("2026-05", "2026-05")
    assert parse_invoice_month_range("2026-02..2026-04") == ("2026-02", "2026-04")
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_invoice_month_range("2026-04..2026-02")
    with pytest.raises(ValueError, match="invoice month must be YYYY-MM"):
        parse_invoice_month_range("2026-02..April")


def test_the_months_the_cli_accepts_are_the_partitions_dagster_shows():
    keys = invoice_months.get_partition_keys()
    assert (keys[0], keys[-1]) == (first_invoice_month(), last_invoice_month())
    assert first_invoice_month() == DEFAULT_FIRST_INVOICE_MONTH == "2026-01"
    assert last_invoice_month() == date.today().strftime("%Y-%m")


def test_the_first_invoice_month_is_a_setting_with_a_clear_error(monkeypatch):
    """The range starts at the months that can be closed (#25.7), not at a fixed 2024-01."""
    monkeypatch.setenv("CALLBILL_FIRST_INVOICE_MONTH", "2024-03")
    assert parse_invoice_month("2024-03") == date(2024, 3, 1)
    with pytest.raises(ValueError, match=r"from 2024-03 \(CALLBILL_FIRST_INVOICE_MONTH\) to .*, got '2024-02'"):
        parse_invoice_month("2024-02")
    monkeypatch.setenv("CALLBILL_FIRST_INVOICE_MONTH", "March 2024")
    with pytest.raises(ValueError, match="CALLBILL_FIRST_INVOICE_MONTH must be the first invoice month as YYYY-MM"):
        parse_invoice_month("2026-05")
    monkeypatch.setenv("CALLBILL_FIRST_INVOICE_MONTH", "2099-01")
    with pytest.raises(ValueError, match="CALLBILL_FIRST_INVOICE_MONTH=2099-01 is after the current month"):
        first_invoice_month()


def test_a_partition_says_what_it_means_where_it_is_picked():
    assert describe_invoice_month("2026-05") == (
        "2026-05: invoices dated 1 May 2026 — May's recurring charges, April's usage"
    )
    assert describe_invoice_month("2027-01") == (
        "2027-01: invoices dated 1 January 2027 — January's recurring charges, December 2026's usage"
    )
    # The Launchpad asks the job for a partition's tags when one is picked; the run keeps them.
    from orchestration.definitions import defs

    for job in ("month_end_close", "autopay_run", "commission_payout"):
        tags = defs.resolve_job_def(job).get_tags_for_partition_key("2026-05", selected_asset_keys=None)
        assert tags[INVOICE_MONTH_TAG] == describe_invoice_month("2026-05"), job
        assert "2026-05 = invoices dated 1 May 2026" in defs.resolve_job_def(job).description, job
