from datetime import date

import pytest

from callbill.months import FIRST_INVOICE_MONTH, dbt_vars_for_invoice_months, last_invoice_month, parse_invoice_month
from orchestration.defs.partitions import invoice_months


def test_one_partition_maps_to_its_invoice_date():
    assert dbt_vars_for_invoice_months("2026-05", "2026-05") == {
        "invoice_month_start": "2026-05-01",
        "invoice_month_end": "2026-05-01",
    }


def test_backfill_range_maps_to_first_and_last_invoice_dates():
    assert dbt_vars_for_invoice_months("2025-11", "2026-02") == {
        "invoice_month_start": "2025-11-01",
        "invoice_month_end": "2026-02-01",
    }


def test_reversed_range_is_refused():
    with pytest.raises(ValueError, match="ends before it starts: 2026-03..2026-01"):
        dbt_vars_for_invoice_months("2026-03", "2026-01")


@pytest.mark.parametrize("bad", ["2026-5-01", "May 2026", "2026-13", "", "2026-5", "2023-12", "2099-01"])
def test_bad_month_is_refused_with_the_expected_format(bad):
    with pytest.raises(ValueError, match="invoice month must be YYYY-MM"):
        parse_invoice_month(bad)


def test_partition_keys_are_invoice_months():
    keys = invoice_months.get_partition_keys_in_range(
        invoice_months.get_partition_key_range_for_time_window(invoice_months.time_window_for_partition_key("2026-04"))
    )
    assert keys == ["2026-04"]
    assert parse_invoice_month(invoice_months.get_first_partition_key()) == date(2024, 1, 1)


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
    assert (keys[0], keys[-1]) == (FIRST_INVOICE_MONTH, last_invoice_month())
    assert last_invoice_month() == date.today().strftime("%Y-%m")
